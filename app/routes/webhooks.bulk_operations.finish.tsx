import type { ActionFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { acceptBulkOperationFinish, bulkOperationFinishSchema } from "~/models/catalog-runs.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { queueConfigFromEnv } from "~/queue/config.server";
import { authenticate } from "~/shopify.server";

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId, payload } = await verifyShopifyWebhook(request, authenticate.webhook, "BULK_OPERATIONS_FINISH");
  const parsed = bulkOperationFinishSchema.safeParse(payload);
  if (!parsed.success) return new Response("Bad Request", { status: 400 });
  // Answered at once: the catalogue run's job reads the result in the automation queue.
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop }, () =>
    acceptBulkOperationFinish({ db, queue: getAutomationQueue(queueConfigFromEnv().queueName) }, shop, parsed.data),
  );
  return new Response(null, { status: 200 });
};
