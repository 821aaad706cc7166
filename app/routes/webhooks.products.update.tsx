import type { ActionFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { acceptProductWebhook, productWebhookSchema } from "~/models/auto-rule.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { queueConfigFromEnv } from "~/queue/config.server";
import { authenticate } from "~/shopify.server";

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId, payload } = await verifyShopifyWebhook(request, authenticate.webhook, "PRODUCTS_UPDATE");
  const parsed = productWebhookSchema.safeParse(payload);
  if (!parsed.success) return new Response("Bad Request", { status: 400 });
  // Answered at once: the automatic rule's work runs in the automation queue, one job per event id.
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop }, () =>
    acceptProductWebhook({ db, queue: getAutomationQueue(queueConfigFromEnv().queueName) }, shop, deliveryId, parsed.data),
  );
  return new Response(null, { status: 200 });
};
