import { randomUUID } from "node:crypto";
import { Prisma, type PrismaClient, type Purchase, type PurchaseStatus } from "@prisma/client";
import type Stripe from "stripe";
import { runGraphql, ShopifyApiError, ShopifyThrottledError, withThrottleRetry, type AdminGraphql } from "~/lib/admin-graphql.server";
import { getConfig, type Config } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { purchases as purchaseMetric } from "~/lib/metrics.server";
import {
  type Balance,
  devStoreTestCredits,
  getBalance,
  getDebt,
  grantCreditsInTransaction,
  LEDGER_TX_OPTIONS,
  lockFreeCreditsOfShop,
} from "./credits.server";
import {
  type CreditPack,
  findCreditPack,
  findCreditPackByChargeName,
  formatPrice,
  getCreditPacks,
  packLabel,
  priceDecimal,
  shopifyChargeName,
} from "./packs.server";
import { type ActivityPage, creditActivity } from "./credit-history.server";
import { type ReversalChange, type ReversalWhy, applyReversal, withLockedPurchase } from "./purchase-reversals.server";
import { type StripeConfig, getStripeConfig } from "./stripe.server";
import { AppError } from "~/lib/app-error";
import { storedMessage, type MerchantMessage, type MerchantText } from "~/lib/merchant-message";
import type { CurrencyCode } from "~/types/admin.types";

/**
 * Credit packs bought once, through Shopify's Billing API (App Store installs) or Stripe Checkout
 * (custom-distribution installs). A purchase is recorded PENDING before the merchant is sent to pay;
 * it is granted exactly once, keyed in the ledger on the provider's id (`shopify-purchase:<gid>`,
 * `stripe-session:<id>`), whichever notification (webhook, return URL, second event) arrives first.
 */

/** Input the merchant can fix (unknown pack, provider not configured). Routes answer 400 with the message. */
export class PurchaseInputError extends AppError {
  constructor(message: string, merchant: MerchantMessage | null = null) {
    super(message, { httpStatus: 400, merchant });
    this.name = "PurchaseInputError";
  }
}

