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
import { z } from "zod";
import { RouteError } from "~/components/RouteError";
import db from "~/db.server";
import { getConfig } from "~/lib/config.server";
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
  if (!parsed.success) return json({ error: "Choose a credit pack and a way to pay." }, { status: 400 });
  // Returned, not thrown: the buy buttons' fetcher shows the message (a thrown 429 would reach the error boundary).
  const limited = await checkRateLimit("purchase-create", session.shop);
  if (limited) return json({ error: (await limited.json()).error as string }, { status: 429, headers: { "Retry-After": limited.headers.get("Retry-After") ?? "1" } });
  const { intent, packId } = parsed.data;
  const appInAdmin = shopifyReturnUrl(session.shop, getConfig().SHOPIFY_API_KEY ?? "", "");
  try {
    if (intent === "buy-shopify") {
      const billing = getShopifyBillingMode();
      if (!billing.enabled) return json({ error: billing.reason }, { status: 400 });
      const { confirmationUrl } = await createShopifyPurchase({ db, graphql: admin.graphql }, session.shop, {
        packId,
        returnUrl: `${appInAdmin}/app/credits/return`,
        test: billing.test,
      });
      // Shopify's approval page cannot load inside the admin iframe: App Bridge opens it at the top level.
      return redirect(confirmationUrl, { target: "_top" });
    }
    const stripeConfig = getStripeConfig();
    if (!stripeConfig.enabled) return json({ error: stripeConfig.reason }, { status: 400 });
    const { checkoutUrl } = await createStripeCheckout({ db, stripe: getStripeClient(stripeConfig) }, session.shop, {
      packId,
      successUrl: `${appInAdmin}/app/credits/return?provider=stripe&session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${appInAdmin}/app/credits?checkout=cancelled`,
    });
    return redirect(checkoutUrl, { target: "_top" });
  } catch (error) {
    if (error instanceof PurchaseInputError || error instanceof PurchaseProviderError) {
      return json({ error: error.message }, { status: error.status });
    }
    throw error;
  }
};

type Overview = ReturnType<typeof useLoaderData<typeof loader>>;

const KIND_LABELS: Record<string, string> = {
  GRANT: "Grant",
  WELCOME: "Welcome credits",
  PURCHASE: "Purchase",
  RESERVE: "Held for an image",
  CAPTURE: "Spent on an image",
  RELEASE: "Returned",
  ADJUSTMENT: "Adjustment",
};

const UNPAID_STATUS_TEXT: Record<string, string> = {
  DECLINED: "was declined",
  EXPIRED: "expired before it was approved",
  FAILED: "could not be charged",
};

