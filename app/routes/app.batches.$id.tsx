import { useEffect, useState } from "react";
import { json, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Badge, Banner, BlockStack, Card, InlineStack, Layout, Page, ProgressBar, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { BatchGallery } from "~/components/batch/BatchGallery";
import { RetryFailedImages } from "~/components/batch/RetryFailedImages";
import galleryStyles from "~/components/batch/batch-gallery.css?url";
import { originalImageUrls, resultRetentionDays } from "~/models/stored-images.server";
import { downloadAuthenticated } from "~/components/batch/useAuthenticatedObjectUrl";
import { useToastingFetcher } from "~/components/batch/useToastingFetcher";
import { RouteError } from "~/components/RouteError";
import { useRevalidateWhile } from "~/components/useRevalidateWhile";
import { useEtaText, useFormat } from "~/i18n/format";
import db from "~/db.server";
import { getPipeline, isPipelineId } from "~/imaging/pipelines";
import { getBatchProgress } from "~/models/batches.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { groupVersions, isFailedToRetry } from "~/models/versions";
import { authenticate } from "~/shopify.server";

export const links = () => [{ rel: "stylesheet", href: galleryStyles }];

/** How often the page asks for progress while the worker is busy. */
const POLL_MS = 2000;

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const progress = await getBatchProgress(db, session.shop, params.id ?? "");
  if (!progress) throw json({ message: "This batch was not found." }, { status: 404 });
  const pipelineLabel = isPipelineId(progress.batch.pipeline) ? getPipeline(progress.batch.pipeline).label : progress.batch.pipeline;
  const originals = await originalImageUrls(
    db,
    session.shop,
    progress.items.map((i) => i.mediaId),
  );
  const items = progress.items.map((item) => ({ ...item, originalUrl: originals[item.mediaId] ?? item.sourceUrl }));
  const failedToRetry = progress.items.filter((item) => groupVersions(item.versions).some(isFailedToRetry)).length;
  return json({
    ...progress,
    items,
    failedToRetry,
    pipelineLabel,
    retentionDays: resultRetentionDays(),
    creditsPerImage: CREDITS_PER_IMAGE,
  });
};

