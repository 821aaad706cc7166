import { useEffect, useState } from "react";
import { json, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Badge, Banner, BlockStack, Card, InlineStack, Layout, Page, ProgressBar, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { BatchGallery } from "~/components/batch/BatchGallery";
import galleryStyles from "~/components/batch/batch-gallery.css?url";
import type { BatchItemView } from "~/components/batch/item-view";
import { originalImageUrls, resultRetentionDays } from "~/models/stored-images.server";
import { formatEta } from "~/components/batch/report-model";
import { downloadAuthenticated } from "~/components/batch/useAuthenticatedObjectUrl";
import { RouteError } from "~/components/RouteError";
import { useRevalidateWhile } from "~/components/useRevalidateWhile";
import prisma from "~/db.server";
import { getPipeline, isPipelineId } from "~/imaging/pipelines";
import { getBatchProgress } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

export const links = () => [{ rel: "stylesheet", href: galleryStyles }];

/** How often the page asks for progress while the worker is busy. */
const POLL_MS = 2000;

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const progress = await getBatchProgress(prisma, session.shop, params.id ?? "");
  if (!progress) throw json({ message: "This batch was not found." }, { status: 404 });
  const pipelineLabel = isPipelineId(progress.batch.pipeline) ? getPipeline(progress.batch.pipeline).label : progress.batch.pipeline;
  const originals = await originalImageUrls(prisma, session.shop, progress.items.map((i) => i.mediaId));
  const items = progress.items.map((item) => ({ ...item, originalUrl: originals[item.mediaId] ?? item.sourceUrl }));
  return json({ ...progress, items, pipelineLabel, retentionDays: resultRetentionDays() });
};

export default function BatchPage() {
  const data = useLoaderData<typeof loader>();
  const shopify = useAppBridge();
  const restoreAll = useFetcher<{ ok?: boolean; message?: string; error?: string }>();
  const [confirmRestore, setConfirmRestore] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const { batch, counts, done, total } = data;
  const working = counts.QUEUED + counts.PROCESSING + data.restoring > 0;

  // Live progress: re-run the loader while the worker still has items of this batch.
  useRevalidateWhile(working, POLL_MS);

  useEffect(() => {
    if (restoreAll.state !== "idle" || !restoreAll.data) return;
    if (restoreAll.data.error) shopify.toast.show(restoreAll.data.error, { isError: true });
    else if (restoreAll.data.message) shopify.toast.show(restoreAll.data.message);
    setConfirmRestore(false);
  }, [restoreAll.state, restoreAll.data, shopify]);

  const percent = total === 0 ? 100 : Math.round((done / total) * 100);
  const eta = working ? formatEta(data.etaSeconds) : null;
  const summary = [
    `${done} of ${total} done`,
    counts.PUBLISHED ? `${counts.PUBLISHED} published` : null,
    counts.NEEDS_REVIEW ? `${counts.NEEDS_REVIEW} need${counts.NEEDS_REVIEW === 1 ? "s" : ""} review` : null,
    counts.FAILED ? `${counts.FAILED} failed` : null,
    counts.RESTORED ? `${counts.RESTORED} restored` : null,
    data.restoring ? `${data.restoring} being restored` : null,
    counts.REJECTED ? `${counts.REJECTED} rejected` : null,
    counts.PROCESSING ? `${counts.PROCESSING} processing` : null,
    counts.QUEUED ? `${counts.QUEUED} queued` : null,
  ]
    .filter(Boolean)
    .join(" · ");
  const processedCount = counts.PUBLISHED + counts.NEEDS_REVIEW + counts.RESTORED;
  const statusBadge =
    batch.status === "DONE" ? (
      <Badge tone="success">Done</Badge>
    ) : batch.status === "CANCELLED" ? (
      <Badge>Cancelled</Badge>
    ) : (
      <Badge tone="info">In progress</Badge>
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
      title={`Batch: ${data.pipelineLabel}`}
      titleMetadata={statusBadge}
      subtitle={`Started ${new Date(batch.createdAt).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" })}`}
      backAction={{ content: "Batches", url: "/app/batches" }}
      secondaryActions={[
        { content: "Download ZIP", onAction: download, loading: downloading, disabled: processedCount === 0 || downloading },
        {
          content: "Restore all originals",
          destructive: true,
          disabled: counts.PUBLISHED - data.restoring === 0,
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
                title={`Put back the original of ${counts.PUBLISHED - data.restoring} published image${counts.PUBLISHED - data.restoring === 1 ? "" : "s"}?`}
                action={{
                  content: "Restore originals",
                  loading: restoreAll.state !== "idle",
                  onAction: () =>
                    restoreAll.submit(null, { method: "post", action: `/app/batches/${encodeURIComponent(batch.id)}/restore` }),
                }}
                secondaryAction={{ content: "Keep processed images", onAction: () => setConfirmRestore(false) }}
                onDismiss={() => setConfirmRestore(false)}
              >
                <p>The products get their original images back in the same positions. Credits already used are not refunded.</p>
              </Banner>
            ) : null}
            <Card>
              <BlockStack gap="300">
                <InlineStack align="space-between" blockAlign="center">
                  <Text as="h2" variant="headingMd">
                    Progress
                  </Text>
                  <Text as="span" tone="subdued">
                    {eta ?? (working ? "Estimating time left…" : batch.status === "DONE" ? "Finished" : "")}
                  </Text>
                </InlineStack>
                <ProgressBar progress={percent} tone={counts.FAILED > 0 && !working ? "critical" : "primary"} animated={working} />
                <div data-testid="batch-summary">
                  <Text as="p">{summary}</Text>
                </div>
                <Text as="p" tone="subdued" variant="bodySm">
                  {`Credits used: ${batch.creditsUsed}${batch.creditsReserved ? ` · reserved for images in progress: ${batch.creditsReserved}` : ""}. Failed or rejected images are not charged.`}
                </Text>
                <Text as="p" tone="subdued" variant="bodySm">
                  {`Processed images can be downloaded for ${data.retentionDays} days after they were made. Your originals are backed up in Shopify Files and can be restored for as long as the app is installed.`}
                </Text>
              </BlockStack>
            </Card>
            {counts.NEEDS_REVIEW > 0 ? (
              <Banner tone="info" title={`${counts.NEEDS_REVIEW} image${counts.NEEDS_REVIEW === 1 ? " is" : "s are"} waiting for your review`}>
                <p>Compare each one with its original, then approve it to replace the product image, or reject it to keep the original. Tick several to approve or reject them together.</p>
              </Banner>
            ) : null}
            <BatchGallery batchId={batch.id} items={data.items as BatchItemView[]} batch={{ pipeline: batch.pipeline, settings: batch.settings }} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  return <RouteError title="Batch" />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
