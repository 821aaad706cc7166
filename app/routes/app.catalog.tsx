import { useEffect, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Badge, Banner, BlockStack, Button, Card, Checkbox, FormLayout, InlineStack, Layout, Page, ProgressBar, Select, Text, TextField } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import { RouteError } from "~/components/RouteError";
import { useEtaText } from "~/i18n/format";
import { useMessageText, useStoredText } from "~/i18n/messages";
import { errorResponse } from "~/lib/error-response.server";
import { errorPayload, type ErrorPayload } from "~/lib/merchant-message";
import { useRevalidateWhile } from "~/components/useRevalidateWhile";
import prisma from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import {
  CatalogRunError,
  cancelCatalogRun,
  confirmCatalogRun,
  listCatalogRuns,
  MAX_RUN_BUDGET,
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
  return json({ runs, available: balance.available, creditsPerImage: CREDITS_PER_IMAGE, pipelines, maxBudget: MAX_RUN_BUDGET });
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
      return json({ ok: true as const, message: "Counting the images of your catalogue…", toast: "counting" as const });
    }
    const parsed = runIntent.safeParse(form);
    if (!parsed.success) return json({ ok: false as const, ...errorPayload("This request is not one the page sends; reload the page.", { code: "reloadPage" }) }, { status: 400 });
    const { intent, runId, budget } = parsed.data;
    if (intent === "cancel") {
      await cancelCatalogRun({ db: prisma, imageQueue: getQueue(), graphql: admin.graphql }, session.shop, runId);
      return json({ ok: true as const, message: "Run cancelled", toast: "cancelled" as const });
    }
    // The form sends the budget field as shown (the run's budget, or what the merchant typed); empty means none.
    const newBudget = budget === undefined ? undefined : runBudgetField.safeParse(budget);
    if (newBudget && !newBudget.success) return json({ ok: false as const, error: newBudget.error.issues[0]!.message, errors: { budget: newBudget.error.issues[0]!.message } }, { status: 422 });
    await confirmCatalogRun({ db: prisma, automationQueue }, session.shop, runId, newBudget ? { budget: newBudget.data } : {});
    return json({ ok: true as const, message: "Run started", toast: "started" as const });
  } catch (error) {
    if (error instanceof CatalogRunError) return errorResponse(error, { ok: false as const });
    throw error;
  }
};

type ActionData = { ok: true; message: string; toast: "counting" | "started" | "cancelled" } | ({ ok: false; errors?: CatalogRunErrors } & Partial<ErrorPayload>);

function useDescribeFilter() {
  const { t } = useTranslation();
  return (run: CatalogRunView): string => {
    const base =
      run.filter.kind === "all"
        ? t("catalog.filter.all")
        : t("catalog.filterWithValue", { kind: t(`catalog.filter.${run.filter.kind}`), value: run.filter.label ?? run.filter.value ?? "" });
    return run.filter.onlyUnprocessed ? t("catalog.onlyUnprocessedSuffix", { filter: base }) : base;
  };
}

function StatusBadge({ status }: { status: CatalogRunView["status"] }) {
  const { t } = useTranslation();
  const tones: Record<string, "info" | "success" | "warning" | "critical" | undefined> = {
    COUNTING: "info",
    READY: "attention" as never,
    RUNNING: "info",
    PAUSED: "warning",
    DONE: "success",
    FAILED: "critical",
  };
  return <Badge tone={tones[status]}>{t(`catalog.status.${status}`)}</Badge>;
}

