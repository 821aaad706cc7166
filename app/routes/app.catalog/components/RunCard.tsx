import { useState } from "react";
import { Link, useFetcher } from "@remix-run/react";
import { Badge, Banner, BlockStack, Button, Card, InlineStack, ProgressBar, Text, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useEtaText } from "~/i18n/format";
import { useMessageText, useStoredText } from "~/i18n/messages";
import type { CatalogRunView } from "~/models/catalog-runs.server";
import type { CatalogActionData } from "../view-model.server";

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

/** One run: its state, its count and cost before it starts, its progress once it runs, and the moves it allows. */
export function RunCard({
  run,
  available,
  creditsPerImage,
  maxBudget,
}: {
  run: CatalogRunView;
  available: number;
  creditsPerImage: number;
  maxBudget: number;
}) {
  const fetcher = useFetcher<CatalogActionData>();
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
                  ? t("catalog.readyBodyBudget", {
                      total: run.total,
                      cost: run.cost,
                      creditsPerImage,
                      available,
                      budget: run.budget,
                      affordable,
                    })
                  : t("catalog.readyBody", { total: run.total, cost: run.cost, creditsPerImage, available, affordable }),
                affordable < run.total ? t("catalog.readyPauses") : null,
                t("catalog.readyReserved"),
              ]
                .filter(Boolean)
                .join(" ")}
            </Text>
          </BlockStack>
        ) : null}
        {/* A run paused while counting (Shopify refused the store) has nothing to show progress of yet. */}
        {run.status === "RUNNING" || (run.status === "PAUSED" && run.batchId) || run.status === "DONE" || run.status === "CANCELLED" ? (
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
          <Banner tone={run.status === "FAILED" ? "critical" : run.status === "PAUSED" ? "warning" : "info"}>
            {storedText(run.reasonMessage, run.reason)}
          </Banner>
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
                  error={
                    fetcher.data && !fetcher.data.ok && fetcher.data.errors?.budget
                      ? t("catalog.errors.budget", { min: creditsPerImage, max: maxBudget })
                      : undefined
                  }
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