export default function CreditsPage() {
  const overview = useLoaderData<typeof loader>();
  const shopify = useAppBridge();
  const [searchParams] = useSearchParams();
  const returned = overview.returnedPurchase;

  useEffect(() => {
    if (returned?.status === "ACTIVE" && !returned.note) shopify.toast.show(`${returned.credits} credits added to your balance`);
  }, [returned?.id, returned?.status, returned?.credits, returned?.note, shopify]);

  const unpaid = recentUnpaid(overview);
  const imagesLeft = Math.floor(overview.balance.available / overview.creditsPerImage);

  return (
    <Page title="Credits" subtitle={`Each image costs ${overview.creditsPerImage} credits. You pay only for images that were published.`}>
      <Layout>
        {returned?.status === "PENDING" ? (
          <Layout.Section>
            <Banner tone="info" title="Your payment is being processed">
              <p>The {returned.packName} pack's {returned.credits} credits appear here as soon as the payment completes.</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {overview.owed > 0 ? (
          <Layout.Section>
            <Banner tone="critical" title={`You owe ${overview.owed} credits`}>
              <p>
                A payment for credits was refunded or disputed after its credits were spent. New batches are paused until it is paid:
                the next credit pack you buy pays it first.
              </p>
            </Banner>
          </Layout.Section>
        ) : null}
        {returned?.status === "ACTIVE" && returned.note ? (
          <Layout.Section>
            <Banner tone="warning" title="Fewer credits than the pack holds">
              <p>{returned.note}</p>
            </Banner>
          </Layout.Section>
        ) : null}
        {unpaid.length > 0 ? (
          <Layout.Section>
            <Banner tone="warning" title={unpaid.length === 1 ? "A credit purchase was not completed" : "Some credit purchases were not completed"}>
              <BlockStack gap="100">
                {unpaid.map((p) => (
                  <p key={p.id}>
                    {p.packName} pack ({p.credits} credits, {p.price}) {UNPAID_STATUS_TEXT[p.status] ?? "was not completed"}. No money was
                    taken and no credits were added; buy the pack again to try once more.
                  </p>
                ))}
              </BlockStack>
            </Banner>
          </Layout.Section>
        ) : null}
        {searchParams.get("checkout") === "cancelled" ? (
          <Layout.Section>
            <Banner tone="info" title="Checkout cancelled">
              <p>Nothing was charged.</p>
            </Banner>
          </Layout.Section>
        ) : null}

        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                Balance
              </Text>
              <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
                <Stat label="Available" value={overview.balance.available} help={`Enough for ${imagesLeft} ${imagesLeft === 1 ? "image" : "images"}`} />
                <Stat label="Held for images in progress" value={overview.balance.reserved} help="Spent when an image is published, returned if it fails" />
                <Stat label="Total" value={overview.balance.total} />
              </InlineGrid>
            </BlockStack>
          </Card>
        </Layout.Section>

        <Layout.Section>
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">
              Buy credits
            </Text>
            {!overview.shopifyBilling.enabled ? (
              <Banner tone="warning">
                <p>{overview.shopifyBilling.reason}</p>
              </Banner>
            ) : null}
            <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
              {overview.packs.map((pack) => (
                <PackCard key={pack.id} pack={pack} overview={overview} />
              ))}
            </InlineGrid>
            {!overview.stripe.enabled ? (
              <Text as="p" tone="subdued">
                {overview.stripe.reason}
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
  return (
    <BlockStack gap="100">
      <Text as="p" tone="subdued">
        {label}
      </Text>
      <Text as="p" variant="heading2xl">
        {value.toLocaleString("en-US")}
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
  const error = fetcher.data && "error" in fetcher.data ? fetcher.data.error : null;
  const buy = (intent: "buy-shopify" | "buy-stripe") => fetcher.submit({ intent, packId: pack.id }, { method: "post" });
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h3" variant="headingMd">
            {pack.name}
          </Text>
          <Text as="p" variant="headingLg">
            {pack.price}
          </Text>
        </InlineStack>
        <Text as="p">
          {pack.credits} credits — {images} images ({pack.pricePerImage} per image)
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
            accessibilityLabel={`Buy the ${pack.name} pack with Shopify`}
          >
            Buy with Shopify
          </Button>
          {overview.stripe.enabled ? (
            <Button
              onClick={() => buy("buy-stripe")}
              loading={busyIntent === "buy-stripe"}
              disabled={busyIntent != null}
              accessibilityLabel={`Pay for the ${pack.name} pack with Stripe`}
            >
              Pay with Stripe
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
          History
        </Text>
      </Box>
      {lines.length === 0 && !cursor ? (
        <Box padding="400" paddingBlockStart="0">
          <Text as="p" tone="subdued">
            No credit activity yet. Credits you receive, buy and spend appear here.
          </Text>
        </Box>
      ) : (
        <IndexTable
          resourceName={{ singular: "line", plural: "lines" }}
          itemCount={lines.length}
          selectable={false}
          headings={[{ title: "Date" }, { title: "Activity" }, { title: "Change", alignment: "end" }, { title: "Held", alignment: "end" }, { title: "Details" }]}
          pagination={{
            hasPrevious: cursor != null,
            onPrevious: () => goTo(previous.at(-1) === "first" ? null : (previous.at(-1) ?? null), previous.slice(0, -1)),
            hasNext: overview.history.nextCursor != null,
            onNext: () => goTo(overview.history.nextCursor, [...previous, cursor ?? "first"]),
          }}
        >
          {lines.map((line, index) => (
            <IndexTable.Row id={line.key} key={line.key} position={index}>
              <IndexTable.Cell>{new Date(line.at).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" })}</IndexTable.Cell>
              <IndexTable.Cell>
                {line.batch ? <Badge tone="attention">Batch</Badge> : <Badge tone={badgeTone(line.kind ?? "")}>{KIND_LABELS[line.kind ?? ""] ?? line.kind ?? ""}</Badge>}
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {signed(line.available)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric tone="subdued">
                  {line.held === 0 ? "" : signed(line.held)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>{line.batch ? <BatchLine batch={line.batch} /> : (line.note ?? "")}</IndexTable.Cell>
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
  const toggle = () => {
    if (!open && !fetcher.data) fetcher.load(`/app/credits/batches/${batch.id}`);
    setOpen(!open);
  };
  const parts = [`${batch.images} image${batch.images === 1 ? "" : "s"}`, `${batch.charged} spent`];
  if (batch.returned > 0) parts.push(`${batch.returned} returned`);
  if (batch.held > 0) parts.push(`${batch.held} held`);
  return (
    <BlockStack gap="100">
      <InlineStack gap="200" blockAlign="center">
        <Text as="span">{parts.join(" · ")}</Text>
        <Button variant="plain" onClick={toggle} ariaExpanded={open} ariaControls={`batch-credits-${batch.id}`}>
          {open ? "Hide images" : "Show images"}
        </Button>
        <Button variant="plain" url={`/app/batches/${batch.id}`}>
          Open batch
        </Button>
      </InlineStack>
      <Collapsible id={`batch-credits-${batch.id}`} open={open}>
        {fetcher.data ? (
          <BlockStack gap="050">
            {fetcher.data.lines.map((item) => (
              <Text as="p" variant="bodySm" tone="subdued" key={item.itemId}>
                {`${item.productTitle}, image ${item.position}: `}
                {item.charged > 0 ? `${item.charged} spent` : item.returned > 0 ? `${item.returned} returned` : item.held > 0 ? `${item.held} held` : "nothing charged"}
              </Text>
            ))}
          </BlockStack>
        ) : (
          <Spinner size="small" accessibilityLabel="Loading the batch's images" />
        )}
      </Collapsible>
    </BlockStack>
  );
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
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
    return p.status in UNPAID_STATUS_TEXT && at > weekAgo && at > lastPaidAt;
  });
}

export function ErrorBoundary() {
  return <RouteError title="Credits could not be loaded" />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