/** The payment provider refused or failed; the message is safe to show. Routes answer 502. */
export class PurchaseProviderError extends AppError {
  constructor(message: string, options?: { cause?: unknown; merchant?: MerchantMessage }) {
    super(message, { httpStatus: 502, merchant: options?.merchant ?? null, cause: options?.cause });
    this.name = "PurchaseProviderError";
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/**
 * Whether Shopify one-time purchases are created as test charges. Must be set explicitly
 * (SHOPIFY_BILLING_TEST=true|false): the library's default (test) would silently give credits away in production.
 */
export function getShopifyBillingMode(config: Config = getConfig()): { enabled: true; test: boolean } | { enabled: false; reason: string } {
  const test = config.SHOPIFY_BILLING_TEST;
  if (test !== undefined) return { enabled: true, test };
  return {
    enabled: false,
    reason: "Shopify billing is not configured for this app yet (SHOPIFY_BILLING_TEST must be true or false). Please contact support.",
  };
}

/** Where Shopify sends the merchant back after approving or declining: the app's route inside Shopify admin. */
export function shopifyReturnUrl(shop: string, apiKey: string, path = "/app/credits/return"): string {
  return `https://admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, "")}/apps/${apiKey}${path}`;
}

// ---------------------------------------------------------------------------------------------
// Shopify one-time purchases
// ---------------------------------------------------------------------------------------------

const SHOPIFY_GID_PREFIX = "gid://shopify/AppPurchaseOneTime/";

export function shopifyPurchaseGid(chargeId: string): string | null {
  if (/^\d{1,20}$/.test(chargeId)) return `${SHOPIFY_GID_PREFIX}${chargeId}`;
  if (chargeId.startsWith(SHOPIFY_GID_PREFIX) && /^\d{1,20}$/.test(chargeId.slice(SHOPIFY_GID_PREFIX.length))) return chargeId;
  return null;
}

const CREATE_PURCHASE = `#graphql
  mutation CreditPackPurchaseCreate($name: String!, $price: MoneyInput!, $returnUrl: URL!, $test: Boolean) {
    appPurchaseOneTimeCreate(name: $name, price: $price, returnUrl: $returnUrl, test: $test) {
      appPurchaseOneTime { id name status test }
      confirmationUrl
      userErrors { field message }
    }
  }`;

const ONE_TIME_PURCHASE = `#graphql
  query CreditPackPurchase($id: ID!) {
    node(id: $id) {
      ... on AppPurchaseOneTime { id name status test price { amount currencyCode } createdAt }
    }
  }`;

const SHOP_PLAN = `#graphql
  query ShopPlanForBilling {
    shop { plan { partnerDevelopment } }
  }`;

/**
 * One Admin call of the purchase flow, through the app's runner. The merchant is waiting on the page, so THROTTLED is
 * waited out (Shopify ran nothing, so a mutation is safe to send again); any other failure of Shopify's becomes
 * `failure`, a message the merchant can act on.
 */
async function purchaseCall<T>(
  failure: { shop: string; message: string; merchant: MerchantMessage },
  call: () => Promise<{ data: T }>,
): Promise<T> {
  try {
    return (await withThrottleRetry(call)).data;
  } catch (error) {
    if (!(error instanceof ShopifyApiError || error instanceof ShopifyThrottledError)) throw error;
    logger.error({ shop: failure.shop, err: error.message }, "Shopify billing call failed");
    throw new PurchaseProviderError(failure.message, { cause: error, merchant: failure.merchant });
  }
}

/** Creates the charge, records it PENDING, and returns the URL the merchant must open (top level) to approve it. */
export async function createShopifyPurchase(
  deps: { db: PrismaClient; graphql: AdminGraphql },
  shop: string,
  input: { packId: string; returnUrl: string; test: boolean },
): Promise<{ purchaseId: string; confirmationUrl: string }> {
  const pack = requirePack(input.packId);
  // Shopify never charges a development store: its charges must be test charges, granted only up to a cap.
  const developmentStore = await recordShopPlan(deps, shop);
  const data = await purchaseCall(
    { shop, message: "Shopify could not start the purchase. Please try again in a minute.", merchant: { code: "shopifyPurchaseFailed" } },
    () =>
      runGraphql(deps.graphql, CREATE_PURCHASE, {
        name: shopifyChargeName(pack),
        // CREDIT_PACKS currencies are three-letter codes; Shopify answers a userError for one it does not bill in.
        price: { amount: priceDecimal(pack.priceCents), currencyCode: pack.currency as CurrencyCode },
        returnUrl: input.returnUrl,
        test: input.test || developmentStore,
      }),
  );
  const payload = data.appPurchaseOneTimeCreate;
  if (!payload) {
    logger.error({ shop }, "appPurchaseOneTimeCreate returned nothing");
    throw new PurchaseProviderError("Shopify could not start the purchase. Please try again in a minute.", {
      merchant: { code: "shopifyPurchaseFailed" },
    });
  }
  if (payload.userErrors.length > 0 || !payload.appPurchaseOneTime || !payload.confirmationUrl) {
    logger.warn({ shop, userErrors: payload.userErrors }, "appPurchaseOneTimeCreate refused");
    const detail = payload.userErrors.map((e) => e.message).join("; ") || "no confirmation URL";
    throw new PurchaseProviderError(`Shopify refused the purchase: ${detail}.`, {
      merchant: { code: "shopifyPurchaseRefused", params: { detail } },
    });
  }
  const purchase = await deps.db.purchase.create({
    data: {
      shop,
      provider: "SHOPIFY",
      externalId: payload.appPurchaseOneTime.id,
      pack: pack.id,
      credits: pack.credits,
      amountCents: pack.priceCents,
      currency: pack.currency,
      status: "PENDING",
      test: payload.appPurchaseOneTime.test,
    },
  });
  logger.info({ shop, purchaseId: purchase.id, externalId: purchase.externalId, pack: pack.id }, "shopify purchase created");
  return { purchaseId: purchase.id, confirmationUrl: payload.confirmationUrl };
}

/**
 * The return URL: Shopify appends `charge_id`. The status is read back from the Admin API (never
 * trusted from the URL), then applied like the webhook would. Returns null when this shop has no such purchase.
 */
export async function confirmShopifyPurchase(
  deps: { db: PrismaClient; graphql: AdminGraphql },
  shop: string,
  chargeId: string,
): Promise<PurchaseSummary | null> {
  const gid = shopifyPurchaseGid(chargeId);
  if (!gid) return null;
  // One `node(id:)` read: a purchase of another app or shop is not visible to this token and reads as null.
  const { node } = await purchaseCall(
    {
      shop,
      message: "Shopify could not confirm the purchase right now. Reload this page in a minute.",
      merchant: { code: "shopifyConfirmFailed" },
    },
    () => runGraphql(deps.graphql, ONE_TIME_PURCHASE, { id: gid }),
  );
  if (!node || !("status" in node) || node.id !== gid) return null;
  if (node.test) await recordShopPlan(deps, shop);
  const { purchase } = await applyShopifyPurchaseUpdate(deps.db, {
    shop,
    gid: node.id,
    status: node.status,
    name: node.name,
    test: node.test,
    price: { amount: String(node.price.amount), currencyCode: node.price.currencyCode },
  });
  return purchase ? summarize(purchase) : null;
}

/**
 * Reads whether the shop is a development store (`shop.plan.partnerDevelopment`) and records it on the Shop row,
 * where settlement reads it (a webhook has no Admin client). Returns it.
 */
export async function recordShopPlan(deps: { db: PrismaClient; graphql: AdminGraphql }, shop: string): Promise<boolean> {
  const data = await purchaseCall(
    {
      shop,
      message: "Shopify could not tell us your store's plan right now. Please try again in a minute.",
      merchant: { code: "shopifyPlanUnknown" },
    },
    () => runGraphql(deps.graphql, SHOP_PLAN),
  );
  const { plan } = data.shop;
  const fields = { partnerDevelopment: plan.partnerDevelopment, planCheckedAt: new Date() };
  await deps.db.shop.upsert({ where: { domain: shop }, create: { domain: shop, ...fields }, update: fields });
  return plan.partnerDevelopment;
}

/**
 * Applies a status Shopify reported (webhook payload or Admin API read-back). ACTIVE grants once;
 * DECLINED and EXPIRED are recorded, never granted; a granted purchase is never downgraded.
 * A purchase this app did not record (lost row, unknown or uninstalled shop) is recorded now, not dropped.
 */
export async function applyShopifyPurchaseUpdate(
  db: PrismaClient,
  update: {
    shop: string;
    gid: string;
    status: string;
    name: string;
    test?: boolean;
    price?: { amount: string | number; currencyCode: string };
  },
): Promise<{ purchase: Purchase | null; granted: boolean }> {
  const status = mapShopifyStatus(update.status);
  return db.$transaction(async (tx) => {
    const existing = await tx.purchase.findUnique({ where: { externalId: update.gid } });
    if (!existing) {
      const pack =
        findCreditPackByChargeName(update.name) ??
        (update.price ? getCreditPacks().find((p) => priceDecimal(p.priceCents) === Number(update.price!.amount).toFixed(2)) : undefined);
      if (!pack)
        logger.error(
          { shop: update.shop, gid: update.gid, name: update.name },
          "purchase for an unknown pack: recorded without credits, adjust by hand",
        );
      await tx.purchase.upsert({
        where: { externalId: update.gid },
        update: {},
        create: {
          shop: update.shop,
          provider: "SHOPIFY",
          externalId: update.gid,
          pack: pack?.id ?? "unknown",
          credits: pack?.credits ?? 0,
          amountCents: update.price ? Math.round(Number(update.price.amount) * 100) : (pack?.priceCents ?? 0),
          currency: update.price?.currencyCode ?? pack?.currency ?? "USD",
          status: "PENDING",
          test: update.test ?? false,
        },
      });
    }
    const purchase = await lockPurchase(tx, update.gid);
    if (purchase.shop !== update.shop) {
      logger.error({ shop: update.shop, owner: purchase.shop, gid: update.gid }, "purchase update for another shop ignored");
      return { purchase: null, granted: false };
    }
    return settlePurchase(tx, purchase, status, `shopify-purchase:${purchase.externalId}`);
  }, LEDGER_TX_OPTIONS);
}

function mapShopifyStatus(status: string): PurchaseStatus {
  switch (status.toUpperCase()) {
    case "ACTIVE":
      return "ACTIVE";
    case "DECLINED":
      return "DECLINED";
    case "EXPIRED":
      return "EXPIRED";
    default:
      // PENDING, and ACCEPTED (approved but not yet charged): nothing to grant yet.
      return "PENDING";
  }
}

// ---------------------------------------------------------------------------------------------
// Stripe Checkout
// ---------------------------------------------------------------------------------------------

/** Creates a Checkout Session in payment mode, records it PENDING, and returns Stripe's hosted page URL. */
export async function createStripeCheckout(
  deps: { db: PrismaClient; stripe: Stripe },
  shop: string,
  input: { packId: string; successUrl: string; cancelUrl: string },
): Promise<{ purchaseId: string; checkoutUrl: string }> {
  const pack = requirePack(input.packId);
  const customer = await ensureStripeCustomer(deps, shop);
  const purchaseId = randomUUID();
  const metadata = { shop, pack: pack.id, credits: String(pack.credits), purchaseId };
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.create(
      {
        mode: "payment",
        customer,
        client_reference_id: purchaseId,
        metadata,
        payment_intent_data: { metadata },
        line_items: [
          pack.stripePriceId
            ? { price: pack.stripePriceId, quantity: 1 }
            : {
                quantity: 1,
                price_data: {
                  currency: pack.currency.toLowerCase(),
                  unit_amount: pack.priceCents,
                  product_data: { name: `${pack.name} pack`, description: `${pack.credits} image credits` },
                },
              },
        ],
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
      },
      { idempotencyKey: `checkout:${purchaseId}` },
    );
  } catch (error) {
    logger.error({ shop, err: stripeErrorSummary(error) }, "stripe checkout.sessions.create failed");
    throw new PurchaseProviderError("Stripe could not start the checkout. Please try again in a minute.", {
      cause: error,
      merchant: { code: "stripeCheckoutFailed" },
    });
  }
  if (!session.url)
    throw new PurchaseProviderError("Stripe did not return a checkout page. Please try again.", {
      merchant: { code: "stripeNoCheckoutPage" },
    });
  await deps.db.purchase.create({
    data: {
      id: purchaseId,
      shop,
      provider: "STRIPE",
      externalId: session.id,
      pack: pack.id,
      credits: pack.credits,
      amountCents: session.amount_total ?? pack.priceCents,
      currency: (session.currency ?? pack.currency).toUpperCase(),
      status: "PENDING",
      test: session.livemode === false,
    },
  });
  logger.info({ shop, purchaseId, externalId: session.id, pack: pack.id }, "stripe checkout created");
  return { purchaseId, checkoutUrl: session.url };
}

/** One Stripe customer per shop, stored on the Shop row. */
export async function ensureStripeCustomer(deps: { db: PrismaClient; stripe: Stripe }, shop: string): Promise<string> {
  const row = await deps.db.shop.findUnique({ where: { domain: shop }, select: { stripeCustomerId: true } });
  if (row?.stripeCustomerId) return row.stripeCustomerId;
  let customer: Stripe.Customer;
  try {
    // Stripe's idempotency key makes two concurrent first purchases of one shop get the same customer.
    customer = await deps.stripe.customers.create({ description: shop, metadata: { shop } }, { idempotencyKey: `customer:${shop}` });
  } catch (error) {
    logger.error({ shop, err: stripeErrorSummary(error) }, "stripe customers.create failed");
    throw new PurchaseProviderError("Stripe could not start the checkout. Please try again in a minute.", {
      cause: error,
      merchant: { code: "stripeCheckoutFailed" },
    });
  }
  await deps.db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, stripeCustomerId: customer.id },
    update: {},
  });
  await deps.db.shop.updateMany({ where: { domain: shop, stripeCustomerId: null }, data: { stripeCustomerId: customer.id } });
  const stored = await deps.db.shop.findUnique({ where: { domain: shop }, select: { stripeCustomerId: true } });
  return stored?.stripeCustomerId ?? customer.id;
}

