import { createHmac, randomUUID } from "node:crypto";
import type { ItemState } from "@prisma/client";
import prisma from "~/db.server";
import { grantCredits, CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { reserveForItems, captureForItem } from "~/models/credit-reservations.server";
import { grantWelcomeCreditsOnce } from "~/models/shops.server";
import { afterAll, beforeAll } from "vitest";
import { closeQueues, enqueueItems, getQueue, type ImageQueue } from "~/queue/queue.server";
import { createBatch, createItems, createOfflineSession, createShop } from "../../factories";

export interface WebhookRequestOptions {
  topic: string;
  shop: string;
  payload?: unknown;
  /** Sent as is instead of JSON.stringify(payload). */
  rawBody?: string;
  webhookId?: string;
  secret?: string;
  /** Header overrides; a null value removes the header. */
  headers?: Record<string, string | null>;
  method?: string;
}

/** A webhook delivery as Shopify sends it: HMAC-SHA256 (base64) of the raw body with the app secret. */
export function webhookRequest(path: string, options: WebhookRequestOptions): Request {
  const body = options.rawBody ?? JSON.stringify(options.payload ?? {});
  const secret = options.secret ?? process.env.SHOPIFY_API_SECRET!;
  const headers = new Headers({
    "Content-Type": "application/json",
    "X-Shopify-Topic": options.topic,
    "X-Shopify-Hmac-Sha256": createHmac("sha256", secret).update(body, "utf8").digest("base64"),
    "X-Shopify-Shop-Domain": options.shop,
    "X-Shopify-API-Version": "2026-07",
    "X-Shopify-Webhook-Id": options.webhookId ?? randomUUID(),
    "X-Shopify-Triggered-At": new Date().toISOString(),
  });
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  const method = options.method ?? "POST";
  return new Request(new URL(path, process.env.SHOPIFY_APP_URL), { method, headers, ...(method === "GET" ? {} : { body }) });
}

type Action = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<unknown>;

/** Calls a route action and returns its status; thrown Responses (401, 400 …) count as answers. */
export async function deliver(action: Action, request: Request): Promise<number> {
  try {
    const result = await action({ request, params: {}, context: {} });
    return result instanceof Response ? result.status : 200;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status;
    throw thrown;
  }
}

/** An installed shop as token exchange leaves it: offline session, Shop row (a store on a paid plan), welcome credits. */
export async function installShop(shop: string): Promise<void> {
  await createOfflineSession(prisma, shop);
  await createShop(prisma, {
    domain: shop,
    scopes: process.env.SCOPES ?? null,
    installedAt: new Date(),
    uninstalledAt: null,
    partnerDevelopment: false,
    planCheckedAt: new Date(),
  });
  await grantWelcomeCreditsOnce(prisma, shop);
}

export async function buyCredits(shop: string, credits: number): Promise<string> {
  const purchase = await prisma.purchase.create({
    data: {
      shop,
      provider: "SHOPIFY",
      externalId: `gid://shopify/AppPurchaseOneTime/${randomUUID()}`,
      pack: "starter",
      credits,
      amountCents: 999,
      status: "ACTIVE",
      grantedAt: new Date(),
    },
  });
  await grantCredits(prisma, shop, credits, { kind: "PURCHASE", idempotencyKey: `purchase:${purchase.id}`, note: "pack" });
  return purchase.id;
}

/**
 * A batch as createBatch leaves it (rows, 3 credits held per item, one job per item), then moved to
 * the given states: PROCESSING as if a worker held it, PUBLISHED with its credits captured.
 */
export async function seedBatch(shop: string, queue: ImageQueue, states: ItemState[]): Promise<{ batchId: string; itemIds: string[] }> {
  const { batchId, itemIds } = await prisma.$transaction(async (tx) => {
    const batch = await createBatch(tx, shop, { total: states.length });
    const items = await createItems(
      tx,
      batch,
      states.map(() => ({})),
    );
    const ids = items.map((item) => item.id);
    await reserveForItems(tx, shop, ids, CREDITS_PER_IMAGE);
    return { batchId: batch.id, itemIds: ids };
  });
  const queued = itemIds.filter((_, i) => states[i] === "QUEUED");
  await enqueueItems(
    queue,
    queued.map((id) => ({ id, shop })),
  );
  for (const [i, id] of itemIds.entries()) {
    const state = states[i]!;
    if (state === "QUEUED") continue;
    if (state === "PUBLISHED") await captureForItem(prisma, shop, id);
    await prisma.batchItem.update({ where: { id }, data: { state } });
  }
  return { batchId, itemIds };
}

/** A queue of this test file's own (QUEUE_NAME for the app code under test), obliterated after the file. */
export function isolatedQueueForFile(): string {
  const queueName = `test-${randomUUID()}`;
  beforeAll(() => {
    process.env.QUEUE_NAME = queueName;
  });
  afterAll(async () => {
    await getQueue(queueName).obliterate({ force: true });
    await closeQueues();
  });
  return queueName;
}
