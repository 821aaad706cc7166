import type { PrismaClient, Purchase, PurchaseStatus } from "@prisma/client";
import { runGraphql, ShopifyApiError, ShopifyThrottledError, withThrottleRetry, type AdminGraphql } from "~/lib/admin-graphql.server";
import { getConfig, type Config } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { LEDGER_TX_OPTIONS } from "./credit-ledger.server";
import { findCreditPackByChargeName, getCreditPacks, priceDecimal, shopifyChargeName } from "./packs.server";
import { type PurchaseSummary, PurchaseProviderError, lockPurchase, requirePack, settlePurchase, summarize } from "./purchases.server";
import type { MerchantMessage } from "~/lib/merchant-message";
import type { CurrencyCode } from "~/types/admin.types";

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