/**
 * Erases the shop's Stripe customer (shop/redact). Stripe keeps the payments, which are our accounting records; the
 * customer, whose description and metadata name the shop, goes. Already gone counts as done.
 */
export async function eraseStripeCustomer(stripe: Stripe, customerId: string): Promise<void> {
  try {
    await stripe.customers.del(customerId);
  } catch (error) {
    if ((error as { code?: string }).code === "resource_missing") return;
    logger.error({ customerId, err: stripeErrorSummary(error) }, "stripe customers.del failed");
    throw error;
  }
}

export class StripeSignatureError extends AppError {
  constructor(message: string) {
    super(message, { httpStatus: 400, merchantMessage: "Invalid signature" });
    this.name = "StripeSignatureError";
  }
}

/** Verifies the Stripe-Signature header on the exact raw body (and its age). Throws StripeSignatureError. */
export function verifyStripeEvent(stripe: Stripe, rawBody: string, signature: string | null, webhookSecret: string): Stripe.Event {
  if (!signature) throw new StripeSignatureError("Missing Stripe-Signature header");
  try {
    return stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
  } catch (error) {
    throw new StripeSignatureError(error instanceof Error ? error.message : "Invalid signature");
  }
}

export type StripeEventOutcome = "granted" | "already-granted" | "recorded" | "reversed" | "reinstated" | "already-reversed" | "ignored";