function RunCard({ run, available, creditsPerImage, maxBudget }: { run: CatalogRunView; available: number; creditsPerImage: number; maxBudget: number }) {
  const fetcher = useFetcher<ActionData>();
  const [budget, setBudget] = useState(run.budget === null ? "" : String(run.budget));
  const busy = fetcher.state !== "idle";
  const affordable = Math.min(run.total, Math.floor(Math.min(available, run.budget ?? Number.POSITIVE_INFINITY) / creditsPerImage));
  const percent = run.total === 0 ? 100 : Math.round(((run.done + run.skipped) / run.total) * 100);
  const { t } = useTranslation();
  const etaText = useEtaText();
  const messageText = useMessageText();
  const storedText = useStoredText();
  const describeFilter = useDescribeFilter();
  const eta = etaText(run.etaSeconds);
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
        {run.status === "COUNTING" ? <Text as="p">{t("catalog.countingBody")}</Text> : null}
        {run.status === "READY" ? (
          <BlockStack gap="200">
            <Text as="p">
              {[
                run.budget !== null
                  ? t("catalog.readyBodyBudget", { total: run.total, cost: run.cost, creditsPerImage, available, budget: run.budget, affordable })
                  : t("catalog.readyBody", { total: run.total, cost: run.cost, creditsPerImage, available, affordable }),
                affordable < run.total ? t("catalog.readyPauses") : null,
                t("catalog.readyReserved"),
              ]
                .filter(Boolean)
                .join(" ")}
            </Text>
          </BlockStack>
        ) : null}
        {run.status === "RUNNING" || run.status === "PAUSED" || run.status === "DONE" || run.status === "CANCELLED" ? (
          <BlockStack gap="200">
            <ProgressBar progress={percent} size="small" tone={run.status === "PAUSED" ? "critical" : "primary"} />
            <Text as="p" tone="subdued">
              {[
                t("catalog.progress.done", { done: run.done, total: run.total }),
                t("catalog.progress.published", { count: run.published }),
                run.needsReview ? t("catalog.progress.review", { count: run.needsReview }) : null,
                run.failed ? t("catalog.progress.failed", { count: run.failed }) : null,
                run.skipped ? t("catalog.progress.skipped", { count: run.skipped }) : null,
                t("catalog.progress.creditsUsed", { count: run.creditsUsed }),
                run.creditsHeld ? t("catalog.progress.held", { count: run.creditsHeld }) : null,
                run.status === "RUNNING" && eta ? eta : null,
              ]
                .filter(Boolean)
                .join(" · ")}
            </Text>
          </BlockStack>
        ) : null}
        {run.reason ? (
          <Banner tone={run.status === "FAILED" ? "critical" : run.status === "PAUSED" ? "warning" : "info"}>{storedText(run.reasonMessage, run.reason)}</Banner>
        ) : null}
        {fetcher.data && !fetcher.data.ok && fetcher.data.error ? <Banner tone="critical">{messageText(fetcher.data)}</Banner> : null}
        <InlineStack gap="200" blockAlign="end">
          {run.status === "READY" || run.status === "PAUSED" ? (
            <>
              <div style={{ width: 200 }}>
                <TextField
                  label={t("catalog.budget")}
                  type="number"
                  autoComplete="off"
                  value={budget}
                  onChange={setBudget}
                  helpText={t("catalog.budgetEmptyHelp")}
                  error={fetcher.data && !fetcher.data.ok && fetcher.data.errors?.budget ? t("catalog.errors.budget", { min: creditsPerImage, max: maxBudget }) : undefined}
                />
              </div>
              <Button variant="primary" loading={busy} onClick={() => submit("confirm")}>
                {run.status === "READY" ? t("catalog.clean", { count: run.total }) : t("catalog.resume")}
              </Button>
            </>
          ) : null}
          {run.status === "COUNTING" || run.status === "READY" || run.status === "RUNNING" || run.status === "PAUSED" ? (
            <Button tone="critical" loading={busy} onClick={() => submit("cancel")}>
              {t("catalog.cancelRun")}
            </Button>
          ) : null}
          {run.batchId ? <Link to={`/app/batches/${run.batchId}`}>{t("catalog.openBatch")}</Link> : null}
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export default function CatalogPage() {
  const { runs, available, creditsPerImage, pipelines, maxBudget } = useLoaderData<typeof loader>();
  const collectionList = useFetcher<{ collections: CollectionChoice[] | null; error?: string }>();
  const shopify = useAppBridge();
  const start = useFetcher<ActionData>();
  const [values, setValues] = useState({ filterKind: "all", filterValue: "", onlyUnprocessed: true, pipeline: "amazon", budget: "" });
  const errors: CatalogRunErrors = start.data && !start.data.ok ? (start.data.errors ?? {}) : {};
  const working = (runs as unknown as CatalogRunView[]).some((r) => r.status === "COUNTING" || r.status === "RUNNING");
  const { t } = useTranslation();
  const messageText = useMessageText();
  const fieldError = (field: keyof CatalogRunErrors) => {
    if (!errors[field]) return undefined;
    if (field === "filterValue") return t(`catalog.errors.${values.filterKind === "collection" ? "collection" : values.filterKind === "tag" ? "tag" : "productType"}`);
    if (field === "budget") return t("catalog.errors.budget", { min: creditsPerImage, max: maxBudget });
    return t(`catalog.errors.${field}`);
  };

  useRevalidateWhile(working, POLL_MS);
  useEffect(() => {
    if (start.state === "idle" && start.data?.ok) shopify.toast.show(t(`catalog.${start.data.toast}`));
  }, [start.state, start.data, shopify, t]);

  const set = <K extends keyof typeof values>(key: K) => (value: (typeof values)[K]) => setValues((v) => ({ ...v, [key]: value }));
  return (
    <Page title={t("catalog.title")} subtitle={t("catalog.subtitle")}>
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                {t("catalog.newRun")}
              </Text>
              {start.data && !start.data.ok && start.data.error ? <Banner tone="critical">{messageText(start.data)}</Banner> : null}
              <FormLayout>
                <FormLayout.Group>
                  <Select
                    label={t("catalog.imagesOf")}
                    options={[
                      { label: t("catalog.kindAll"), value: "all" },
                      { label: t("catalog.kindCollection"), value: "collection" },
                      { label: t("catalog.kindType"), value: "productType" },
                      { label: t("catalog.kindTag"), value: "tag" },
                    ]}
                    value={values.filterKind}
                    // A tag typed for one kind is not a collection of the next.
                    onChange={(filterKind) => {
                      setValues((v) => ({ ...v, filterKind, filterValue: "" }));
                      if (filterKind === "collection" && collectionList.state === "idle" && !collectionList.data?.collections) collectionList.load("/app/catalog/collections");
                    }}
                    error={fieldError("filterKind")}
                  />
                  {values.filterKind === "collection" ? (
                    <Select
                      label={t("catalog.collection")}
                      placeholder={collectionList.data?.collections?.length ? t("catalog.chooseCollection") : undefined}
                      options={(collectionList.data?.collections ?? []).map((c) => ({ label: t("catalog.collectionOption", { title: c.title, count: c.products }), value: c.id }))}
                      value={values.filterValue}
                      onChange={set("filterValue")}
                      disabled={!collectionList.data?.collections?.length}
                      helpText={
                        collectionList.state !== "idle"
                          ? t("catalog.loadingCollections")
                          : collectionList.data?.error
                            ? t("catalog.collectionsError")
                            : collectionList.data?.collections?.length === 0
                              ? t("catalog.noCollections")
                              : undefined
                      }
                      error={fieldError("filterValue")}
                    />
                  ) : values.filterKind !== "all" ? (
                    <TextField
                      label={values.filterKind === "tag" ? t("catalog.tag") : t("catalog.productType")}
                      autoComplete="off"
                      value={values.filterValue}
                      onChange={set("filterValue")}
                      error={fieldError("filterValue")}
                    />
                  ) : null}
                </FormLayout.Group>
                <Checkbox label={t("catalog.onlyUnprocessed")} checked={values.onlyUnprocessed} onChange={set("onlyUnprocessed")} />
                <FormLayout.Group>
                  <Select
                    label={t("catalog.pipeline")}
                    options={pipelines.map((p) => ({ label: t(`pipelines.${p.id}.label`), value: p.id }))}
                    value={values.pipeline}
                    onChange={set("pipeline")}
                    error={fieldError("pipeline")}
                  />
                  <TextField
                    label={t("catalog.budget")}
                    type="number"
                    autoComplete="off"
                    value={values.budget}
                    onChange={set("budget")}
                    helpText={t("catalog.budgetHelp")}
                    error={fieldError("budget")}
                  />
                </FormLayout.Group>
                <InlineStack align="end">
                  <Button
                    variant="primary"
                    loading={start.state !== "idle"}
                    onClick={() => start.submit({ intent: "start", ...values, onlyUnprocessed: values.onlyUnprocessed ? "on" : "" }, { method: "post" })}
                  >
                    {t("catalog.countImages")}
                  </Button>
                </InlineStack>
              </FormLayout>
              <Text as="p" tone="subdued">
                {t("catalog.nothingCharged")}
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
        {(runs as unknown as CatalogRunView[]).map((run) => (
          <Layout.Section key={run.id}>
            <RunCard run={run} available={available} creditsPerImage={creditsPerImage} maxBudget={maxBudget} />
          </Layout.Section>
        ))}
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  const { t } = useTranslation();
  return <RouteError title={t("catalog.title")} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
