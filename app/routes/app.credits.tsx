import { useEffect, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useNavigate, useSearchParams } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Collapsible,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Pagination,
  Spinner,
  Text,
} from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import { RouteError } from "~/components/RouteError";
import db from "~/db.server";
import { getConfig } from "~/lib/config.server";
import { useFormat } from "~/i18n/format";
import { useMessageText, useStoredText } from "~/i18n/messages";
import { errorResponse } from "~/lib/error-response.server";
import { errorPayload } from "~/lib/merchant-message";
import { checkRateLimit } from "~/lib/rate-limit.server";
import { CREDITS_PER_IMAGE } from "~/models/credits.server";
import {
  PurchaseInputError,
  PurchaseProviderError,
  createShopifyPurchase,
  createStripeCheckout,
  getCreditsOverview,
  getShopifyBillingMode,
  shopifyReturnUrl,
} from "~/models/purchases.server";
import { getStripeClient, getStripeConfig } from "~/models/stripe.server";
import { authenticate } from "~/shopify.server";

const loaderQuery = z.object({
  cursor: z.string().max(100).optional(),
  purchase: z.string().max(64).optional(),
});

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const params = new URL(request.url).searchParams;
  const query = loaderQuery.safeParse({ cursor: params.get("cursor") ?? undefined, purchase: params.get("purchase") ?? undefined });
  const { cursor, purchase } = query.success ? query.data : {};
  return json(await getCreditsOverview(db, session.shop, { cursor, purchaseId: purchase, creditsPerImage: CREDITS_PER_IMAGE }));
};

const buyForm = z.object({
  intent: z.enum(["buy-shopify", "buy-stripe"]),
  packId: z.string().min(1).max(40),
});

export const action = async ({ request }: ActionFunctionArgs) => {
  const { admin, session, redirect } = await authenticate.admin(request);
  const parsed = buyForm.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return json(errorPayload("Choose a credit pack and a way to pay.", { code: "choosePack" }), { status: 400 });
  // Returned, not thrown: the buy buttons' fetcher shows the message (a thrown 429 would reach the error boundary).
  const limited = await checkRateLimit("purchase-create", session.shop);
  if (limited) return json(await limited.json(), { status: 429, headers: { "Retry-After": limited.headers.get("Retry-After") ?? "1" } });
  const { intent, packId } = parsed.data;
  const appInAdmin = shopifyReturnUrl(session.shop, getConfig().SHOPIFY_API_KEY ?? "", "");
  try {
    if (intent === "buy-shopify") {
      const billing = getShopifyBillingMode();
      if (!billing.enabled) return json(errorPayload(billing.reason, { code: "shopifyBillingNotConfigured" }), { status: 400 });
      const { confirmationUrl } = await createShopifyPurchase({ db, graphql: admin.graphql }, session.shop, {
        packId,
        returnUrl: `${appInAdmin}/app/credits/return`,
        test: billing.test,
      });
      // Shopify's approval page cannot load inside the admin iframe: App Bridge opens it at the top level.
      return redirect(confirmationUrl, { target: "_top" });
    }
    const stripeConfig = getStripeConfig();
    if (!stripeConfig.enabled) return json(errorPayload(stripeConfig.reason, { code: "stripeNotConfigured" }), { status: 400 });
    const { checkoutUrl } = await createStripeCheckout({ db, stripe: getStripeClient(stripeConfig) }, session.shop, {
      packId,
      successUrl: `${appInAdmin}/app/credits/return?provider=stripe&session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${appInAdmin}/app/credits?checkout=cancelled`,
    });
    return redirect(checkoutUrl, { target: "_top" });
  } catch (error) {
    if (error instanceof PurchaseInputError || error instanceof PurchaseProviderError) {
      return errorResponse(error);
    }
    throw error;
  }
};

type Overview = ReturnType<typeof useLoaderData<typeof loader>>;