/** The webhook: verify, then handle. Throws StripeSignatureError (answer 400) when the signature, body or age is wrong. */
export async function handleStripeWebhook(
  deps: { db: PrismaClient; stripe: Stripe; webhookSecret: string; livemode: boolean },
  rawBody: string,
  signature: string | null,
): Promise<{ eventId: string; type: string; outcome: StripeEventOutcome }> {
  const event = verifyStripeEvent(deps.stripe, rawBody, signature, deps.webhookSecret);
  const outcome = await processStripeEvent(deps.db, event, deps.livemode);
  logger.info({ eventId: event.id, type: event.type, outcome }, "stripe event handled");
  return { eventId: event.id, type: event.type, outcome };
}

/** Handles a verified event. Fulfilment is keyed on the Checkout Session id, so every event for one session grants at most once. */
export async function processStripeEvent(db: PrismaClient, event: Stripe.Event, livemode: boolean): Promise<StripeEventOutcome> {
  if (event.livemode !== livemode) {
    // A test-mode payment costs nobody anything: it must never credit a live deployment (nor the reverse).
    logger.error({ eventId: event.id, type: event.type, eventLivemode: event.livemode }, "stripe event from the other mode ignored");
    return "ignored";
  }
  switch (event.type) {
    case "checkout.session.completed": {
      const session = event.data.object;
      return applyStripeSession(db, session, session.payment_status === "paid" ? "ACTIVE" : "PENDING");
    }
    case "checkout.session.async_payment_succeeded":
      return applyStripeSession(db, event.data.object, "ACTIVE");
    case "checkout.session.async_payment_failed":
      return applyStripeSession(db, event.data.object, "FAILED");
    case "checkout.session.expired":
      return applyStripeSession(db, event.data.object, "EXPIRED");
    case "charge.refunded": {
      const charge = event.data.object;
      return settleStripeReversal(db, {
        paymentIntent: charge.payment_intent,
        change: { refunded: { amount: charge.amount_refunded, of: charge.amount } },
        why: "refunded",
        eventKey: charge.id,
      });
    }
    case "charge.dispute.created": {
      const dispute = event.data.object;
      // An inquiry (warning_needs_response) withdraws no money: nothing to take back yet.
      if (dispute.status.startsWith("warning_")) return "ignored";
      return settleStripeReversal(db, {
        paymentIntent: dispute.payment_intent,
        change: { disputed: { amount: dispute.amount, of: null } },
        why: "disputed",
        eventKey: dispute.id,
      });
    }
    case "charge.dispute.closed": {
      const dispute = event.data.object;
      // Won: the bank returns the money, so the dispute's credits come back. Lost: they stay taken.
      if (dispute.status !== "won") return "ignored";
      return settleStripeReversal(db, {
        paymentIntent: dispute.payment_intent,
        change: { disputed: null },
        why: "dispute won",
        eventKey: dispute.id,
      });
    }
    default:
      logger.debug({ type: event.type, eventId: event.id }, "stripe event acknowledged without action");
      return "ignored";
  }
}

