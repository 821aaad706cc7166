import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import db from "~/db.server";
import { cancelShopWork } from "~/models/batches.server";
import { redactShop } from "~/models/lifecycle.server";
import { eraseStripeCustomer } from "~/models/stripe-purchases.server";
import { getStripeClient, getStripeConfig } from "~/models/stripe.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

const ShopRedactPayload = z.object({ shop_domain: z.string().max(255) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId, payload } = await verifyShopifyWebhook(request, authenticate.webhook, "SHOP_REDACT");
  const parsed = ShopRedactPayload.safeParse(payload);
  // The body must name the same shop as the signed header, or we could erase the wrong one.
  if (!parsed.success || parsed.data.shop_domain.toLowerCase() !== shop) {
    return new Response(null, { status: 400, statusText: "Bad Request" });
  }
  const queue = getQueue();
  const stripeConfig = getStripeConfig();
  const stripe = stripeConfig.enabled ? getStripeClient(stripeConfig) : null;
  // Recorded without the shop: after this, no row may name it.
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop: null }, () =>
    redactShop(
      {
        db,
        queue,
        cancelShopWork: (s) => cancelShopWork({ db, queue }, s),
        ...(stripe ? { eraseStripeCustomer: (customerId: string) => eraseStripeCustomer(stripe, customerId) } : {}),
      },
      shop,
    ),
  );
  return new Response(null, { status: 200 });
};
