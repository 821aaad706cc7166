/**
 * The per-shop limits as merchants meet them on the routes that create batches and purchases.
 * The window is filled through the limiter itself at fixed instants (so no assertion depends on how
 * fast this machine is), then the route is called for real.
 */
import { randomUUID } from "node:crypto";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import db from "~/db.server";
import { enforceRateLimit, type RateLimitedAction } from "~/lib/rate-limit.server";
import { grantCredits } from "~/models/credit-ledger.server";
import { closeQueues, getQueue } from "~/queue/queue.server";
import { action as apiBatchesAction } from "~/routes/api.batches";
import { action as indexAction } from "~/routes/app._index/route";
import { action as creditsAction } from "~/routes/app.credits/route";
import { loader as creditsReturnLoader } from "~/routes/app.credits.return";
import { action as restoreBatchAction } from "~/routes/app.batches.$id.restore";
import { action as retryFailedAction } from "~/routes/app.batches.$id.retry-failed";
import { loader as zipLoader } from "~/routes/app.batches.$id.zip";
import { API_KEY, API_SECRET, installShop, shopifyStandInForFile } from "../batches/shop-setup";
import type { deliver } from "../lifecycle/helpers";
import { uniqueShopDomain } from "../../factories";

const shopify = shopifyStandInForFile();
let redis: Redis;
const queueName = `test-${randomUUID()}`;
const shops: string[] = [];

beforeAll(async () => {
  process.env.QUEUE_NAME = queueName;
  process.env.SHOPIFY_BILLING_TEST = "true";
  redis = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  for (const shop of shops) {
    const keys = await redis.keys(`ratelimit:*:{${shop}}:*`);
    if (keys.length) await redis.del(...keys);
  }
  await redis.quit();
  await getQueue(queueName).obliterate({ force: true });
  await closeQueues();
});

async function newShop(): Promise<{ shop: string; mediaIds: string[] }> {
  const shop = uniqueShopDomain();
  shops.push(shop);
  shopify.addShop(shop, { products: 1, imagesPerProduct: 2 });
  await installShop(db, shopify, shop);
  await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
  return { shop, mediaIds: shopify.products(shop).flatMap((p) => p.media.map((m) => m.id)) };
}

async function bearer(shop: string): Promise<string> {
  return (await getJwt(shop.replace(/\.myshopify\.com$/, ""), API_KEY, API_SECRET)).token;
}

/** Ten requests within one second, the last a moment ago. */
async function fillBurst(action: RateLimitedAction, shop: string): Promise<void> {
  const start = Date.now() - 200;
  for (let i = 0; i < 10; i++) await enforceRateLimit(action, shop, { redis, now: () => start + i * 10 });
}

/** Sixty requests in the last minute, never more than two in any second. */
async function fillMinute(action: RateLimitedAction, shop: string): Promise<void> {
  const start = Date.now() - 50_000;
  for (let i = 0; i < 60; i++) await enforceRateLimit(action, shop, { redis, now: () => start + i * 700 });
}

async function buyRequest(shop: string): Promise<Request> {
  return new Request(new URL("/app/credits", process.env.SHOPIFY_APP_URL), {
    method: "POST",
    headers: { Authorization: `Bearer ${await bearer(shop)}` },
    body: new URLSearchParams({ intent: "buy-shopify", packId: "starter" }),
  });
}

async function refusal(
  route: Parameters<typeof deliver>[0],
  request: Request,
): Promise<{ status: number; error: string; retryAfter: string | null }> {
  // A route may throw the 429 (enforceRateLimit) or return it (checkRateLimit); both reach the merchant.
  let response: Response;
  try {
    response = (await route({ request, params: {}, context: {} })) as Response;
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    response = thrown;
  }
  const body = (await response
    .clone()
    .json()
    .catch(() => ({}))) as { error?: string };
  return { status: response.status, error: body.error ?? "", retryAfter: response.headers.get("Retry-After") };
}

async function batchRequest(shop: string, mediaIds: string[]): Promise<Request> {
  return new Request(new URL("/api/batches", process.env.SHOPIFY_APP_URL), {
    method: "POST",
    headers: { Authorization: `Bearer ${await bearer(shop)}`, "Content-Type": "application/json" },
    body: JSON.stringify({ mediaIds, pipeline: "amazon" }),
  });
}

