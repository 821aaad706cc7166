import { json, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData, useNavigate, useNavigation, useSearchParams } from "@remix-run/react";
import { Badge, BlockStack, Card, EmptyState, IndexTable, InlineStack, Layout, Page, Pagination, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import { RouteError } from "~/components/RouteError";
import { useFormat } from "~/i18n/format";
import { useStoredText } from "~/i18n/messages";
import type { MerchantMessage } from "~/lib/merchant-message";
import db from "~/db.server";
import { getPipeline, isPipelineId } from "~/imaging/pipelines";
import { listBatches } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

const PAGE_SIZE = 25;
const searchSchema = z.object({ cursor: z.string().uuid().optional().catch(undefined) });

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { cursor } = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const page = await listBatches(db, session.shop, { cursor, take: PAGE_SIZE });
  return json({
    batches: page.batches.map((b) => ({
      ...b,
      pipelineLabel: isPipelineId(b.pipeline) ? getPipeline(b.pipeline).label : b.pipeline,
    })),
    nextCursor: page.nextCursor,
  });
};

function StatusBadge({ status, failed }: { status: string; failed: number }) {
  const { t } = useTranslation();
  if (status === "ACTIVE") return <Badge tone="info">{t("batches.status.active")}</Badge>;
  if (status === "CANCELLED") return <Badge>{t("batches.status.cancelled")}</Badge>;
  if (failed > 0) return <Badge tone="warning">{t("batches.status.doneWithFailures")}</Badge>;
  return <Badge tone="success">{t("batches.status.done")}</Badge>;
}

export default function BatchesPage() {
  const { batches, nextCursor } = useLoaderData<typeof loader>();
  const navigate = useNavigate();
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const onFirstPage = !searchParams.get("cursor");
  const { t } = useTranslation();
  const format = useFormat();
  const storedText = useStoredText();

  if (batches.length === 0 && onFirstPage) {
    return (
      <Page title={t("batches.title")}>
        <Card>
          <EmptyState
            heading={t("batches.emptyHeading")}
            action={{ content: t("batches.emptyAction"), url: "/app" }}
            image="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
          >
            <p>{t("batches.emptyBody")}</p>
          </EmptyState>
        </Card>
      </Page>
    );
  }

  const rows = batches.map((batch, index) => (
    <IndexTable.Row id={batch.id} key={batch.id} position={index} onClick={() => navigate(`/app/batches/${batch.id}`)}>
      <IndexTable.Cell>
        <BlockStack gap="100">
          <InlineStack gap="200" blockAlign="center">
            <Text as="span" fontWeight="semibold">
              {format.dateTime(batch.createdAt)}
            </Text>
            {batch.origin === "NEW_PRODUCTS" ? <Badge tone="info">{t("batches.origin.newProducts")}</Badge> : null}
            {batch.origin === "CATALOG" ? <Badge tone="info">{t("batches.origin.catalog")}</Badge> : null}
          </InlineStack>
          {batch.note ? (
            <Text as="p" tone="caution">
              {storedText(batch.noteMessage as MerchantMessage | null, batch.note)}
            </Text>
          ) : null}
        </BlockStack>
      </IndexTable.Cell>
      <IndexTable.Cell>{isPipelineId(batch.pipeline) ? t(`pipelines.${batch.pipeline}.label`) : batch.pipelineLabel}</IndexTable.Cell>
      <IndexTable.Cell>
        <StatusBadge status={batch.status} failed={batch.failed} />
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {format.number(batch.total)}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {format.number(batch.published)}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric tone={batch.failed > 0 ? "critical" : undefined}>
          {format.number(batch.failed)}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {format.number(batch.creditsUsed)}
        </Text>
      </IndexTable.Cell>
    </IndexTable.Row>
  ));

  return (
    <Page title={t("batches.title")} subtitle={t("batches.subtitle")} primaryAction={{ content: t("batches.newBatch"), url: "/app" }}>
      <Layout>
        <Layout.Section>
          <Card padding="0">
            <IndexTable
              resourceName={{ singular: t("batches.resourceSingular"), plural: t("batches.resourcePlural") }}
              itemCount={batches.length}
              selectable={false}
              loading={navigation.state === "loading"}
              headings={[
                { title: t("batches.columns.started") },
                { title: t("batches.columns.pipeline") },
                { title: t("batches.columns.status") },
                { title: t("batches.columns.images"), alignment: "end" },
                { title: t("batches.columns.published"), alignment: "end" },
                { title: t("batches.columns.failed"), alignment: "end" },
                { title: t("batches.columns.creditsUsed"), alignment: "end" },
              ]}
            >
              {rows}
            </IndexTable>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <InlineStack align="center">
            <Pagination
              hasPrevious={!onFirstPage}
              onPrevious={() => navigate(-1)}
              hasNext={Boolean(nextCursor)}
              onNext={() => nextCursor && navigate(`/app/batches?cursor=${nextCursor}`)}
            />
          </InlineStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  return <BatchesError />;
}

function BatchesError() {
  const { t } = useTranslation();
  return <RouteError title={t("batches.title")} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
