import { json, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData, useNavigate, useNavigation, useSearchParams } from "@remix-run/react";
import { Badge, BlockStack, Card, EmptyState, IndexTable, InlineStack, Layout, Page, Pagination, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { z } from "zod";
import { RouteError } from "~/components/RouteError";
import prisma from "~/db.server";
import { getPipeline, isPipelineId } from "~/imaging/pipelines";
import { listBatches } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

const PAGE_SIZE = 25;
const searchSchema = z.object({ cursor: z.string().uuid().optional().catch(undefined) });

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { cursor } = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const page = await listBatches(prisma, session.shop, { cursor, take: PAGE_SIZE });
  return json({
    batches: page.batches.map((b) => ({
      ...b,
      pipelineLabel: isPipelineId(b.pipeline) ? getPipeline(b.pipeline).label : b.pipeline,
    })),
    nextCursor: page.nextCursor,
  });
};

function StatusBadge({ status, failed }: { status: string; failed: number }) {
  if (status === "ACTIVE") return <Badge tone="info">In progress</Badge>;
  if (status === "CANCELLED") return <Badge>Cancelled</Badge>;
  if (failed > 0) return <Badge tone="warning">Done with failures</Badge>;
  return <Badge tone="success">Done</Badge>;
}

export default function BatchesPage() {
  const { batches, nextCursor } = useLoaderData<typeof loader>();
  const navigate = useNavigate();
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const onFirstPage = !searchParams.get("cursor");

  if (batches.length === 0 && onFirstPage) {
    return (
      <Page title="Batches">
        <Card>
          <EmptyState
            heading="No batches yet"
            action={{ content: "Choose images", url: "/app" }}
            image="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
          >
            <p>Select product images on the Images page and pick a pipeline to start your first batch.</p>
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
              {new Date(batch.createdAt).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" })}
            </Text>
            {batch.origin === "NEW_PRODUCTS" ? <Badge tone="info">New products (automatic)</Badge> : null}
            {batch.origin === "CATALOG" ? <Badge tone="info">Whole catalogue</Badge> : null}
          </InlineStack>
          {batch.note ? (
            <Text as="p" tone="caution">
              {batch.note}
            </Text>
          ) : null}
        </BlockStack>
      </IndexTable.Cell>
      <IndexTable.Cell>{batch.pipelineLabel}</IndexTable.Cell>
      <IndexTable.Cell>
        <StatusBadge status={batch.status} failed={batch.failed} />
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {batch.total}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {batch.published}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric tone={batch.failed > 0 ? "critical" : undefined}>
          {batch.failed}
        </Text>
      </IndexTable.Cell>
      <IndexTable.Cell>
        <Text as="span" alignment="end" numeric>
          {batch.creditsUsed}
        </Text>
      </IndexTable.Cell>
    </IndexTable.Row>
  ));

  return (
    <Page title="Batches" subtitle="Every batch you started, newest first." primaryAction={{ content: "New batch", url: "/app" }}>
      <Layout>
        <Layout.Section>
          <Card padding="0">
            <IndexTable
              resourceName={{ singular: "batch", plural: "batches" }}
              itemCount={batches.length}
              selectable={false}
              loading={navigation.state === "loading"}
              headings={[
                { title: "Started" },
                { title: "Pipeline" },
                { title: "Status" },
                { title: "Images", alignment: "end" },
                { title: "Published", alignment: "end" },
                { title: "Failed", alignment: "end" },
                { title: "Credits used", alignment: "end" },
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
  return <RouteError title="Batches" />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
