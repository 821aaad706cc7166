import type { ActionFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { errorResponse } from "~/lib/error-response.server";
import { logger } from "~/lib/logger.server";
import { readBodyCapped } from "~/lib/read-capped.server";
import { handleStripeWebhook } from "~/models/stripe-purchases.server";
import { StripeSignatureError, getStripeClient, getStripeConfig } from "~/models/stripe.server";

// Stripe events are small; anything bigger is not from Stripe.
const MAX_BODY_BYTES = 512 * 1024;

export const action = async ({ request }: ActionFunctionArgs) => {
  if (request.method !== "POST") return new Response("Method Not Allowed", { status: 405 });
  const config = getStripeConfig();
  if (!config.enabled) return new Response("Stripe is not enabled", { status: 404 });
  if (!config.webhookSecret) {
    // A 5xx makes Stripe retry, so nothing is lost while the secret is being configured.
    logger.error("STRIPE_WEBHOOK_SECRET is not set: Stripe events cannot be verified");
    return new Response("Webhook secret not configured", { status: 503 });
  }
  // The signature covers the exact bytes: read the raw body, never a re-serialized JSON; and never more than the cap,
  // even when the body comes chunked without a length.
  const tooLarge = new Response("Payload Too Large", { status: 413 });
  let rawBody: string;
  try {
    rawBody = (await readBodyCapped(request, MAX_BODY_BYTES, () => tooLarge)).toString("utf8");
  } catch (error) {
    if (error === tooLarge) return tooLarge;
    throw error;
  }
  try {
    const result = await handleStripeWebhook(
      { db, stripe: getStripeClient(config), webhookSecret: config.webhookSecret, livemode: config.livemode },
      rawBody,
      request.headers.get("stripe-signature"),
    );
    return Response.json({ received: true, outcome: result.outcome });
  } catch (error) {
    if (error instanceof StripeSignatureError) {
      logger.warn({ reason: error.message }, "stripe webhook refused");
      return errorResponse(error);
    }
    throw error;
  }
};