export default function BatchPage() {
  const data = useLoaderData<typeof loader>();
  const shopify = useAppBridge();
  const { t } = useTranslation();
  const format = useFormat();
  const etaText = useEtaText();
  const restoreAll = useToastingFetcher();
  const [confirmRestore, setConfirmRestore] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const { batch, counts, done, total } = data;
  const working = counts.QUEUED + counts.PROCESSING + data.restoring > 0;

  // Live progress: re-run the loader while the worker still has items of this batch.
  useRevalidateWhile(working, POLL_MS);

  useEffect(() => {
    if (restoreAll.state === "idle" && restoreAll.data) setConfirmRestore(false);
  }, [restoreAll.state, restoreAll.data]);

  const percent = total === 0 ? 100 : Math.round((done / total) * 100);
  const eta = working ? etaText(data.etaSeconds) : null;
  const summary = [
    t("batch.summary.done", { done, total }),
    counts.PUBLISHED ? t("batch.summary.published", { count: counts.PUBLISHED }) : null,
    counts.NEEDS_REVIEW ? t("batch.summary.review", { count: counts.NEEDS_REVIEW }) : null,
    counts.FAILED ? t("batch.summary.failed", { count: counts.FAILED }) : null,
    counts.RESTORED ? t("batch.summary.restored", { count: counts.RESTORED }) : null,
    data.restoring ? t("batch.summary.restoring", { count: data.restoring }) : null,
    counts.REJECTED ? t("batch.summary.rejected", { count: counts.REJECTED }) : null,
    counts.PROCESSING ? t("batch.summary.processing", { count: counts.PROCESSING }) : null,
    counts.QUEUED ? t("batch.summary.queued", { count: counts.QUEUED }) : null,
  ]
    .filter(Boolean)
    .join(" · ");
  const processedCount = counts.PUBLISHED + counts.NEEDS_REVIEW + counts.RESTORED;
  const restorable = counts.PUBLISHED - data.restoring;
  const pipelineLabel = isPipelineId(batch.pipeline) ? t(`pipelines.${batch.pipeline}.label`) : data.pipelineLabel;
  const statusBadge =
    batch.status === "DONE" ? (
      <Badge tone="success">{t("batches.status.done")}</Badge>
    ) : batch.status === "CANCELLED" ? (
      <Badge>{t("batches.status.cancelled")}</Badge>
    ) : (
      <Badge tone="info">{t("batches.status.active")}</Badge>
    );

  const download = async () => {
    setDownloading(true);
    try {
      await downloadAuthenticated(`/app/batches/${encodeURIComponent(batch.id)}/zip`, `batch-${batch.id}.zip`);
    } catch (error) {
      shopify.toast.show((error as Error).message, { isError: true });
    } finally {
      setDownloading(false);
    }
  };

  return (
    <Page
      title={t("batch.title", { pipeline: pipelineLabel })}
      titleMetadata={statusBadge}
      subtitle={t("batch.started", { date: format.dateTime(batch.createdAt) })}
      backAction={{ content: t("nav.batches"), url: "/app/batches" }}
      secondaryActions={[
        { content: t("batch.downloadZip"), onAction: download, loading: downloading, disabled: processedCount === 0 || downloading },
        {
          content: t("batch.restoreAll"),
          destructive: true,
          disabled: restorable === 0,
          onAction: () => setConfirmRestore(true),
        },
      ]}
    >
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {confirmRestore ? (
              <Banner
                tone="warning"
                title={t("batch.confirmRestore", { count: restorable })}
                action={{
                  content: t("batch.restoreOriginals"),
                  loading: restoreAll.state !== "idle",
                  onAction: () =>
                    restoreAll.submit(null, { method: "post", action: `/app/batches/${encodeURIComponent(batch.id)}/restore` }),
                }}
                secondaryAction={{ content: t("batch.keepProcessed"), onAction: () => setConfirmRestore(false) }}
                onDismiss={() => setConfirmRestore(false)}
              >
                <p>{t("batch.restoreBody")}</p>
              </Banner>
            ) : null}
            <Card>
              <BlockStack gap="300">
                <InlineStack align="space-between" blockAlign="center">
                  <Text as="h2" variant="headingMd">
                    {t("batch.progress")}
                  </Text>
                  <Text as="span" tone="subdued">
                    {eta ?? (working ? t("batch.estimating") : batch.status === "DONE" ? t("batch.finished") : "")}
                  </Text>
                </InlineStack>
                <ProgressBar progress={percent} tone={counts.FAILED > 0 && !working ? "critical" : "primary"} animated={working} />
                <div data-testid="batch-summary">
                  <Text as="p">{summary}</Text>
                </div>
                <Text as="p" tone="subdued" variant="bodySm">
                  {batch.creditsReserved
                    ? t("batch.creditsReserved", { used: batch.creditsUsed, reserved: batch.creditsReserved })
                    : t("batch.credits", { used: batch.creditsUsed })}
                </Text>
                <Text as="p" tone="subdued" variant="bodySm">
                  {t("batch.retention", { count: data.retentionDays })}
                </Text>
                <RetryFailedImages batchId={batch.id} count={data.failedToRetry} creditsPerImage={data.creditsPerImage} />
              </BlockStack>
            </Card>
            {counts.NEEDS_REVIEW > 0 ? (
              <Banner tone="info" title={t("batch.reviewTitle", { count: counts.NEEDS_REVIEW })}>
                <p>{t("batch.reviewBody")}</p>
              </Banner>
            ) : null}
            <BatchGallery
              batchId={batch.id}
              items={data.items}
              batch={{ pipeline: batch.pipeline, settings: batch.settings }}
              creditsPerImage={data.creditsPerImage}
            />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  const { t } = useTranslation();
  return <RouteError title={t("batch.errorTitle")} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