async function gridRequest(shop: string, mediaIds: string[]): Promise<Request> {
  return new Request(new URL("/app?index", process.env.SHOPIFY_APP_URL), {
    method: "POST",
    headers: { Authorization: `Bearer ${await bearer(shop)}` },
    body: new URLSearchParams({ pipeline: "amazon", mediaIds: JSON.stringify(mediaIds) }),
  });
}

describe("rate limits the Credits page, restores and downloads", () => {
  it("answers the buy button's fetcher with the 429 and its message instead of throwing it to the error page", async () => {
    const { shop } = await newShop();
    await fillBurst("purchase-create", shop);
    const response = (await creditsAction({ request: await buyRequest(shop), params: {}, context: {} })) as Response;
    expect(response.status).toBe(429);
    expect(((await response.json()) as { error: string }).error).toMatch(/^Too many purchases created in a short time/);
  });

  it("refuses the 11th batch restore in a second, the 11th ZIP download, the 11th purchase confirmation and the 11th try of failed images", async () => {
    const { shop } = await newShop();
    const request = async (path: string, method = "GET") =>
      new Request(new URL(path, process.env.SHOPIFY_APP_URL), { method, headers: { Authorization: `Bearer ${await bearer(shop)}` } });
    await fillBurst("batch-restore", shop);
    const restore = await refusal(restoreBatchAction, await request(`/app/batches/${randomUUID()}/restore`, "POST"));
    expect(restore).toMatchObject({ status: 429, error: expect.stringMatching(/^Too many restore requests/) });
    await fillBurst("zip-download", shop);
    expect((await refusal(zipLoader, await request(`/app/batches/${randomUUID()}/zip`))).status).toBe(429);
    await fillBurst("purchase-confirm", shop);
    expect((await refusal(creditsReturnLoader, await request("/app/credits/return?charge_id=1"))).status).toBe(429);
    // Trying a batch's failed images again shares the single "Try again"'s limit: both queue model calls.
    await fillBurst("image-retry", shop);
    const retryFailed = await refusal(retryFailedAction, await request(`/app/batches/${randomUUID()}/retry-failed`, "POST"));
    expect(retryFailed).toMatchObject({ status: 429, error: expect.stringMatching(/^Too many new tries/) });
  });
});

describe("rate limits on purchase creation", () => {
  it("refuses the 11th purchase in a second with 429 and a readable message, and creates no purchase", async () => {
    const { shop } = await newShop();
    await fillBurst("purchase-create", shop);
    const answer = await refusal(creditsAction, await buyRequest(shop));
    expect(answer.status).toBe(429);
    expect(answer.error).toMatch(
      /^Too many purchases created in a short time \(limit: 10 per 1 second\)\. Please wait \d+ seconds? and try again\.$/,
    );
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await db.purchase.count({ where: { shop } })).toBe(0);
  });

  it("refuses the 61st purchase in a minute", async () => {
    const { shop } = await newShop();
    await fillMinute("purchase-create", shop);
    const answer = await refusal(creditsAction, await buyRequest(shop));
    expect(answer.status).toBe(429);
    expect(answer.error).toContain("limit: 60 per 1 minute");
    expect(await db.purchase.count({ where: { shop } })).toBe(0);
  });

  it("lets another shop buy while one shop is limited", async () => {
    const { shop } = await newShop();
    const { shop: other } = await newShop();
    await fillBurst("purchase-create", shop);
    const answer = await refusal(creditsAction, await buyRequest(other));
    expect(answer.status).not.toBe(429);
    expect(await db.purchase.count({ where: { shop: other } })).toBe(1);
  });
});

describe("rate limits on batch creation", () => {
  it("refuses the 11th batch in a second from the extension's API and from the image grid, reserving nothing", async () => {
    const { shop, mediaIds } = await newShop();
    await fillBurst("batch-create", shop);
    for (const request of [await batchRequest(shop, mediaIds), await gridRequest(shop, mediaIds)]) {
      const answer = await refusal(request.url.includes("/api/") ? apiBatchesAction : indexAction, request);
      expect(answer.status).toBe(429);
      expect(answer.error).toContain("Too many batches created in a short time");
    }
    expect(await db.batch.count({ where: { shop } })).toBe(0);
  });

  it("refuses the 61st batch in a minute", async () => {
    const { shop, mediaIds } = await newShop();
    await fillMinute("batch-create", shop);
    const answer = await refusal(apiBatchesAction, await batchRequest(shop, mediaIds));
    expect(answer.status).toBe(429);
    expect(answer.error).toContain("limit: 60 per 1 minute");
  });
});