/**
 * Stripe's success URL: reads the session back from Stripe and fulfils it if paid, so credits show
 * at once even if the webhook is late. Returns null when the session is not this shop's.
 */
export async function confirmStripeCheckout(
  deps: { db: PrismaClient; stripe: Stripe; livemode: boolean },
  shop: string,
  sessionId: string,
): Promise<PurchaseSummary | null> {
  if (!/^cs_[A-Za-z0-9_]{1,250}$/.test(sessionId)) return null;
  const recorded = await deps.db.purchase.findFirst({ where: { shop, provider: "STRIPE", externalId: sessionId } });
  if (!recorded) return null;
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.retrieve(sessionId);
  } catch (error) {
    logger.error({ shop, err: stripeErrorSummary(error) }, "stripe checkout.sessions.retrieve failed");
    return summarize(recorded);
  }
  if (session.metadata?.shop !== shop) return null;
  if (session.livemode !== deps.livemode) {
    logger.error({ shop, sessionId }, "stripe session from the other mode: not credited");
    return summarize(recorded);
  }
  const status: PurchaseStatus = session.payment_status === "paid" ? "ACTIVE" : session.status === "expired" ? "EXPIRED" : "PENDING";
  await applyStripeSession(deps.db, session, status);
  const purchase = await deps.db.purchase.findFirst({ where: { shop, externalId: sessionId } });
  return purchase ? summarize(purchase) : null;
}

