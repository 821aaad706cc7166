import { useEffect, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useFetcher, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import {
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  FormLayout,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { RouteError } from "~/components/RouteError";
import { useStoredText } from "~/i18n/messages";
import type { MerchantMessage } from "~/lib/merchant-message";
import db from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import { MAX_MONTHLY_BUDGET, getAutoRule, saveAutoRule, type AutoRuleErrors } from "~/models/auto-rule.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { MAX_DAILY_SPEND_CAP, getSettings, saveSettings, type SettingsErrors, type ShopSettings } from "~/models/settings.server";
import { authenticate } from "~/shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [settings, rule] = await Promise.all([getSettings(db, session.shop), getAutoRule(db, session.shop)]);
  const pipelines = PIPELINE_IDS.map((id) => {
    const p = getPipeline(id);
    return { id: p.id, label: p.label, summary: p.summary };
  });
  return json({
    settings,
    rule,
    pipelines,
    creditsPerImage: CREDITS_PER_IMAGE,
    limits: { dailySpendCap: MAX_DAILY_SPEND_CAP, monthlyBudget: MAX_MONTHLY_BUDGET },
  });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = Object.fromEntries(await request.formData());
  if (form.intent === "auto-rule") {
    const saved = await saveAutoRule(db, session.shop, form);
    if (!saved.ok) return json({ ok: false as const, intent: "auto-rule" as const, errors: saved.errors }, { status: 422 });
    return json({ ok: true as const, intent: "auto-rule" as const, rule: saved.rule });
  }
  const result = await saveSettings(db, session.shop, form);
  if (!result.ok) return json({ ok: false as const, errors: result.errors }, { status: 422 });
  return json({ ok: true as const, settings: result.settings });
};

type FormValues = {
  defaultPipeline: string;
  reviewBeforePublish: boolean;
  backgroundColor: string;
  outputSizePreset: string;
  dailySpendCap: string;
};

function toFormValues(s: ShopSettings): FormValues {
  return {
    defaultPipeline: s.defaultPipeline,
    reviewBeforePublish: s.reviewBeforePublish,
    backgroundColor: s.backgroundColor,
    outputSizePreset: s.outputSizePreset,
    dailySpendCap: s.dailySpendCap === null ? "" : String(s.dailySpendCap),
  };
}

export default function SettingsPage() {
  const { settings, pipelines, limits } = useLoaderData<typeof loader>();
  const { t } = useTranslation();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const shopify = useAppBridge();
  const [values, setValues] = useState<FormValues>(() => toFormValues(settings as ShopSettings));
  const saving = navigation.state === "submitting";
  const errors: SettingsErrors = actionData && !actionData.ok && !("intent" in actionData) ? actionData.errors : {};

  useEffect(() => {
    if (actionData?.ok && "settings" in actionData) {
      setValues(toFormValues(actionData.settings as ShopSettings));
      shopify.toast.show(t("settings.saved"));
    }
  }, [actionData, shopify, t]);

  const set =
    <K extends keyof FormValues>(key: K) =>
    (value: FormValues[K]) =>
      setValues((v) => ({ ...v, [key]: value }));
  const save = () => submit({ ...values, reviewBeforePublish: values.reviewBeforePublish ? "on" : "" }, { method: "post", replace: true });
  const colourPreview = /^#?[0-9a-fA-F]{6}$/.test(values.backgroundColor) ? `#${values.backgroundColor.replace(/^#/, "")}` : "transparent";
  const chosen = pipelines.find((p) => p.id === values.defaultPipeline);
  // The server names the field; the sentence is the merchant's language's.
  const fieldError = (field: keyof SettingsErrors) => {
    if (!errors[field]) return undefined;
    if (field === "defaultPipeline") return t("settings.errors.pipeline");
    if (field === "dailySpendCap") return t("settings.errors.dailySpendCap", { max: limits.dailySpendCap });
    if (field === "reviewBeforePublish") return errors[field];
    return t(`settings.errors.${field}`);
  };

  return (
    <Page title={t("settings.title")} primaryAction={{ content: t("settings.save"), onAction: save, loading: saving, disabled: saving }}>
      <Layout>
        <Layout.AnnotatedSection title={t("settings.defaultsTitle")} description={t("settings.defaultsDescription")}>
          <Card>
            <form
              method="post"
              onSubmit={(event) => {
                event.preventDefault();
                save();
              }}
            >
              <FormLayout>
                <Select
                  label={t("settings.defaultPipeline")}
                  name="defaultPipeline"
                  options={pipelines.map((p) => ({ label: t(`pipelines.${p.id}.label`), value: p.id }))}
                  value={values.defaultPipeline}
                  onChange={set("defaultPipeline")}
                  helpText={chosen ? t(`pipelines.${chosen.id}.summary`) : undefined}
                  error={fieldError("defaultPipeline")}
                />
                <Checkbox
                  label={t("settings.reviewBeforePublish")}
                  name="reviewBeforePublish"
                  helpText={t("settings.reviewHelp")}
                  checked={values.reviewBeforePublish}
                  onChange={set("reviewBeforePublish")}
                  error={fieldError("reviewBeforePublish")}
                />
                <TextField
                  label={t("settings.backgroundColour")}
                  name="backgroundColor"
                  autoComplete="off"
                  value={values.backgroundColor}
                  onChange={set("backgroundColor")}
                  helpText={t("settings.backgroundHelp")}
                  error={fieldError("backgroundColor")}
                  prefix={
                    <span
                      aria-hidden
                      style={{
                        display: "inline-block",
                        width: 16,
                        height: 16,
                        verticalAlign: "middle",
                        borderRadius: 4,
                        border: "1px solid var(--p-color-border)",
                        background: colourPreview,
                      }}
                    />
                  }
                />
                <Select
                  label={t("settings.outputSize")}
                  name="outputSizePreset"
                  options={[
                    { label: t("settings.sizeStandard"), value: "standard" },
                    { label: t("settings.sizeLarge"), value: "large" },
                  ]}
                  value={values.outputSizePreset}
                  onChange={set("outputSizePreset")}
                  error={fieldError("outputSizePreset")}
                />
                <TextField
                  label={t("settings.dailyCap")}
                  name="dailySpendCap"
                  type="number"
                  min={1}
                  autoComplete="off"
                  value={values.dailySpendCap}
                  onChange={set("dailySpendCap")}
                  helpText={t("settings.dailyCapHelp")}
                  error={fieldError("dailySpendCap")}
                />
                <button type="submit" hidden aria-hidden tabIndex={-1} />
              </FormLayout>
            </form>
          </Card>
        </Layout.AnnotatedSection>
        <Layout.AnnotatedSection title={t("settings.autoTitle")} description={t("settings.autoDescription")}>
          <AutoRuleForm />
        </Layout.AnnotatedSection>
        <Layout.AnnotatedSection title={t("settings.pipelinesTitle")} description={t("settings.pipelinesDescription")}>
          <Card>
            <BlockStack gap="300">
              {pipelines.map((p) => (
                <BlockStack key={p.id} gap="050">
                  <Text as="h3" variant="bodyMd" fontWeight="semibold">
                    {t(`pipelines.${p.id}.label`)}
                  </Text>
                  <Text as="p" tone="subdued">
                    {t(`pipelines.${p.id}.summary`)}
                  </Text>
                </BlockStack>
              ))}
            </BlockStack>
          </Card>
        </Layout.AnnotatedSection>
      </Layout>
    </Page>
  );
}

type RuleValues = { enabled: boolean; pipeline: string; images: string; reviewBeforePublish: boolean; monthlyBudget: string };

function AutoRuleForm() {
  const { rule, pipelines, creditsPerImage, limits } = useLoaderData<typeof loader>();
  const { t } = useTranslation();
  const storedText = useStoredText();
  const fetcher = useFetcher<typeof action>();
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

export function ErrorBoundary() {
  return <RouteError />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
