import { useEffect, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Badge, Banner, BlockStack, Button, Card, Checkbox, FormLayout, InlineStack, Layout, Page, ProgressBar, Select, Text, TextField } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { z } from "zod";
import { formatEta } from "~/components/batch/report-model";
import { RouteError } from "~/components/RouteError";
import { useRevalidateWhile } from "~/components/useRevalidateWhile";
import prisma from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import {
  CatalogRunError,
  cancelCatalogRun,
  confirmCatalogRun,
  listCatalogRuns,
  runBudgetField,
  type CollectionChoice,
  startCatalogRun,
  type CatalogRunErrors,
  type CatalogRunView,
} from "~/models/catalog-runs.server";
import { CREDITS_PER_IMAGE, getBalance } from "~/models/credits.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { queueConfigFromEnv } from "~/queue/config.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

const POLL_MS = 2_000;

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [runs, balance] = await Promise.all([listCatalogRuns(prisma, session.shop), getBalance(prisma, session.shop)]);
  const pipelines = PIPELINE_IDS.map((id) => ({ id, label: getPipeline(id).label }));
  return json({ runs, available: balance.available, creditsPerImage: CREDITS_PER_IMAGE, pipelines });
};

const runIntent = z.object({
  intent: z.enum(["confirm", "cancel"]),
  runId: z.string().uuid(),
  budget: z.string().optional(),
});

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const form = Object.fromEntries(await request.formData());
  const automationQueue = getAutomationQueue(queueConfigFromEnv().queueName);
  try {
    if (form.intent === "start") {
      const started = await startCatalogRun({ db: prisma, automationQueue, graphql: admin.graphql }, session.shop, form);
      if (!started.ok) return json({ ok: false as const, errors: started.errors }, { status: 422 });
      return json({ ok: true as const, message: "Counting the images of your catalogue…" });
    }
    const parsed = runIntent.safeParse(form);
    if (!parsed.success) return json({ ok: false as const, error: "This request is not one the page sends; reload the page." }, { status: 400 });
    const { intent, runId, budget } = parsed.data;
    if (intent === "cancel") {
      await cancelCatalogRun({ db: prisma, imageQueue: getQueue(), graphql: admin.graphql }, session.shop, runId);
      return json({ ok: true as const, message: "Run cancelled" });
    }
    // The form sends the budget field as shown (the run's budget, or what the merchant typed); empty means none.
    const newBudget = budget === undefined ? undefined : runBudgetField.safeParse(budget);
    if (newBudget && !newBudget.success) return json({ ok: false as const, error: newBudget.error.issues[0]!.message }, { status: 422 });
    await confirmCatalogRun({ db: prisma, automationQueue }, session.shop, runId, newBudget ? { budget: newBudget.data } : {});
    return json({ ok: true as const, message: "Run started" });
  } catch (error) {
    if (error instanceof CatalogRunError) return json({ ok: false as const, error: error.message }, { status: error.status });
    throw error;
  }
};

type ActionData = { ok: true; message: string } | { ok: false; errors?: CatalogRunErrors; error?: string };

const FILTER_LABELS: Record<string, string> = { all: "All products", collection: "Collection", productType: "Product type", tag: "Tag" };

function describeFilter(run: CatalogRunView): string {
  const base = run.filter.kind === "all" ? "All products" : `${FILTER_LABELS[run.filter.kind]}: ${run.filter.label ?? run.filter.value}`;
  return run.filter.onlyUnprocessed ? `${base}, only images not processed yet` : base;
}

function StatusBadge({ status }: { status: CatalogRunView["status"] }) {
  const tones: Record<string, "info" | "success" | "warning" | "critical" | undefined> = {
    COUNTING: "info",
    READY: "attention" as never,
    RUNNING: "info",
    PAUSED: "warning",
    DONE: "success",
    FAILED: "critical",
  };
  const labels: Record<string, string> = { COUNTING: "Counting", READY: "Waiting for you", RUNNING: "Running", PAUSED: "Paused", DONE: "Done", CANCELLED: "Cancelled", FAILED: "Failed" };
  return <Badge tone={tones[status]}>{labels[status]}</Badge>;
}