async function applyStripeSession(db: PrismaClient, session: Stripe.Checkout.Session, status: PurchaseStatus): Promise<StripeEventOutcome> {
  const shop = session.metadata?.shop;
  if (!shop) {
    logger.warn({ sessionId: session.id }, "stripe session without shop metadata (not created by this app): ignored");
    return "ignored";
  }
  return db.$transaction(async (tx) => {
    const existing = await tx.purchase.findUnique({ where: { externalId: session.id } });
    if (!existing) {
      // The session was created but its row was not written (or was erased): record it from the signed event, with
      // the credits and price of the pack it names (never metadata.credits); the amount paid is checked against
      // that price when it is settled.
      const pack = findCreditPack(session.metadata?.pack ?? "");
      if (!pack) logger.error({ shop, sessionId: session.id, pack: session.metadata?.pack }, "stripe purchase for an unknown pack");
      await tx.purchase.upsert({
        where: { externalId: session.id },
        update: {},
        create: {
          shop,
          provider: "STRIPE",
          externalId: session.id,
          pack: pack?.id ?? "unknown",
          credits: pack?.credits ?? 0,
          amountCents: pack?.priceCents ?? 0,
          currency: pack?.currency ?? "USD",
          status: "PENDING",
          test: session.livemode === false,
        },
      });
    }
    const purchase = await lockPurchase(tx, session.id);
    if (purchase.shop !== shop || purchase.provider !== "STRIPE") {
      logger.error({ shop, owner: purchase.shop, sessionId: session.id }, "stripe session for another shop ignored");
      return "ignored";
    }
    const paymentIntentId = typeof session.payment_intent === "string" ? session.payment_intent : (session.payment_intent?.id ?? null);
    if (paymentIntentId && purchase.paymentIntentId !== paymentIntentId) {
      await tx.purchase.update({ where: { id: purchase.id }, data: { paymentIntentId } });
    }
    const { granted } = await settlePurchase(tx, purchase, status, `stripe-session:${session.id}`, {
      amountCents: session.amount_total ?? 0,
      currency: session.currency ?? "",
    });
    if (granted) return "granted";
    if (status === "ACTIVE") return "already-granted";
    return "recorded";
  }, LEDGER_TX_OPTIONS);
}

/** A Stripe refund or dispute, applied to the purchase its PaymentIntent names (see purchase-reversals.server.ts). */
async function settleStripeReversal(
  db: PrismaClient,
  input: { paymentIntent: string | Stripe.PaymentIntent | null; change: ReversalChange; why: ReversalWhy; eventKey: string },
): Promise<StripeEventOutcome> {
  const paymentIntentId = typeof input.paymentIntent === "string" ? input.paymentIntent : (input.paymentIntent?.id ?? null);
  if (!paymentIntentId) return "ignored";
  const outcome = await withLockedPurchase(db, { paymentIntentId }, (tx, purchase) => applyReversal(tx, purchase, input));
  if (outcome === null) {
    logger.error({ paymentIntentId, why: input.why }, "stripe payment taken back for a purchase this app did not record: adjust by hand");
    return "ignored";
  }
  return outcome;
}

function stripeErrorSummary(error: unknown): { type?: string; code?: string; message: string } {
  const e = error as { type?: string; code?: string; message?: string };
  return { type: e?.type, code: e?.code, message: e?.message ?? String(error) };
}

// ---------------------------------------------------------------------------------------------
// Shared settlement
// ---------------------------------------------------------------------------------------------

async function lockPurchase(tx: Prisma.TransactionClient, externalId: string): Promise<Purchase> {
  // Serializes the webhook, the return URL and a second event for the same purchase.
  await tx.$queryRaw`SELECT "id" FROM "Purchase" WHERE "externalId" = ${externalId} FOR UPDATE`;
  return tx.purchase.findUniqueOrThrow({ where: { externalId } });
}

