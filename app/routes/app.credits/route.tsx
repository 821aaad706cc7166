import { useEffect } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Banner, BlockStack, InlineGrid, Layout, Page, Text } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { RouteError } from "~/components/RouteError";
import { checkRateLimit } from "~/lib/rate-limit.server";
import { authenticate } from "~/shopify.server";
import { BalanceCard } from "./components/BalanceCard";
import { HistoryCard } from "./components/HistoryCard";
import { PackCard } from "./components/PackCard";
import { PurchaseBanners } from "./components/PurchaseBanners";
import { creditsPageData, readBuyForm, startPurchase } from "./view-model.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return json(await creditsPageData(session.shop, new URL(request.url)));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { admin, session, redirect } = await authenticate.admin(request);
  const buy = readBuyForm(await request.formData());
  if (buy instanceof Response) return buy;
  // Returned, not thrown: the buy buttons' fetcher shows the message (a thrown 429 would reach the error boundary).
  const limited = await checkRateLimit("purchase-create", session.shop);
  if (limited) return json(await limited.json(), { status: 429, headers: { "Retry-After": limited.headers.get("Retry-After") ?? "1" } });
  const started = await startPurchase(admin.graphql, session.shop, buy);
  if (started instanceof Response) return started;
  // Shopify's approval page and Stripe Checkout cannot load inside the admin iframe: App Bridge opens them at the top level.
  return redirect(started.checkoutUrl, { target: "_top" });
};

export default function CreditsPage() {
  const overview = useLoaderData<typeof loader>();
  const shopify = useAppBridge();
  const returned = overview.returnedPurchase;
  const { t } = useTranslation();

  useEffect(() => {
    if (returned?.status === "ACTIVE" && !returned.note) shopify.toast.show(t("credits.addedToast", { credits: returned.credits }));
  }, [returned?.id, returned?.status, returned?.credits, returned?.note, shopify, t]);

  return (
    <Page title={t("credits.title")} subtitle={t("credits.subtitle", { creditsPerImage: overview.creditsPerImage })}>
      <Layout>
        <PurchaseBanners overview={overview} />

        <Layout.Section>
          <BalanceCard balance={overview.balance} creditsPerImage={overview.creditsPerImage} />
        </Layout.Section>

        <Layout.Section>
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">
              {t("credits.buyCredits")}
            </Text>
            {!overview.shopifyBilling.enabled ? (
              <Banner tone="warning">
                <p>{t("messages.shopifyBillingNotConfigured")}</p>
              </Banner>
            ) : null}
            <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
              {overview.packs.map((pack) => (
                <PackCard key={pack.id} pack={pack} overview={overview} />
              ))}
            </InlineGrid>
            {!overview.stripe.enabled ? (
              <Text as="p" tone="subdued">
                {t("messages.stripeNotConfigured")}
              </Text>
            ) : null}
          </BlockStack>
        </Layout.Section>

        <Layout.Section>
          <HistoryCard history={overview.history} />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  const { t } = useTranslation();
  return <RouteError title={t("credits.loadError")} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
