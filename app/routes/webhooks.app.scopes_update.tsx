import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import db from "~/db.server";
import { updateGrantedScopes } from "~/models/lifecycle.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { authenticate } from "~/shopify.server";

const ScopesUpdatePayload = z.object({ current: z.array(z.string().max(100)).max(200) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId, payload } = await verifyShopifyWebhook(request, authenticate.webhook, "APP_SCOPES_UPDATE");
  const parsed = ScopesUpdatePayload.safeParse(payload);
  if (!parsed.success) return new Response(null, { status: 400, statusText: "Bad Request" });
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop }, () => updateGrantedScopes(db, shop, parsed.data.current));
  return new Response(null, { status: 200 });
};