async function settlePurchase(
  tx: Prisma.TransactionClient,
  purchase: Purchase,
  status: PurchaseStatus,
  idempotencyKey: string,
  /** What the provider says was paid, when it says it: must be the recorded price. */
  paid?: { amountCents: number; currency: string },
): Promise<{ purchase: Purchase; granted: boolean }> {
  // A granted purchase stays ACTIVE whatever arrives later (a stale or reordered notification).
  if (purchase.status === "ACTIVE" || purchase.grantedAt) return { purchase, granted: false };
  if (status === "PENDING" || status === purchase.status) return { purchase, granted: false };
  const allowance = status === "ACTIVE" ? await creditsAllowedFor(tx, purchase, paid) : null;
  if (status === "ACTIVE" && allowance === null) return { purchase, granted: false };
  purchaseMetric.inc({ provider: purchase.provider.toLowerCase(), pack: purchase.pack, status: status.toLowerCase() });
  if (status !== "ACTIVE" || !allowance) {
    const updated = await tx.purchase.update({ where: { id: purchase.id }, data: { status } });
    logger.info({ shop: purchase.shop, purchaseId: purchase.id, status }, "purchase not paid");
    return { purchase: updated, granted: false };
  }
  let granted = false;
  if (allowance.credits > 0) {
    ({ granted } = await grantCreditsInTransaction(tx, purchase.shop, allowance.credits, {
      kind: "PURCHASE",
      idempotencyKey,
      purchaseId: purchase.id,
      note: `${packLabel(purchase.pack)} pack: ${allowance.credits} credits${purchase.test ? " (test charge)" : ""}`,
      noteMessage: {
        code: purchase.test ? "notePackGrantedTest" : "notePackGranted",
        params: { pack: packLabel(purchase.pack), count: allowance.credits },
      },
    }));
  }
  if (allowance.note)
    logger.warn(
      { shop: purchase.shop, purchaseId: purchase.id, credits: allowance.credits, note: allowance.note.text },
      "purchase credited in part",
    );
  const updated = await tx.purchase.update({
    where: { id: purchase.id },
    data: {
      status: "ACTIVE",
      grantedAt: allowance.credits > 0 ? new Date() : null,
      note: allowance.note?.text ?? null,
      noteMessage: allowance.note?.message ?? Prisma.DbNull,
    },
  });
  return { purchase: updated, granted };
}

/**
 * What a paid purchase may credit. A Shopify test charge is paid by nobody: it credits only a development store,
 * and only up to devStoreTestCredits() over the store's life (its welcome credits included); on any other store it credits nothing (a deployment
 * left in test mode must not give edits away). null: whether the store is a development store is not known yet
 * (the purchase waits for the return URL, which reads the plan).
 */
async function creditsAllowedFor(
  tx: Prisma.TransactionClient,
  purchase: Purchase,
  paid?: { amountCents: number; currency: string },
): Promise<{ credits: number; note: MerchantText | null } | null> {
  if (paid && (paid.amountCents !== purchase.amountCents || paid.currency.toUpperCase() !== purchase.currency)) {
    logger.error(
      { shop: purchase.shop, purchaseId: purchase.id, paid, expected: purchase.amountCents },
      "amount paid is not the pack's price: no credits",
    );
    const amounts = {
      paid: formatPrice(paid.amountCents, paid.currency.toUpperCase() || purchase.currency),
      price: formatPrice(purchase.amountCents, purchase.currency),
    };
    return {
      credits: 0,
      note: {
        text: `The amount paid (${amounts.paid}) is not the pack's price (${amounts.price}), so no credits were added. Contact support to have it settled.`,
        message: { code: "noteAmountNotPrice", params: amounts },
      },
    };
  }
  if (purchase.provider !== "SHOPIFY" || !purchase.test) return { credits: purchase.credits, note: null };
  const shop = await lockFreeCreditsOfShop(tx, purchase.shop);
  if (shop.partnerDevelopment == null) {
    logger.warn(
      { shop: purchase.shop, purchaseId: purchase.id },
      "test charge for a store whose plan is unknown: waiting for the return URL",
    );
    return null;
  }
  if (!shop.partnerDevelopment) {
    logger.error({ shop: purchase.shop, purchaseId: purchase.id }, "test charge on a store that pays: no credits");
    return {
      credits: 0,
      note: {
        text: "This was a test charge, so no credits were added. Test charges give credits on development stores only.",
        message: { code: "noteTestChargeNoCredits" },
      },
    };
  }
  const limit = devStoreTestCredits();
  const credits = Math.max(0, Math.min(purchase.credits, limit - shop.granted));
  return {
    credits,
    note:
      credits < purchase.credits
        ? {
            text: `Test charge on a development store: ${credits} of ${purchase.credits} credits added (development stores get up to ${limit} free credits, welcome credits included).`,
            message: { code: "noteTestChargePartial", params: { count: credits, packCredits: purchase.credits, limit } },
          }
        : null,
  };
}

