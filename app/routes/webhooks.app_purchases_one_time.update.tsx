import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import db from "~/db.server";
import { applyShopifyPurchaseUpdate } from "~/models/shopify-purchases.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { authenticate } from "~/shopify.server";

const payloadSchema = z.object({
  app_purchase_one_time: z.object({
    admin_graphql_api_id: z.string().startsWith("gid://shopify/AppPurchaseOneTime/"),
    name: z.string(),
    status: z.string(),
  }),
});

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId, payload } = await verifyShopifyWebhook(request, authenticate.webhook, "APP_PURCHASES_ONE_TIME_UPDATE");
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) return new Response("Bad Request", { status: 400 });
  const purchase = parsed.data.app_purchase_one_time;
  // Arrives for uninstalled shops too, and may race the return URL: the update is recorded and granted at most once.
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop }, () =>
    applyShopifyPurchaseUpdate(db, { shop, gid: purchase.admin_graphql_api_id, status: purchase.status, name: purchase.name }),
  );
  return new Response(null, { status: 200 });
};
