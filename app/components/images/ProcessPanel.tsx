import { Banner, BlockStack, Button, Card, ChoiceList, Link, List, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { isPipelineId } from "~/imaging/pipelines";
import { costSummary } from "./grid-model";

export interface PipelineChoice {
  id: string;
  label: string;
  summary: string;
  rules: string[];
}

/** Pipeline picker with each pipeline's rules in plain words, the cost line and the submit. */
export function ProcessPanel({
  pipelines,
  pipeline,
  onPipelineChange,
  selectedCount,
  creditsPerImage,
  available,
  submitting,
  error,
  onSubmit,
}: {
  pipelines: PipelineChoice[];
  pipeline: string;
  onPipelineChange: (id: string) => void;
  selectedCount: number;
  creditsPerImage: number;
  available: number;
  submitting: boolean;
  error: string | null;
  onSubmit: () => void;
}) {
  const { t } = useTranslation();
  const cost = costSummary(selectedCount, creditsPerImage, available);
  const chosen = pipelines.find((p) => p.id === pipeline);
  const chosenId = chosen && isPipelineId(chosen.id) ? chosen.id : null;
  const blockedReason =
    cost.blocked === "noSelection"
      ? t("processPanel.selectAtLeastOne")
      : cost.blocked === "short"
        ? t("processPanel.needMoreCredits", { missing: cost.credits - available, credits: cost.credits, available })
        : null;
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          {t("processPanel.title")}
        </Text>
        <ChoiceList
          title={t("processPanel.pipeline")}
          choices={pipelines.flatMap((p) =>
            isPipelineId(p.id) ? [{ label: t(`pipelines.${p.id}.label`), value: p.id, helpText: t(`pipelines.${p.id}.summary`) }] : [],
          )}
          selected={[pipeline]}
          onChange={(values) => onPipelineChange(values[0] ?? pipeline)}
        />
        {chosenId ? (
          <BlockStack gap="100">
            <Text as="h3" variant="headingSm">
              {t("processPanel.whatItDoes", { pipeline: t(`pipelines.${chosenId}.label`) })}
            </Text>
            <List type="bullet">
              {t(`pipelines.${chosenId}.rules`, { returnObjects: true }).map((rule) => (
                <List.Item key={rule}>{rule}</List.Item>
              ))}
            </List>
          </BlockStack>
        ) : null}
        <div data-testid="cost-line">
          <Text as="p" variant="bodyMd" fontWeight="semibold">
            {t("processPanel.costLine", { count: cost.images, creditsPerImage, credits: cost.credits, available })}
          </Text>
        </div>
        <Text as="p" tone="subdued" variant="bodySm">
          {t("processPanel.chargedOnlyOnSuccess")}
        </Text>
        {error ? (
          <Banner tone="critical" title={t("processPanel.notStarted")}>
            <p>{error}</p>
          </Banner>
        ) : null}
        <Button
          variant="primary"
          size="large"
          fullWidth
          onClick={onSubmit}
          loading={submitting}
          disabled={Boolean(cost.blocked) || submitting}
        >
          {t("processPanel.submit", { count: cost.images })}
        </Button>
        {blockedReason ? (
          <div data-testid="submit-blocked-reason">
            <Text as="p" tone={cost.short ? "critical" : "subdued"} variant="bodySm">
              {blockedReason}{" "}
              {cost.short ? (
                <Link url="/app/credits" removeUnderline={false}>
                  {t("processPanel.buyCredits")}
                </Link>
              ) : null}
            </Text>
          </div>
        ) : null}
      </BlockStack>
    </Card>
  );
}
