/**
 * The Credits page's data: the loader's answer (balance, packs, grouped history, recent purchases) and the buy
 * action's reading of its form and start of a Shopify or Stripe purchase.
 */
import { json } from "@remix-run/node";
import { z } from "zod";
import db from "~/db.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { getConfig } from "~/lib/config.server";
import { errorResponse } from "~/lib/error-response.server";
import { errorPayload } from "~/lib/merchant-message";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { PurchaseInputError, PurchaseProviderError } from "~/models/purchases.server";
import { createShopifyPurchase, getShopifyBillingMode, shopifyReturnUrl } from "~/models/shopify-purchases.server";
import { createStripeCheckout } from "~/models/stripe-purchases.server";
import { getCreditsOverview } from "~/models/credits-overview.server";
import { getStripeClient, getStripeConfig } from "~/models/stripe.server";

const loaderQuery = z.object({
  cursor: z.string().max(100).optional(),
  purchase: z.string().max(64).optional(),
});

export async function creditsPageData(shop: string, url: URL) {
  const params = url.searchParams;
  const query = loaderQuery.safeParse({ cursor: params.get("cursor") ?? undefined, purchase: params.get("purchase") ?? undefined });
  const { cursor, purchase } = query.success ? query.data : {};
  return getCreditsOverview(db, shop, { cursor, purchaseId: purchase, creditsPerImage: CREDITS_PER_IMAGE });
}

export type CreditsPageData = Awaited<ReturnType<typeof creditsPageData>>;

const buyForm = z.object({
  intent: z.enum(["buy-shopify", "buy-stripe"]),
  packId: z.string().min(1).max(40),
});

export type BuyRequest = z.infer<typeof buyForm>;

/** The buy buttons' form: which pack and how to pay, or the refusal to answer with. */
export function readBuyForm(form: FormData): BuyRequest | Response {
  const parsed = buyForm.safeParse(Object.fromEntries(form));
  if (!parsed.success) return json(errorPayload("Choose a credit pack and a way to pay.", { code: "choosePack" }), { status: 400 });
  return parsed.data;
}

/**
 * Starts the purchase: the provider's page to send the merchant to (Shopify's approval or Stripe Checkout), or the
 * refusal to answer with.
 */
export async function startPurchase(
  graphql: AdminGraphql,
  shop: string,
  { intent, packId }: BuyRequest,
): Promise<{ checkoutUrl: string } | Response> {
  const appInAdmin = shopifyReturnUrl(shop, getConfig().SHOPIFY_API_KEY ?? "", "");
  try {
    if (intent === "buy-shopify") {
      const billing = getShopifyBillingMode();
      if (!billing.enabled) return json(errorPayload(billing.reason, { code: "shopifyBillingNotConfigured" }), { status: 400 });
      const { confirmationUrl } = await createShopifyPurchase({ db, graphql }, shop, {
        packId,
        returnUrl: `${appInAdmin}/app/credits/return`,
        test: billing.test,
      });
      return { checkoutUrl: confirmationUrl };
    }
    const stripeConfig = getStripeConfig();
    if (!stripeConfig.enabled) return json(errorPayload(stripeConfig.reason, { code: "stripeNotConfigured" }), { status: 400 });
    const { checkoutUrl } = await createStripeCheckout({ db, stripe: getStripeClient(stripeConfig) }, shop, {
      packId,
      successUrl: `${appInAdmin}/app/credits/return?provider=stripe&session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${appInAdmin}/app/credits?checkout=cancelled`,
    });
    return { checkoutUrl };
  } catch (error) {
    if (error instanceof PurchaseInputError || error instanceof PurchaseProviderError) return errorResponse(error);
    throw error;
  }
}