const LEDGER_KINDS = ["GRANT", "WELCOME", "PURCHASE", "RESERVE", "CAPTURE", "RELEASE", "ADJUSTMENT"] as const;
type LedgerKind = (typeof LEDGER_KINDS)[number];
const isLedgerKind = (kind: string): kind is LedgerKind => (LEDGER_KINDS as readonly string[]).includes(kind);

const UNPAID_STATUSES = ["DECLINED", "EXPIRED", "FAILED"] as const;
type UnpaidStatus = (typeof UNPAID_STATUSES)[number];
const isUnpaid = (status: string): status is UnpaidStatus => (UNPAID_STATUSES as readonly string[]).includes(status);

export default function CreditsPage() {
  const overview = useLoaderData<typeof loader>();
  const shopify = useAppBridge();
  const [searchParams] = useSearchParams();
  const returned = overview.returnedPurchase;
  const { t } = useTranslation();
  const format = useFormat();
  const storedText = useStoredText();

  useEffect(() => {
    if (returned?.status === "ACTIVE" && !returned.note) shopify.toast.show(t("credits.addedToast", { credits: returned.credits }));
  }, [returned?.id, returned?.status, returned?.credits, returned?.note, shopify, t]);

  const unpaid = recentUnpaid(overview);
  const imagesLeft = Math.floor(overview.balance.available / overview.creditsPerImage);

  return (
    <Page title={t("credits.title")} subtitle={t("credits.subtitle", { creditsPerImage: overview.creditsPerImage })}>
      <Layout>
        {returned?.status === "PENDING" ? (
          <Layout.Section>
            <Banner tone="info" title={t("credits.pendingTitle")}>
              <p>{t("credits.pendingBody", { pack: returned.packName, credits: returned.credits })}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {overview.owed > 0 ? (
          <Layout.Section>
            <Banner tone="critical" title={t("credits.owedTitle", { owed: overview.owed })}>
              <p>{t("credits.owedBody")}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {returned?.status === "ACTIVE" && returned.note ? (
          <Layout.Section>
            <Banner tone="warning" title={t("credits.fewerTitle")}>
              <p>{storedText(returned.noteMessage, returned.note)}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {unpaid.length > 0 ? (
          <Layout.Section>
            <Banner tone="warning" title={t("credits.unpaidTitle", { count: unpaid.length })}>
              <BlockStack gap="100">
                {unpaid.map((p) => (
                  <p key={p.id}>
                    {isUnpaid(p.status)
                      ? t(`credits.unpaid.${p.status}`, { pack: p.packName, credits: p.credits, price: format.currency(p.amountCents / 100, p.currency) })
                      : null}
                  </p>
                ))}
              </BlockStack>
            </Banner>
          </Layout.Section>
        ) : null}
        {searchParams.get("checkout") === "cancelled" ? (
          <Layout.Section>
            <Banner tone="info" title={t("credits.checkoutCancelledTitle")}>
              <p>{t("credits.checkoutCancelledBody")}</p>
            </Banner>
          </Layout.Section>
        ) : null}

        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                {t("credits.balance")}
              </Text>
              <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
                <Stat label={t("credits.available")} value={overview.balance.available} help={t("credits.enoughFor", { count: imagesLeft })} />
                <Stat label={t("credits.held")} value={overview.balance.reserved} help={t("credits.heldHelp")} />
                <Stat label={t("credits.total")} value={overview.balance.total} />
              </InlineGrid>
            </BlockStack>
          </Card>
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
          <HistoryCard overview={overview} />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function Stat({ label, value, help }: { label: string; value: number; help?: string }) {
  const format = useFormat();
  return (
    <BlockStack gap="100">
      <Text as="p" tone="subdued">
        {label}
      </Text>
      <Text as="p" variant="heading2xl">
        {format.number(value)}
      </Text>
      {help ? (
        <Text as="p" variant="bodySm" tone="subdued">
          {help}
        </Text>
      ) : null}
    </BlockStack>
  );
}

function PackCard({ pack, overview }: { pack: Overview["packs"][number]; overview: Overview }) {
  const fetcher = useFetcher<typeof action>();
  const busyIntent = fetcher.state !== "idle" ? fetcher.formData?.get("intent") : null;
  const images = Math.floor(pack.credits / overview.creditsPerImage);
  const { t } = useTranslation();
  const format = useFormat();
  const messageText = useMessageText();
  const error = fetcher.data && "error" in fetcher.data ? messageText(fetcher.data) : null;
  const buy = (intent: "buy-shopify" | "buy-stripe") => fetcher.submit({ intent, packId: pack.id }, { method: "post" });
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h3" variant="headingMd">
            {pack.name}
          </Text>
          <Text as="p" variant="headingLg">
            {format.currency(pack.priceCents / 100, pack.currency)}
          </Text>
        </InlineStack>
        <Text as="p">
          {t("credits.packLine", { credits: pack.credits, images, pricePerImage: format.currency(pack.pricePerImageCents / 100, pack.currency) })}
        </Text>
        {error ? (
          <Banner tone="critical">
            <p>{error}</p>
          </Banner>
        ) : null}
        <BlockStack gap="200">
          <Button
            variant="primary"
            onClick={() => buy("buy-shopify")}
            loading={busyIntent === "buy-shopify"}
            disabled={!overview.shopifyBilling.enabled || busyIntent != null}
            accessibilityLabel={t("credits.buyWithShopifyLabel", { pack: pack.name })}
          >
            {t("credits.buyWithShopify")}
          </Button>
          {overview.stripe.enabled ? (
            <Button
              onClick={() => buy("buy-stripe")}
              loading={busyIntent === "buy-stripe"}
              disabled={busyIntent != null}
              accessibilityLabel={t("credits.payWithStripeLabel", { pack: pack.name })}
            >
              {t("credits.payWithStripe")}
            </Button>
          ) : null}
        </BlockStack>
      </BlockStack>
    </Card>
  );
}

function HistoryCard({ overview }: { overview: Overview }) {
  const navigate = useNavigate();
  const [searchParams] = useSearchParams();
  const previous = (searchParams.get("prev") ?? "").split(",").filter(Boolean);
  const cursor = searchParams.get("cursor");
  const lines = overview.history.lines;
  const { t } = useTranslation();
  const format = useFormat();
  const storedText = useStoredText();

  const goTo = (nextCursor: string | null, prev: string[]) => {
    const params = new URLSearchParams();
    if (nextCursor) params.set("cursor", nextCursor);
    if (prev.length > 0) params.set("prev", prev.join(","));
    navigate(`/app/credits${params.size > 0 ? `?${params}` : ""}`);
  };

  return (
    <Card padding="0">
      <Box padding="400">
        <Text as="h2" variant="headingMd">
          {t("credits.history")}
        </Text>
      </Box>
      {lines.length === 0 && !cursor ? (
        <Box padding="400" paddingBlockStart="0">
          <Text as="p" tone="subdued">
            {t("credits.noActivity")}
          </Text>
        </Box>
      ) : (
        <IndexTable
          resourceName={{ singular: t("credits.lineSingular"), plural: t("credits.linePlural") }}
          itemCount={lines.length}
          selectable={false}
          headings={[
            { title: t("credits.columns.date") },
            { title: t("credits.columns.activity") },
            { title: t("credits.columns.change"), alignment: "end" },
            { title: t("credits.columns.held"), alignment: "end" },
            { title: t("credits.columns.details") },
          ]}
          pagination={{
            hasPrevious: cursor != null,
            onPrevious: () => goTo(previous.at(-1) === "first" ? null : (previous.at(-1) ?? null), previous.slice(0, -1)),
            hasNext: overview.history.nextCursor != null,
            onNext: () => goTo(overview.history.nextCursor, [...previous, cursor ?? "first"]),
          }}
        >
          {lines.map((line, index) => (
            <IndexTable.Row id={line.key} key={line.key} position={index}>
              <IndexTable.Cell>{format.dateTime(line.at)}</IndexTable.Cell>
              <IndexTable.Cell>
                {line.batch ? (
                  <Badge tone="attention">{t("credits.batchBadge")}</Badge>
                ) : (
                  <Badge tone={badgeTone(line.kind ?? "")}>{line.kind && isLedgerKind(line.kind) ? t(`credits.kind.${line.kind}`) : (line.kind ?? "")}</Badge>
                )}
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {signed(line.available, format.number)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric tone="subdued">
                  {line.held === 0 ? "" : signed(line.held, format.number)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>{line.batch ? <BatchLine batch={line.batch} /> : (storedText(line.noteMessage, line.note) ?? "")}</IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
      )}
      {/* Pagination for screen readers and when the table is empty on a later page. */}
      {lines.length === 0 && cursor ? (
        <Box padding="400">
          <Pagination hasPrevious onPrevious={() => goTo(null, [])} hasNext={false} />
        </Box>
      ) : null}
    </Card>
  );
}

type BatchSummary = NonNullable<Overview["history"]["lines"][number]["batch"]>;

/** A batch's summary, opening to what each of its images cost. */
function BatchLine({ batch }: { batch: BatchSummary }) {
  const fetcher = useFetcher<{ lines: Array<{ itemId: string; productTitle: string; position: number; charged: number; returned: number; held: number }> }>();
  const [open, setOpen] = useState(false);
  const { t } = useTranslation();
  const toggle = () => {
    if (!open && !fetcher.data) fetcher.load(`/app/credits/batches/${batch.id}`);
    setOpen(!open);
  };
  const parts = [t("credits.batchImages", { count: batch.images }), t("credits.spent", { amount: batch.charged })];
  if (batch.returned > 0) parts.push(t("credits.returned", { amount: batch.returned }));
  if (batch.held > 0) parts.push(t("credits.heldCount", { amount: batch.held }));
  return (
    <BlockStack gap="100">
      <InlineStack gap="200" blockAlign="center">
        <Text as="span">{parts.join(" · ")}</Text>
        <Button variant="plain" onClick={toggle} ariaExpanded={open} ariaControls={`batch-credits-${batch.id}`}>
          {open ? t("credits.hideImages") : t("credits.showImages")}
        </Button>
        <Button variant="plain" url={`/app/batches/${batch.id}`}>
          {t("credits.openBatch")}
        </Button>
      </InlineStack>
      <Collapsible id={`batch-credits-${batch.id}`} open={open}>
        {fetcher.data ? (
          <BlockStack gap="050">
            {fetcher.data.lines.map((item) => (
              <Text as="p" variant="bodySm" tone="subdued" key={item.itemId}>
                {t("credits.itemLine", { product: item.productTitle, position: item.position })}
                {item.charged > 0
                  ? t("credits.spent", { amount: item.charged })
                  : item.returned > 0
                    ? t("credits.returned", { amount: item.returned })
                    : item.held > 0
                      ? t("credits.heldCount", { amount: item.held })
                      : t("credits.nothingCharged")}
              </Text>
            ))}
          </BlockStack>
        ) : (
          <Spinner size="small" accessibilityLabel={t("credits.loadingBatch")} />
        )}
      </Collapsible>
    </BlockStack>
  );
}

function signed(value: number, format: (n: number) => string): string {
  return value > 0 ? `+${format(value)}` : format(value);
}

function badgeTone(kind: string): "success" | "info" | "attention" | "critical" | undefined {
  if (kind === "PURCHASE" || kind === "WELCOME" || kind === "GRANT") return "success";
  if (kind === "RESERVE") return "attention";
  if (kind === "RELEASE") return "info";
  return undefined;
}

/** Declined, expired or failed purchases of the last week not followed by a completed one. */
function recentUnpaid(overview: Overview) {
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
  const lastPaid = overview.recentPurchases.find((p) => p.status === "ACTIVE");
  const lastPaidAt = lastPaid ? new Date(lastPaid.createdAt).getTime() : 0;
  return overview.recentPurchases.filter((p) => {
    const at = new Date(p.createdAt).getTime();
    return isUnpaid(p.status) && at > weekAgo && at > lastPaidAt;
  });
}

export function ErrorBoundary() {
  const { t } = useTranslation();
  return <RouteError title={t("credits.loadError")} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
