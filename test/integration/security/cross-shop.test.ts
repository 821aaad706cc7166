/**
 * Two installed shops. Every route and endpoint that takes an id is called by shop B with shop A's
 * ids: the answer is the same 404 a made-up id gets (nothing leaks, not even existence), and A's data
 * is unchanged. Routes with ids at the time of writing:
 *   GET  /app/batches/:id                 GET  /app/batches/:id/zip        POST /app/batches/:id/restore
 *   POST /app/batches/:id/retry-failed
 *   POST /app/items/:id/approve           POST /app/items/:id/reject       POST /app/items/:id/restore
 *   GET  /app/images/:id/processed        GET  /api/batches?id=
 *   GET  /app/credits?purchase=&cursor=   GET  /app/credits/return?charge_id= | ?session_id=
 *   POST /app (media ids)                 POST /api/batches (media/product ids)
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureForItem } from "~/models/credit-reservations.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { createStripeCheckout } from "~/models/stripe-purchases.server";
import { createStripeClient } from "~/models/stripe.server";
import { closeQueues, getQueue } from "~/queue/queue.server";
import { action as apiBatchesAction, loader as apiBatchesLoader } from "~/routes/api.batches";
import { action as indexAction } from "~/routes/app._index/route";
import { loader as batchLoader } from "~/routes/app.batches.$id";
import { action as restoreBatchAction } from "~/routes/app.batches.$id.restore";
import { action as retryFailedAction } from "~/routes/app.batches.$id.retry-failed";
import { loader as zipLoader } from "~/routes/app.batches.$id.zip";
import { loader as creditsLoader } from "~/routes/app.credits/route";
import { loader as creditBatchLoader } from "~/routes/app.credits.batches.$id";
import { loader as returnLoader } from "~/routes/app.credits.return";
import { loader as processedLoader } from "~/routes/app.images.$id.processed";
import { action as approveAction } from "~/routes/app.items.$id.approve";
import { action as rejectAction } from "~/routes/app.items.$id.reject";
import { action as restoreItemAction } from "~/routes/app.items.$id.restore";
import db from "~/db.server";
import { startStripeEmulator, type StripeEmulator } from "../../../emulators/stripe/server";
import { installShop, shopifyStandInForFile } from "../batches/shop-setup";
import { bearerRequest, call, formRequest, status } from "../routes/helpers";
import { creditActivity } from "~/models/credit-history.server";
import { uniqueShopDomain } from "../../factories";

const shopify = shopifyStandInForFile();
let stripe: StripeEmulator;
let shopA: string;
let shopB: string;
let published: { batchId: string; itemId: string };
let inReview: { batchId: string; itemId: string };
let stripePurchase: { id: string; sessionId: string };
let shopifyChargeId: string;
let entryId: string;

type Route = Parameters<typeof call>[0];

const queueName = `test-${randomUUID()}`;

function mediaOf(shop: string) {
  return shopify.products(shop).flatMap((p) => p.media.map((m) => ({ ...m, productId: p.id, title: p.title })));
}

async function addShop(products: number, credits: number): Promise<string> {
  const shop = uniqueShopDomain();
  shopify.addShop(shop, { products, imagesPerProduct: 1 });
  await installShop(db, shopify, shop);
  await grantCredits(db, shop, credits, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
  return shop;
}

/**
 * A batch submitted on the Images page, then moved to where the worker would leave it (no worker
 * runs here): the processed image stored and linked, the original backed up, the item in `state`.
 */
async function processedBatch(
  shop: string,
  mediaId: string,
  state: "PUBLISHED" | "NEEDS_REVIEW",
): Promise<{ batchId: string; itemId: string }> {
  const result = (await call(
    indexAction,
    await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify([mediaId]) }),
  )) as Response;
  expect(result.status).toBe(302);
  const batchId = /batches\/([0-9a-f-]{36})/.exec(result.headers.get("location") ?? "")![1]!;
  const item = await db.batchItem.findFirstOrThrow({ where: { shop, batchId } });
  const stored = await db.storedImage.create({
    data: { shop, cacheKey: `cross-shop:${item.id}`, mimeType: "image/png", width: 1, height: 1, bytes: new Uint8Array(PNG) },
  });
  await db.batchItem.update({ where: { id: item.id }, data: { state, resultImageId: stored.id, finishedAt: new Date() } });
  await db.imageBackup.create({ data: { shop, mediaId, productId: item.productId, originalUrl: item.sourceUrl } });
  if (state === "PUBLISHED") {
    await captureForItem(db, shop, item.id);
    await db.batch.update({ where: { id: batchId }, data: { status: "DONE", finishedAt: new Date() } });
  }
  return { batchId, itemId: item.id };
}

const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2b6e0d30000000049454e44ae426082",
  "hex",
);

