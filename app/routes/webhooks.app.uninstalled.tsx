import type { ActionFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { cancelShopWork } from "~/models/batches.server";
import { uninstallShop } from "~/models/lifecycle.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId, triggeredAt } = await verifyShopifyWebhook(request, authenticate.webhook, "APP_UNINSTALLED");
  // Shopify keeps delivering after the data is gone and may deliver twice; both are harmless here.
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop }, () =>
    uninstallShop({ db, cancelShopWork: (s) => cancelShopWork({ db, queue: getQueue() }, s) }, shop, {
      triggeredAt: parseDate(triggeredAt),
    }),
  );
  return new Response(null, { status: 200 });
};

function parseDate(value: string | undefined): Date | undefined {
  const date = value ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}
