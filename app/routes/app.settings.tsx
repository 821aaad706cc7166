import { useEffect, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { BlockStack, Card, Checkbox, FormLayout, Layout, Page, Select, Text, TextField } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { RouteError } from "~/components/RouteError";
import prisma from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import { getSettings, saveSettings, type SettingsErrors, type ShopSettings } from "~/models/settings.server";
import { authenticate } from "~/shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const settings = await getSettings(prisma, session.shop);
  const pipelines = PIPELINE_IDS.map((id) => {
    const p = getPipeline(id);
    return { id: p.id, label: p.label, summary: p.summary };
  });
  return json({ settings, pipelines });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = Object.fromEntries(await request.formData());
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
  const errors: SettingsErrors = actionData && !actionData.ok ? actionData.errors : {};

  useEffect(() => {
    if (actionData?.ok) {
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

export function ErrorBoundary() {
  return <RouteError />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