beforeAll(async () => {
  process.env.QUEUE_NAME = queueName;
  stripe = await startStripeEmulator({ secretKey: "sk_test_cross_shop", webhookSecret: "whsec_cross_shop" });
  process.env.STRIPE_SECRET_KEY = stripe.secretKey;
  process.env.STRIPE_WEBHOOK_SECRET = stripe.webhookSecret;
  process.env.STRIPE_API_URL = stripe.url;
  process.env.SHOPIFY_BILLING_TEST = "true";

  shopA = await addShop(2, 30);
  shopB = await addShop(1, 30);
  const [first, second] = mediaOf(shopA);
  published = await processedBatch(shopA, first!.id, "PUBLISHED");
  inReview = await processedBatch(shopA, second!.id, "NEEDS_REVIEW");

  const checkout = await createStripeCheckout({ db, stripe: createStripeClient(stripe.secretKey, new URL(stripe.url)) }, shopA, {
    packId: "starter",
    successUrl: "https://admin.shopify.com/store/a/apps/key/app/credits/return?session_id={CHECKOUT_SESSION_ID}",
    cancelUrl: "https://admin.shopify.com/store/a/apps/key/app/credits",
  });
  const row = await db.purchase.findUniqueOrThrow({ where: { id: checkout.purchaseId } });
  stripe.completeSession(row.externalId, { paymentStatus: "paid" });
  stripePurchase = { id: row.id, sessionId: row.externalId };
  shopifyChargeId = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  await db.purchase.create({
    data: {
      shop: shopA,
      provider: "SHOPIFY",
      externalId: `gid://shopify/AppPurchaseOneTime/${shopifyChargeId}`,
      pack: "starter",
      credits: 30,
      amountCents: 999,
    },
  });
  entryId = (await db.creditEntry.findFirstOrThrow({ where: { shop: shopA }, orderBy: { createdAt: "desc" } })).id;
});

afterAll(async () => {
  await getQueue(queueName).obliterate({ force: true });
  await closeQueues();
  await stripe?.close();
});

/** What shop A has that a cross-shop request could change. */
async function shopAState() {
  return {
    balance: await getBalance(db, shopA),
    items: await db.batchItem.findMany({
      where: { shop: shopA },
      select: { id: true, state: true, resultImageId: true },
      orderBy: { id: "asc" },
    }),
    batches: await db.batch.findMany({ where: { shop: shopA }, select: { id: true, status: true }, orderBy: { id: "asc" } }),
    purchases: await db.purchase.findMany({
      where: { shop: shopA },
      select: { id: true, status: true, grantedAt: true },
      orderBy: { id: "asc" },
    }),
    media: mediaOf(shopA).map((m) => m.sha256),
  };
}

async function answer(route: Route, shop: string, path: string, params: Record<string, string> = {}, method = "GET") {
  const result = await call(route, await bearerRequest(shop, path, { method }), params);
  const text = result instanceof Response ? await result.text() : JSON.stringify(result);
  return { status: status(result), text };
}

interface IdRoute {
  name: string;
  route: Route;
  method: "GET" | "POST";
  path: (id: string) => string;
  id: () => string;
}

const idRoutes: IdRoute[] = [
  { name: "batch page", route: batchLoader, method: "GET", path: (id) => `/app/batches/${id}`, id: () => published.batchId },
  { name: "batch ZIP", route: zipLoader, method: "GET", path: (id) => `/app/batches/${id}/zip`, id: () => published.batchId },
  {
    name: "restore a batch",
    route: restoreBatchAction,
    method: "POST",
    path: (id) => `/app/batches/${id}/restore`,
    id: () => published.batchId,
  },
  {
    name: "try a batch's failed images again",
    route: retryFailedAction,
    method: "POST",
    path: (id) => `/app/batches/${id}/retry-failed`,
    id: () => published.batchId,
  },
  { name: "approve an item", route: approveAction, method: "POST", path: (id) => `/app/items/${id}/approve`, id: () => inReview.itemId },
  { name: "reject an item", route: rejectAction, method: "POST", path: (id) => `/app/items/${id}/reject`, id: () => inReview.itemId },
  {
    name: "restore an item",
    route: restoreItemAction,
    method: "POST",
    path: (id) => `/app/items/${id}/restore`,
    id: () => published.itemId,
  },
  {
    name: "processed image",
    route: processedLoader,
    method: "GET",
    path: (id) => `/app/images/${id}/processed`,
    id: () => published.itemId,
  },
  {
    name: "batch credit lines",
    route: creditBatchLoader,
    method: "GET",
    path: (id) => `/app/credits/batches/${id}`,
    id: () => published.batchId,
  },
  {
    name: "extension batch progress",
    route: apiBatchesLoader,
    method: "GET",
    path: (id) => `/api/batches?id=${id}`,
    id: () => published.batchId,
  },
];