function RunCard({ run, available, creditsPerImage }: { run: CatalogRunView; available: number; creditsPerImage: number }) {
  const fetcher = useFetcher<ActionData>();
  const [budget, setBudget] = useState(run.budget === null ? "" : String(run.budget));
  const busy = fetcher.state !== "idle";
  const affordable = Math.min(run.total, Math.floor(Math.min(available, run.budget ?? Number.POSITIVE_INFINITY) / creditsPerImage));
  const percent = run.total === 0 ? 100 : Math.round(((run.done + run.skipped) / run.total) * 100);
  const eta = formatEta(run.etaSeconds);
  const submit = (intent: "confirm" | "cancel") => fetcher.submit({ intent, runId: run.id, budget }, { method: "post" });
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h3" variant="headingMd">
            {describeFilter(run)}
          </Text>
          <StatusBadge status={run.status} />
        </InlineStack>
        {run.status === "COUNTING" ? <Text as="p">Reading your catalogue with a Shopify bulk operation; large catalogues take a few minutes.</Text> : null}
        {run.status === "READY" ? (
          <BlockStack gap="200">
            <Text as="p">
              {run.total.toLocaleString("en-US")} images match, costing {run.cost.toLocaleString("en-US")} credits ({creditsPerImage} each). You have{" "}
              {available.toLocaleString("en-US")} credits{run.budget !== null ? ` and a budget of ${run.budget.toLocaleString("en-US")}` : ""}: {affordable.toLocaleString("en-US")} images
              can be cleaned now{affordable < run.total ? "; the run pauses there and tells you" : ""}. Credits are reserved a few images at a time as the run goes.
            </Text>
          </BlockStack>
        ) : null}
        {run.status === "RUNNING" || run.status === "PAUSED" || run.status === "DONE" || run.status === "CANCELLED" ? (
          <BlockStack gap="200">
            <ProgressBar progress={percent} size="small" tone={run.status === "PAUSED" ? "critical" : "primary"} />
            <Text as="p" tone="subdued">
              {[
                `${run.done.toLocaleString("en-US")} of ${run.total.toLocaleString("en-US")} done`,
                `${run.published} published`,
                run.needsReview ? `${run.needsReview} waiting for review` : null,
                run.failed ? `${run.failed} failed` : null,
                run.skipped ? `${run.skipped} skipped (already in a batch)` : null,
                `${run.creditsUsed} credits used`,
                run.creditsHeld ? `${run.creditsHeld} held` : null,
                run.status === "RUNNING" && eta ? eta : null,
              ]
                .filter(Boolean)
                .join(" · ")}
            </Text>
          </BlockStack>
        ) : null}
        {run.reason ? (
          <Banner tone={run.status === "FAILED" ? "critical" : run.status === "PAUSED" ? "warning" : "info"}>{run.reason}</Banner>
        ) : null}
        {fetcher.data && !fetcher.data.ok && fetcher.data.error ? <Banner tone="critical">{fetcher.data.error}</Banner> : null}
        <InlineStack gap="200" blockAlign="end">
          {run.status === "READY" || run.status === "PAUSED" ? (
            <>
              <div style={{ width: 200 }}>
                <TextField label="Budget (credits)" type="number" autoComplete="off" value={budget} onChange={setBudget} helpText="Empty: only your balance." />
              </div>
              <Button variant="primary" loading={busy} onClick={() => submit("confirm")}>
                {run.status === "READY" ? `Clean ${run.total.toLocaleString("en-US")} images` : "Resume"}
              </Button>
            </>
          ) : null}
          {run.status === "COUNTING" || run.status === "READY" || run.status === "RUNNING" || run.status === "PAUSED" ? (
            <Button tone="critical" loading={busy} onClick={() => submit("cancel")}>
              Cancel run
            </Button>
          ) : null}
          {run.batchId ? <Link to={`/app/batches/${run.batchId}`}>Open the batch</Link> : null}
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export default function CatalogPage() {
  const { runs, available, creditsPerImage, pipelines } = useLoaderData<typeof loader>();
  const collectionList = useFetcher<{ collections: CollectionChoice[] | null; error?: string }>();
  const shopify = useAppBridge();
  const start = useFetcher<ActionData>();
  const [values, setValues] = useState({ filterKind: "all", filterValue: "", onlyUnprocessed: true, pipeline: "amazon", budget: "" });
  const errors: CatalogRunErrors = start.data && !start.data.ok ? (start.data.errors ?? {}) : {};
  const working = (runs as unknown as CatalogRunView[]).some((r) => r.status === "COUNTING" || r.status === "RUNNING");

  useRevalidateWhile(working, POLL_MS);
  useEffect(() => {
    if (start.state === "idle" && start.data?.ok) shopify.toast.show(start.data.message);
  }, [start.state, start.data, shopify]);

  const set = <K extends keyof typeof values>(key: K) => (value: (typeof values)[K]) => setValues((v) => ({ ...v, [key]: value }));
  return (
    <Page title="Whole catalogue" subtitle="Clean every image that matches a filter, however large your catalogue.">
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                New run
              </Text>
              {start.data && !start.data.ok && start.data.error ? <Banner tone="critical">{start.data.error}</Banner> : null}
              <FormLayout>
                <FormLayout.Group>
                  <Select
                    label="Images of"
                    options={[
                      { label: "All products", value: "all" },
                      { label: "Products in a collection", value: "collection" },
                      { label: "Products of a type", value: "productType" },
                      { label: "Products with a tag", value: "tag" },
                    ]}
                    value={values.filterKind}
                    // A tag typed for one kind is not a collection of the next.
                    onChange={(filterKind) => {
                      setValues((v) => ({ ...v, filterKind, filterValue: "" }));
                      if (filterKind === "collection" && collectionList.state === "idle" && !collectionList.data?.collections) collectionList.load("/app/catalog/collections");
                    }}
                    error={errors.filterKind}
                  />
                  {values.filterKind === "collection" ? (
                    <Select
                      label="Collection"
                      placeholder={collectionList.data?.collections?.length ? "Choose a collection" : undefined}
                      options={(collectionList.data?.collections ?? []).map((c) => ({ label: `${c.title} (${c.products} products)`, value: c.id }))}
                      value={values.filterValue}
                      onChange={set("filterValue")}
                      disabled={!collectionList.data?.collections?.length}
                      helpText={
                        collectionList.state !== "idle"
                          ? "Loading your collections…"
                          : collectionList.data?.error ?? (collectionList.data?.collections?.length === 0 ? "This store has no collections." : undefined)
                      }
                      error={errors.filterValue}
                    />
                  ) : values.filterKind !== "all" ? (
                    <TextField
                      label={values.filterKind === "tag" ? "Tag" : "Product type"}
                      autoComplete="off"
                      value={values.filterValue}
                      onChange={set("filterValue")}
                      error={errors.filterValue}
                    />
                  ) : null}
                </FormLayout.Group>
                <Checkbox label="Only images not processed yet" checked={values.onlyUnprocessed} onChange={set("onlyUnprocessed")} />
                <FormLayout.Group>
                  <Select label="Pipeline" options={pipelines.map((p) => ({ label: p.label, value: p.id }))} value={values.pipeline} onChange={set("pipeline")} error={errors.pipeline} />
                  <TextField
                    label="Budget (credits)"
                    type="number"
                    autoComplete="off"
                    value={values.budget}
                    onChange={set("budget")}
                    helpText="Optional. The run pauses when it has used this many credits."
                    error={errors.budget}
                  />
                </FormLayout.Group>
                <InlineStack align="end">
                  <Button
                    variant="primary"
                    loading={start.state !== "idle"}
                    onClick={() => start.submit({ intent: "start", ...values, onlyUnprocessed: values.onlyUnprocessed ? "on" : "" }, { method: "post" })}
                  >
                    Count images
                  </Button>
                </InlineStack>
              </FormLayout>
              <Text as="p" tone="subdued">
                Nothing is charged until you confirm the count and the cost.
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
        {(runs as unknown as CatalogRunView[]).map((run) => (
          <Layout.Section key={run.id}>
            <RunCard run={run} available={available} creditsPerImage={creditsPerImage} />
          </Layout.Section>
        ))}
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  return <RouteError title="Whole catalogue" />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
