import { Prisma, type PrismaClient } from "@prisma/client";
import { InvalidShopError } from "@shopify/shopify-api";
import { logger } from "~/lib/logger.server";
import { webhooksReceived } from "~/lib/metrics.server";
import { readBodyCapped } from "~/lib/read-capped.server";

/**
 * Idempotency for webhook deliveries, keyed by the provider's delivery id (X-Shopify-Webhook-Id,
 * or a Stripe event id with source "stripe").
 *
 * A delivery is recorded only after its handler succeeded: a handler that throws leaves no record,
 * so the provider's retry runs it again. Handlers must therefore be safe to repeat (two deliveries
 * racing may both run); the record only saves repeated work and keeps the log honest.
 */
export interface WebhookDelivery {
  id: string;
  source: "shopify" | "stripe";
  topic: string;
  /** Null when the record must not name the shop (after shop/redact). */
  shop: string | null;
}

export type WebhookOutcome<T> = { duplicate: true } | { duplicate: false; result: T };

async function wasWebhookHandled(db: PrismaClient, id: string): Promise<boolean> {
  return (await db.webhookEvent.findUnique({ where: { id }, select: { id: true } })) !== null;
}

/** Records a handled delivery; false when it was already recorded. */
async function recordWebhookHandled(db: PrismaClient, delivery: WebhookDelivery): Promise<boolean> {
  try {
    await db.webhookEvent.create({ data: delivery });
    return true;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") return false;
    throw error;
  }
}

/** Runs `handler` unless this delivery was handled before, then records it. */
export async function handleWebhookOnce<T>(
  db: PrismaClient,
  delivery: WebhookDelivery,
  handler: () => Promise<T>,
): Promise<WebhookOutcome<T>> {
  const log = { webhookId: delivery.id, topic: delivery.topic, shop: delivery.shop ?? undefined };
  if (await wasWebhookHandled(db, delivery.id)) {
    webhooksReceived.inc({ topic: delivery.topic, outcome: "duplicate" });
    logger.info(log, "webhook already handled; ignoring redelivery");
    return { duplicate: true };
  }
  const result = await handler();
  await recordWebhookHandled(db, delivery);
  webhooksReceived.inc({ topic: delivery.topic, outcome: "handled" });
  logger.info(log, "webhook handled");
  return { duplicate: false, result };
}

/**
 * Deliveries triggered longer ago than this are refused: Shopify retries a failed delivery for 48 hours at most, so
 * anything older is a replay of a captured request, not a retry.
 */
const MAX_WEBHOOK_AGE_MS = 48 * 3600_000;

/**
 * How long a handled delivery's record is kept to recognise a redelivery: past Shopify's 48 h of retries (older
 * deliveries are refused anyway) and Stripe's three days.
 */
const WEBHOOK_RECORD_RETENTION_MS = 7 * 24 * 3600_000;

/** Deletes the records of deliveries too old to come again (the sweep runs it; products/update alone adds one per edit). */
export async function forgetOldWebhookEvents(db: PrismaClient, now = new Date()): Promise<number> {
  const { count } = await db.webhookEvent.deleteMany({
    where: { receivedAt: { lt: new Date(now.getTime() - WEBHOOK_RECORD_RETENTION_MS) } },
  });
  return count;
}

/** Shopify's webhook payloads for the topics we handle are small; anything larger is not from Shopify. */
const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

function reject(status: number, statusText: string): Response {
  return new Response(undefined, { status, statusText });
}

/**
 * Wraps `authenticate.webhook` with the refusals it does not make itself, so that a forged or
 * malformed delivery changes nothing and gets a precise status:
 *   405 not POST; 401 missing or wrong HMAC; 413 body over 1 MB; 400 missing headers, a shop header
 *   that is not a myshopify.com domain, a body that is not JSON, a topic this route does not handle, a delivery
 *   triggered more than MAX_WEBHOOK_AGE_MS ago, or a payload that names another shop than the signed header
 *   (`shop_domain`, `myshopify_domain`).
 * `expectedTopic` is in the storage form the library reports, e.g. "APP_UNINSTALLED".
 * `deliveryId` is what to deduplicate on: the event id (X-Shopify-Event-Id, the same for every delivery of one
 * event, as Shopify recommends), else the webhook id.
 */
export async function verifyShopifyWebhook<
  T extends { topic: string; shop: string; webhookId: string; eventId?: string; triggeredAt?: string; payload?: unknown },
>(
  request: Request,
  authenticateWebhook: (request: Request) => Promise<T>,
  expectedTopic: string,
  now = new Date(),
): Promise<T & { deliveryId: string }> {
  if (request.method !== "POST") throw reject(405, "Method Not Allowed");
  if (!request.headers.get("x-shopify-hmac-sha256")) throw reject(401, "Unauthorized");
  const rawBody = (await readBodyCapped(request, MAX_WEBHOOK_BODY_BYTES, () => reject(413, "Payload Too Large"))).toString("utf8");
  // The body stream is consumed; hand the library an identical request to verify.
  const replay = new Request(request.url, { method: "POST", headers: request.headers, body: rawBody });
  let context: T;
  try {
    context = await authenticateWebhook(replay);
  } catch (error) {
    if (error instanceof Response) throw error;
    // After the HMAC check: a body that is not JSON, or a shop header the library refuses as a shop.
    if (error instanceof SyntaxError || error instanceof InvalidShopError) throw reject(400, "Bad Request");
    throw error;
  }
  if (!SHOP_DOMAIN.test(context.shop)) {
    logger.warn({ topic: context.topic }, "signed webhook with an invalid shop domain");
    throw reject(400, "Bad Request");
  }
  if (context.topic !== expectedTopic) {
    logger.warn({ shop: context.shop, topic: context.topic, expectedTopic }, "webhook topic does not match its route");
    throw reject(400, "Bad Request");
  }
  const triggeredAt = context.triggeredAt ? Date.parse(context.triggeredAt) : Number.NaN;
  if (Number.isFinite(triggeredAt) && now.getTime() - triggeredAt > MAX_WEBHOOK_AGE_MS) {
    logger.warn(
      { shop: context.shop, topic: context.topic, triggeredAt: context.triggeredAt },
      "webhook triggered too long ago: refused as a replay",
    );
    throw reject(400, "Bad Request");
  }
  const named = payloadShops(context.payload);
  if (named.some((domain) => domain !== context.shop)) {
    logger.warn({ shop: context.shop, topic: context.topic }, "webhook payload names another shop than its signed header");
    throw reject(400, "Bad Request");
  }
  return { ...context, deliveryId: context.eventId || context.webhookId };
}

/** The shop domains a payload names, lower-cased (the fields Shopify's payloads use for the shop's myshopify domain). */
function payloadShops(payload: unknown): string[] {
  if (!payload || typeof payload !== "object") return [];
  const record = payload as Record<string, unknown>;
  return ["shop_domain", "myshopify_domain"].flatMap((key) =>
    typeof record[key] === "string" ? [(record[key] as string).toLowerCase()] : [],
  );
}
