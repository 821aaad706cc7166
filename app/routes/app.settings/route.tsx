import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Card, Layout, Page, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { RouteError } from "~/components/RouteError";
import { authenticate } from "~/shopify.server";
import { AutoRuleForm } from "./components/AutoRuleForm";
import { ShopSettingsForm, useShopSettingsForm } from "./components/ShopSettingsForm";
import { answerSettingsForm, settingsPageData } from "./view-model.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return json(await settingsPageData(session.shop));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return answerSettingsForm(session.shop, Object.fromEntries(await request.formData()));
};

export default function SettingsPage() {
  const { settings, rule, pipelines, creditsPerImage, limits } = useLoaderData<typeof loader>();
  const { t } = useTranslation();
  const form = useShopSettingsForm(settings, limits);

  return (
    <Page
      title={t("settings.title")}
      primaryAction={{ content: t("settings.save"), onAction: form.save, loading: form.saving, disabled: form.saving }}
    >
      <Layout>
        <Layout.AnnotatedSection title={t("settings.defaultsTitle")} description={t("settings.defaultsDescription")}>
          <ShopSettingsForm form={form} pipelines={pipelines} />
        </Layout.AnnotatedSection>
        <Layout.AnnotatedSection title={t("settings.autoTitle")} description={t("settings.autoDescription")}>
          <AutoRuleForm rule={rule} pipelines={pipelines} creditsPerImage={creditsPerImage} limits={limits} />
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

export function ErrorBoundary() {
  return <RouteError />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
