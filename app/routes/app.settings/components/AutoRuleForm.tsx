import { useEffect, useState } from "react";
import { useFetcher } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Banner, BlockStack, Button, Card, Checkbox, FormLayout, InlineStack, Select, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useStoredText } from "~/i18n/messages";
import type { MerchantMessage } from "~/lib/merchant-message";
import type { AutoRuleErrors } from "~/models/auto-rule.server";
import type { SettingsActionData } from "../view-model.server";
import type { SettingsView } from "./settings-view";

type RuleValues = { enabled: boolean; pipeline: string; images: string; reviewBeforePublish: boolean; monthlyBudget: string };

/** The automatic rule for new products, saved on its own (`intent=auto-rule`); shows why a running rule is paused. */
export function AutoRuleForm({
  rule,
  pipelines,
  creditsPerImage,
  limits,
}: {
  rule: SettingsView["rule"];
  pipelines: SettingsView["pipelines"];
  creditsPerImage: number;
  limits: SettingsView["limits"];
}) {
  const { t } = useTranslation();
  const storedText = useStoredText();
  const fetcher = useFetcher<SettingsActionData>();
  const shopify = useAppBridge();
  const [values, setValues] = useState<RuleValues>(() => ({
    enabled: rule.enabled,
    pipeline: rule.pipeline,
    images: rule.images,
    reviewBeforePublish: rule.reviewBeforePublish,
    monthlyBudget: rule.monthlyBudget === null ? "" : String(rule.monthlyBudget),
  }));
  const result = fetcher.data && "intent" in fetcher.data ? fetcher.data : undefined;
  const errors: AutoRuleErrors = result && !result.ok ? result.errors : {};
  const saving = fetcher.state !== "idle";
  useEffect(() => {
    if (result?.ok) shopify.toast.show(result.rule.enabled ? t("settings.autoOn") : t("settings.autoOff"));
  }, [result, shopify, t]);
  const set =
    <K extends keyof RuleValues>(key: K) =>
    (value: RuleValues[K]) =>
      setValues((v) => ({ ...v, [key]: value }));
  const save = () =>
    fetcher.submit(
      { intent: "auto-rule", ...values, enabled: values.enabled ? "on" : "", reviewBeforePublish: values.reviewBeforePublish ? "on" : "" },
      { method: "post" },
    );
  const current = result?.ok ? result.rule : rule;
  return (
    <Card>
      <BlockStack gap="300">
        {current.enabled && current.pauseReason ? (
          <Banner tone="warning" title={t("settings.paused")}>
            {storedText(current.pauseMessage as MerchantMessage | null, current.pauseReason)}
          </Banner>
        ) : null}
        <FormLayout>
          <Checkbox label={t("settings.autoEnabled")} checked={values.enabled} onChange={set("enabled")} />
          <Select
            label={t("settings.pipeline")}
            options={pipelines.map((p) => ({ label: t(`pipelines.${p.id}.label`), value: p.id }))}
            value={values.pipeline}
            onChange={set("pipeline")}
            error={errors.pipeline ? t("settings.errors.pipeline") : undefined}
          />
          <Select
            label={t("settings.whichImages")}
            options={[
              { label: t("settings.allImages"), value: "all" },
              { label: t("settings.featuredImage"), value: "featured" },
            ]}
            value={values.images}
            onChange={set("images")}
            error={errors.images ? t("settings.errors.images") : undefined}
          />
          <Checkbox
            label={t("settings.reviewBeforePublish")}
            helpText={t("settings.autoReviewHelp")}
            checked={values.reviewBeforePublish}
            onChange={set("reviewBeforePublish")}
          />
          <TextField
            label={t("settings.monthlyBudget")}
            type="number"
            min={creditsPerImage}
            autoComplete="off"
            value={values.monthlyBudget}
            onChange={set("monthlyBudget")}
            helpText={t("settings.monthlyBudgetHelp", { creditsPerImage, spent: current.spentThisMonth })}
            error={
              errors.monthlyBudget ? t("settings.errors.monthlyBudget", { min: creditsPerImage, max: limits.monthlyBudget }) : undefined
            }
          />
          <InlineStack align="end">
            <Button variant="primary" onClick={save} loading={saving}>
              {t("settings.saveRule")}
            </Button>
          </InlineStack>
        </FormLayout>
      </BlockStack>
    </Card>
  );
}
