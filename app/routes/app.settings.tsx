import { useEffect, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useFetcher, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Banner, BlockStack, Button, Card, Checkbox, FormLayout, InlineStack, Layout, Page, Select, Text, TextField } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { RouteError } from "~/components/RouteError";
import prisma from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import { getAutoRule, saveAutoRule, type AutoRuleErrors } from "~/models/auto-rule.server";
import { CREDITS_PER_IMAGE } from "~/models/credits.server";
import { getSettings, saveSettings, type SettingsErrors, type ShopSettings } from "~/models/settings.server";
import { authenticate } from "~/shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [settings, rule] = await Promise.all([getSettings(prisma, session.shop), getAutoRule(prisma, session.shop)]);
  const pipelines = PIPELINE_IDS.map((id) => {
    const p = getPipeline(id);
    return { id: p.id, label: p.label, summary: p.summary };
  });
  return json({ settings, rule, pipelines, creditsPerImage: CREDITS_PER_IMAGE });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = Object.fromEntries(await request.formData());
  if (form.intent === "auto-rule") {
    const saved = await saveAutoRule(prisma, session.shop, form);
    if (!saved.ok) return json({ ok: false as const, intent: "auto-rule" as const, errors: saved.errors }, { status: 422 });
    return json({ ok: true as const, intent: "auto-rule" as const, rule: saved.rule });
  }
  const result = await saveSettings(prisma, session.shop, form);
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
  const { settings, pipelines } = useLoaderData<typeof loader>();
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
      shopify.toast.show("Settings saved");
    }
  }, [actionData, shopify]);

  const set = <K extends keyof FormValues>(key: K) => (value: FormValues[K]) => setValues((v) => ({ ...v, [key]: value }));
  const save = () =>
    submit(
      { ...values, reviewBeforePublish: values.reviewBeforePublish ? "on" : "" },
      { method: "post", replace: true },
    );
  const colourPreview = /^#?[0-9a-fA-F]{6}$/.test(values.backgroundColor)
    ? `#${values.backgroundColor.replace(/^#/, "")}`
    : "transparent";
  const chosen = pipelines.find((p) => p.id === values.defaultPipeline);

  return (
    <Page
      title="Settings"
      primaryAction={{ content: "Save", onAction: save, loading: saving, disabled: saving }}
    >
      <Layout>
        <Layout.AnnotatedSection
          title="Defaults for new batches"
          description="Used when you open the Images page or start a batch from the Products list."
        >
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
                  label="Default pipeline"
                  name="defaultPipeline"
                  options={pipelines.map((p) => ({ label: p.label, value: p.id }))}
                  value={values.defaultPipeline}
                  onChange={set("defaultPipeline")}
                  helpText={chosen?.summary}
                  error={errors.defaultPipeline}
                />
                <Checkbox
                  label="Review before publishing"
                  name="reviewBeforePublish"
                  helpText="Processed images wait for your approval instead of replacing the product image right away."
                  checked={values.reviewBeforePublish}
                  onChange={set("reviewBeforePublish")}
                  error={errors.reviewBeforePublish}
                />
                <TextField
                  label="Background colour"
                  name="backgroundColor"
                  autoComplete="off"
                  value={values.backgroundColor}
                  onChange={set("backgroundColor")}
                  helpText="For the eBay and Instagram pipelines. Amazon always uses pure white (#FFFFFF)."
                  error={errors.backgroundColor}
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
                  label="Output size"
                  name="outputSizePreset"
                  options={[
                    { label: "Standard", value: "standard" },
                    { label: "Large (more detail for zoom, bigger files)", value: "large" },
                  ]}
                  value={values.outputSizePreset}
                  onChange={set("outputSizePreset")}
                  error={errors.outputSizePreset}
                />
                <TextField
                  label="Daily spend cap (credits)"
                  name="dailySpendCap"
                  type="number"
                  min={1}
                  autoComplete="off"
                  value={values.dailySpendCap}
                  onChange={set("dailySpendCap")}
                  helpText="Optional. New batches are refused once this many credits were used today. Leave empty for no cap."
                  error={errors.dailySpendCap}
                />
                <button type="submit" hidden aria-hidden tabIndex={-1} />
              </FormLayout>
            </form>
          </Card>
        </Layout.AnnotatedSection>
        <Layout.AnnotatedSection
          title="Automatic cleanup"
          description="Clean the images of new products as they are added, without opening the app. Images already in your store are not touched; use Whole catalogue for those."
        >
          <AutoRuleForm />
        </Layout.AnnotatedSection>
        <Layout.AnnotatedSection title="Pipelines" description="What each pipeline does to an image.">
          <Card>
            <BlockStack gap="300">
              {pipelines.map((p) => (
                <BlockStack key={p.id} gap="050">
                  <Text as="h3" variant="bodyMd" fontWeight="semibold">
                    {p.label}
                  </Text>
                  <Text as="p" tone="subdued">
                    {p.summary}
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
  const { rule, pipelines, creditsPerImage } = useLoaderData<typeof loader>();
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
    if (result?.ok) shopify.toast.show(result.rule.enabled ? "Automatic cleanup is on" : "Automatic cleanup is off");
  }, [result, shopify]);
  const set = <K extends keyof RuleValues>(key: K) => (value: RuleValues[K]) => setValues((v) => ({ ...v, [key]: value }));
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
          <Banner tone="warning" title="Paused">
            {current.pauseReason}
          </Banner>
        ) : null}
        <FormLayout>
          <Checkbox label="Clean new product images automatically" checked={values.enabled} onChange={set("enabled")} />
          <Select
            label="Pipeline"
            options={pipelines.map((p) => ({ label: p.label, value: p.id }))}
            value={values.pipeline}
            onChange={set("pipeline")}
            error={errors.pipeline}
          />
          <Select
            label="Which images"
            options={[
              { label: "All images of a new product", value: "all" },
              { label: "Only the featured (first) image", value: "featured" },
            ]}
            value={values.images}
            onChange={set("images")}
            error={errors.images}
          />
          <Checkbox
            label="Review before publishing"
            helpText="Cleaned images wait on the batch page for your approval. Off: they replace the product image at once (you can restore the original)."
            checked={values.reviewBeforePublish}
            onChange={set("reviewBeforePublish")}
          />
          <TextField
            label="Monthly budget (credits)"
            type="number"
            min={creditsPerImage}
            autoComplete="off"
            value={values.monthlyBudget}
            onChange={set("monthlyBudget")}
            helpText={`Each image costs ${creditsPerImage} credits. ${current.spentThisMonth} used this month. When the budget or your balance runs out the rule pauses and tells you here. Leave empty to use only your balance.`}
            error={errors.monthlyBudget}
          />
          <InlineStack align="end">
            <Button variant="primary" onClick={save} loading={saving}>
              Save rule
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
