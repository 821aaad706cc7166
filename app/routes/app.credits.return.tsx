import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import { boundary } from "@shopify/shopify-app-remix/server";
import { z } from "zod";
import db from "~/db.server";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { confirmShopifyPurchase } from "~/models/shopify-purchases.server";
import { confirmStripeCheckout } from "~/models/stripe-purchases.server";
import { getStripeClient, getStripeConfig } from "~/models/stripe.server";
import { authenticate } from "~/shopify.server";

/**
 * Where the merchant lands after paying: Shopify appends `charge_id`, our Stripe success URL carries
 * `session_id`. The status is read back from the provider (never trusted from the URL) and applied
 * like the webhook would; whichever of the two comes first grants, the other is a no-op.
 */
const returnQuery = z.union([
  z.object({ charge_id: z.string().regex(/^\d{1,20}$/) }),
  z.object({ session_id: z.string().regex(/^cs_[A-Za-z0-9_]{1,250}$/) }),
]);

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { admin, session, redirect } = await authenticate.admin(request);
  // Each return reads the purchase (and the plan) from Shopify or Stripe.
  await enforceRateLimit("purchase-confirm", session.shop);
  const url = new URL(request.url);
  const parsed = returnQuery.safeParse({
    ...(url.searchParams.has("charge_id") ? { charge_id: url.searchParams.get("charge_id") } : {}),
    ...(url.searchParams.has("session_id") ? { session_id: url.searchParams.get("session_id") } : {}),
  });
  if (!parsed.success) return redirect("/app/credits");

  let purchase = null;
  if ("charge_id" in parsed.data) {
    purchase = await confirmShopifyPurchase({ db, graphql: admin.graphql }, session.shop, parsed.data.charge_id);
  } else {
    const config = getStripeConfig();
    if (config.enabled) {
      purchase = await confirmStripeCheckout(
        { db, stripe: getStripeClient(config), livemode: config.livemode },
        session.shop,
        parsed.data.session_id,
      );
    }
  }
  return redirect(purchase ? `/app/credits?purchase=${purchase.id}` : "/app/credits");
};

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