describe("cross-shop access", () => {
  it("shop A's own ids work for shop A (so the 404s below are about ownership)", async () => {
    expect((await answer(batchLoader, shopA, `/app/batches/${published.batchId}`, { id: published.batchId })).status).toBe(200);
    expect((await answer(zipLoader, shopA, `/app/batches/${published.batchId}/zip`, { id: published.batchId })).status).toBe(200);
    expect((await answer(processedLoader, shopA, `/app/images/${published.itemId}/processed`, { id: published.itemId })).status).toBe(200);
    expect((await answer(apiBatchesLoader, shopA, `/api/batches?id=${published.batchId}`)).status).toBe(200);
    expect((await answer(creditBatchLoader, shopA, `/app/credits/batches/${published.batchId}`, { id: published.batchId })).status).toBe(
      200,
    );
    const items = await db.batchItem.findMany({ where: { shop: shopA }, select: { id: true, state: true } });
    expect(items).toEqual(
      expect.arrayContaining([
        { id: published.itemId, state: "PUBLISHED" },
        { id: inReview.itemId, state: "NEEDS_REVIEW" },
      ]),
    );
  });

  for (const r of idRoutes) {
    it(`${r.method} ${r.name} with the other shop's id answers exactly like an unknown id (404) and changes nothing`, async () => {
      const before = await shopAState();
      const foreign = await answer(r.route, shopB, r.path(r.id()), { id: r.id() }, r.method);
      const unknownId = randomUUID();
      const unknown = await answer(r.route, shopB, r.path(unknownId), { id: unknownId }, r.method);
      expect(foreign.status).toBe(404);
      expect(foreign.text.replaceAll(r.id(), "<id>")).toBe(unknown.text.replaceAll(unknownId, "<id>"));
      expect(foreign.text).not.toContain(shopA);
      expect(await shopAState()).toEqual(before);
    });
  }

  it("credits page ignores the other shop's purchase id and ledger cursor", async () => {
    // A cursor made from the other shop's newest history line: it may only position shop B's own lines.
    const foreignCursor = (await creditActivity(db, shopA, { take: 1 })).nextCursor ?? `2099-01-01T00:00:00.000000Z|entry:${entryId}`;
    for (const cursor of [entryId, foreignCursor]) {
      const { status: code, text } = await answer(
        creditsLoader,
        shopB,
        `/app/credits?purchase=${stripePurchase.id}&cursor=${encodeURIComponent(cursor)}`,
      );
      expect(code).toBe(200);
      const overview = JSON.parse(text) as {
        returnedPurchase: unknown;
        recentPurchases: unknown[];
        history: { lines: Array<{ key: string }> };
      };
      expect(overview.returnedPurchase).toBeNull();
      expect(overview.recentPurchases).toEqual([]);
      const ownEntries = await db.creditEntry.findMany({ where: { shop: shopB }, select: { id: true } });
      const ownKeys = ownEntries.map((e) => `entry:${e.id}`);
      // An unreadable cursor gives the first page: exactly shop B's own lines. The other shop's cursor only positions.
      if (cursor === entryId) expect(overview.history.lines.map((l) => l.key).sort()).toEqual(ownKeys.sort());
      expect(overview.history.lines.filter((l) => !ownKeys.includes(l.key))).toEqual([]);
      expect(text).not.toContain(stripePurchase.id);
      expect(text).not.toContain(entryId);
    }
  });

  it("returning from checkout with the other shop's Stripe session or Shopify charge grants nothing to anyone", async () => {
    const beforeA = await shopAState();
    const beforeB = await getBalance(db, shopB);
    for (const search of [`session_id=${stripePurchase.sessionId}`, `charge_id=${shopifyChargeId}`]) {
      const result = await call(returnLoader, await bearerRequest(shopB, `/app/credits/return?${search}`));
      expect(result).toBeInstanceOf(Response);
      const location =
        (result as Response).headers.get("location") ??
        (result as Response).headers.get("X-Shopify-API-Request-Failure-Reauthorize-Url") ??
        "";
      expect(location).not.toContain("purchase=");
    }
    expect(await getBalance(db, shopB)).toEqual(beforeB);
    expect(await shopAState()).toEqual(beforeA);
  });

  it("creating a batch from the other shop's media ids creates nothing and names none of its products", async () => {
    const before = await shopAState();
    const mediaIds = mediaOf(shopA).map((m) => m.id);
    const titles = shopify.products(shopA).map((p) => p.title);
    const fromGrid = await call(
      indexAction,
      await formRequest(shopB, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify(mediaIds) }),
    );
    const fromApi = await call(
      apiBatchesAction,
      await bearerRequest(shopB, "/api/batches", {
        method: "POST",
        body: JSON.stringify({ mediaIds, pipeline: "amazon" }),
        headers: { "Content-Type": "application/json" },
      }),
    );
    for (const result of [fromGrid, fromApi]) {
      expect(status(result)).toBeGreaterThanOrEqual(400);
      expect(status(result)).toBeLessThan(500);
      const text = result instanceof Response ? await result.text() : JSON.stringify(result);
      for (const title of titles) expect(text).not.toContain(title);
    }
    expect(await db.batch.count({ where: { shop: shopB } })).toBe(0);
    expect(await getBalance(db, shopB)).toMatchObject({ reserved: 0, available: 30 });
    expect(await shopAState()).toEqual(before);
  });
});