function requirePack(packId: string): CreditPack {
  const pack = findCreditPack(packId);
  if (!pack) {
    const packs = getCreditPacks()
      .map((p) => p.name)
      .join(", ");
    throw new PurchaseInputError(`There is no credit pack called "${packId}". Choose one of: ${packs}.`, {
      code: "unknownPack",
      params: { packId, packs },
    });
  }
  return pack;
}

// ---------------------------------------------------------------------------------------------
// What the Credits page shows
// ---------------------------------------------------------------------------------------------

export interface PurchaseSummary {
  id: string;
  provider: "SHOPIFY" | "STRIPE";
  pack: string;
  packName: string;
  credits: number;
  price: string;
  /** The price as numbers, for the UI to format in the merchant's language. */
  amountCents: number;
  currency: string;
  status: PurchaseStatus;
  test: boolean;
  /** Why fewer credits than the pack's were added, when they were. */
  note: string | null;
  noteMessage: MerchantMessage | null;
  createdAt: Date;
}

function summarize(purchase: Purchase): PurchaseSummary {
  return {
    id: purchase.id,
    provider: purchase.provider,
    pack: purchase.pack,
    packName: packLabel(purchase.pack),
    credits: purchase.credits,
    price: formatPrice(purchase.amountCents, purchase.currency),
    amountCents: purchase.amountCents,
    currency: purchase.currency,
    status: purchase.status,
    test: purchase.test,
    note: purchase.note,
    noteMessage: storedMessage(purchase.noteMessage),
    createdAt: purchase.createdAt,
  };
}

export interface CreditsOverview {
  balance: Balance;
  /** Credits owed for refunded or disputed payments; new batches wait until it is paid. */
  owed: number;
  creditsPerImage: number;
  packs: Array<{
    id: string;
    name: string;
    credits: number;
    price: string;
    pricePerImage: string;
    priceCents: number;
    pricePerImageCents: number;
    currency: string;
  }>;
  shopifyBilling: { enabled: true; test: boolean } | { enabled: false; reason: string };
  stripe: { enabled: true } | { enabled: false; reason: string };
  history: ActivityPage;
  recentPurchases: PurchaseSummary[];
  /** The purchase the merchant just came back from, if named in the URL and theirs. */
  returnedPurchase: PurchaseSummary | null;
}

/** Everything the Credits page needs, in one call. */
export async function getCreditsOverview(
  db: PrismaClient,
  shop: string,
  opts: { cursor?: string; purchaseId?: string; creditsPerImage: number },
): Promise<CreditsOverview> {
  const config = getConfig();
  const stripeConfig: StripeConfig = getStripeConfig(config);
  const [balance, owed, page, recent, returned] = await Promise.all([
    getBalance(db, shop),
    getDebt(db, shop),
    creditActivity(db, shop, { cursor: opts.cursor, take: 20 }),
    db.purchase.findMany({ where: { shop }, orderBy: { createdAt: "desc" }, take: 10 }),
    opts.purchaseId && /^[0-9a-f-]{36}$/i.test(opts.purchaseId)
      ? db.purchase.findFirst({ where: { id: opts.purchaseId, shop } })
      : Promise.resolve(null),
  ]);
  return {
    balance,
    owed,
    creditsPerImage: opts.creditsPerImage,
    packs: getCreditPacks(config).map((pack) => {
      const pricePerImageCents = Math.round((pack.priceCents * opts.creditsPerImage) / pack.credits);
      return {
        id: pack.id,
        name: pack.name,
        credits: pack.credits,
        price: formatPrice(pack.priceCents, pack.currency),
        pricePerImage: formatPrice(pricePerImageCents, pack.currency),
        priceCents: pack.priceCents,
        pricePerImageCents,
        currency: pack.currency,
      };
    }),
    shopifyBilling: getShopifyBillingMode(config),
    stripe: stripeConfig.enabled ? { enabled: true } : { enabled: false, reason: stripeConfig.reason },
    history: page,
    recentPurchases: recent.map(summarize),
    returnedPurchase: returned ? summarize(returned) : null,
  };
}
