import type { ActionFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { acknowledgeCustomerRequest } from "~/models/lifecycle.server";
import { handleWebhookOnce, verifyShopifyWebhook } from "~/models/webhook-events.server";
import { authenticate } from "~/shopify.server";

// The app stores no customer data, so there is nothing to send; the payload (which names the customer) is not kept.
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, deliveryId } = await verifyShopifyWebhook(request, authenticate.webhook, "CUSTOMERS_DATA_REQUEST");
  await handleWebhookOnce(db, { id: deliveryId, source: "shopify", topic, shop }, () =>
    acknowledgeCustomerRequest(db, "customers/data_request", shop),
  );
  return new Response(null, { status: 200 });
};
