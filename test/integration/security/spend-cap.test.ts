/** The optional daily spend cap, end to end: set on the Settings page, enforced when a batch reserves credits. */
import { randomUUID } from "node:crypto";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import db from "~/db.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { closeQueues, getQueue } from "~/queue/queue.server";
import { action as apiBatchesAction } from "~/routes/api.batches";
import { action as settingsAction } from "~/routes/app.settings/route";
import { API_KEY, API_SECRET, installShop, shopifyStandInForFile } from "../batches/shop-setup";
import { uniqueShopDomain } from "../../factories";

const shopify = shopifyStandInForFile();
const queueName = `test-${randomUUID()}`;

beforeAll(async () => {
  process.env.QUEUE_NAME = queueName;
});
afterAll(async () => {
  await getQueue(queueName).obliterate({ force: true });
  await closeQueues();
});

async function bearer(shop: string): Promise<string> {
  return (await getJwt(shop.replace(/\.myshopify\.com$/, ""), API_KEY, API_SECRET)).token;
}

type RouteFn = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<unknown>;

async function respond(route: RouteFn, request: Request): Promise<Response> {
  try {
    return (await route({ request, params: {}, context: {} })) as Response;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

async function saveCap(shop: string, cap: string): Promise<Response> {
  const body = new URLSearchParams({
    defaultPipeline: "amazon",
    reviewBeforePublish: "false",
    backgroundColor: "#FFFFFF",
    outputSizePreset: "standard",
    dailySpendCap: cap,
  });
  return respond(
    settingsAction,
    new Request(new URL("/app/settings", process.env.SHOPIFY_APP_URL), {
      method: "POST",
      headers: { Authorization: `Bearer ${await bearer(shop)}` },
      body,
    }),
  );
}

async function createBatch(shop: string, mediaIds: string[]): Promise<Response> {
  return respond(
    apiBatchesAction,
    new Request(new URL("/api/batches", process.env.SHOPIFY_APP_URL), {
      method: "POST",
      headers: { Authorization: `Bearer ${await bearer(shop)}`, "Content-Type": "application/json" },
      body: JSON.stringify({ mediaIds, pipeline: "amazon" }),
    }),
  );
}

describe("daily spend cap", () => {
  it("refuses a batch that would pass the cap with a message saying what to do, holds nothing, and lifts when the cap is cleared", async () => {
    const shop = uniqueShopDomain();
    shopify.addShop(shop, { products: 2, imagesPerProduct: 2 });
    await installShop(db, shopify, shop);
    await grantCredits(db, shop, 60, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
    const media = shopify.products(shop).flatMap((p) => p.media.map((m) => m.id));

    expect((await saveCap(shop, "6")).status).toBe(200);
    expect((await db.shop.findUniqueOrThrow({ where: { domain: shop } })).dailySpendCap).toBe(6);

    expect((await createBatch(shop, media.slice(0, 2))).status).toBe(201);
    expect(await getBalance(db, shop)).toEqual({ available: 54, reserved: 6, total: 60 });

    const refused = await createBatch(shop, media.slice(2, 3));
    expect(refused.status).toBe(422);
    const { error } = (await refused.json()) as { error: string };
    expect(error).toContain("daily spending limit is 6 credits");
    expect(error).toContain("Raise the limit in Settings");
    expect(await getBalance(db, shop)).toEqual({ available: 54, reserved: 6, total: 60 });
    expect(await db.batch.count({ where: { shop } })).toBe(1);
    expect(await db.batchItem.count({ where: { shop, mediaId: media[2]! } })).toBe(0);

    expect((await saveCap(shop, "")).status).toBe(200);
    expect((await createBatch(shop, media.slice(2, 3))).status).toBe(201);
    expect(await getBalance(db, shop)).toMatchObject({ reserved: 9 });
  });

  it("applies to one shop only", async () => {
    const capped = uniqueShopDomain();
    const free = uniqueShopDomain();
    for (const shop of [capped, free]) {
      shopify.addShop(shop, { products: 1, imagesPerProduct: 2 });
      await installShop(db, shopify, shop);
      await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
    }
    expect((await saveCap(capped, "3")).status).toBe(200);
    const idsOf = (shop: string) => shopify.products(shop).flatMap((p) => p.media.map((m) => m.id));
    expect((await createBatch(capped, idsOf(capped))).status).toBe(422);
    expect((await createBatch(free, idsOf(free))).status).toBe(201);
  });
});
