/**
 * A store Shopify has frozen (402, its Shopify bill unpaid) or locked (423) refuses every Admin API request. The job
 * that meets the refusal first marks the shop; every later job of the shop asks Shopify once (the cheapest query)
 * before it downloads the original or calls the model, and fails at once while the store is still unavailable: no
 * model call paid for an image that cannot be published, its credits back, and a sentence that says what to do. Once
 * the store is open again, the first job finds it answering, clears the mark and goes on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createBatch, restoreBatch } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { sweepOnce } from "~/queue/sweep.server";
import { harnessForFile, mediaById, offlineAdmin, settledBySweep, submitAllImages } from "../batches/harness";
import { waitFor } from "../wait";

// One image at a time, so "in flight when the store froze" is the one image the worker holds.
const h = harnessForFile({ worker: { concurrency: 1 } });

const FROZEN =
  "Shopify has frozen this store until its outstanding Shopify bill is paid, so its images cannot be changed. Your credits were returned; pay the bill in your Shopify admin, then try these images again.";
const LOCKED =
  "Shopify has locked this store, so its images cannot be changed. Your credits were returned; contact Shopify support to unlock the store, then try these images again.";

const savedAttempts = process.env.JOB_ATTEMPTS;
afterEach(() => {
  if (savedAttempts === undefined) delete process.env.JOB_ATTEMPTS;
  else process.env.JOB_ATTEMPTS = savedAttempts;
});

const captures = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });
const modelCalls = () => h.dashscope.stats().requests;

function itemsOf(shop: string, batchId: string) {
  return h.db.batchItem.findMany({
    where: { shop, batchId },
    select: { id: true, mediaId: true, state: true, reason: true, reasonMessage: true },
    orderBy: { position: "asc" },
  });
}

describe("a store Shopify froze while its batch waits", () => {
  it("fails every image it cannot publish without calling the model, returns the credits, and tries them again once paid", async () => {
    const shop = await h.addShop({ products: 3, imagesPerProduct: 2, credits: 30 });
    const before = mediaById(h.shopify, shop);
    expect(before.size).toBe(6);
    const callsBefore = modelCalls();

    const batchId = await submitAllImages(h, shop);
    // Shopify freezes the store as the batch starts: at most the image the worker already holds reaches the model.
    h.shopify.setShopUnavailable(shop, 402);
    const progress = await h.waitForBatch(shop, batchId);
    expect(progress.counts.FAILED).toBe(6);

    const items = await itemsOf(shop, batchId);
    expect(items.map((item) => item.state)).toEqual(Array(6).fill("FAILED"));
    for (const item of items) {
      expect(item.reason).toBe(FROZEN);
      expect(item.reasonMessage).toEqual({ code: "itemShopFrozen" });
    }
    expect(modelCalls() - callsBefore).toBeLessThanOrEqual(1);
    // Each image after the first asked Shopify once whether the store is open again, and nothing else.
    expect(h.shopify.refusedWhileUnavailable(shop).filter((op) => op === "ShopAvailability")).toHaveLength(5);
    expect(await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({
      unavailableStatus: 402,
      unavailableAt: expect.any(Date) as Date,
    });
    // Every credit back, no product image changed, lost or duplicated.
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await captures(shop)).toBe(0);
    const frozen = mediaById(h.shopify, shop);
    expect([...frozen.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [mediaId, media] of frozen) {
      expect(media).toMatchObject({ sha256: before.get(mediaId)!.sha256, position: before.get(mediaId)!.position, replacements: 0 });
    }
    expect(h.shopify.files(shop)).toEqual([]);

    // The merchant pays the bill and selects the images again: each is published once and charged once.
    h.shopify.setShopUnavailable(shop, null);
    const graphql = await offlineAdmin(shop);
    const again = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, {
      mediaIds: items.map((item) => item.mediaId),
      pipeline: "amazon",
    });
    expect(again.queued).toBe(6);
    const retried = await h.waitForBatch(shop, again.batchId);
    expect(retried.counts.PUBLISHED).toBe(6);
    expect(await getBalance(h.db, shop)).toEqual({ available: 12, reserved: 0, total: 12 });
    expect(await captures(shop)).toBe(6);
    // The first job found the store answering and cleared the mark; the others did not ask.
    expect(h.shopify.graphqlLog(shop).filter((entry) => entry.operationName === "ShopAvailability")).toHaveLength(1);
    expect(await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ unavailableStatus: null, unavailableAt: null });
    const published = mediaById(h.shopify, shop);
    expect([...published.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [mediaId, media] of published) {
      expect(media.replacements).toBe(1);
      expect(media.position).toBe(before.get(mediaId)!.position);
    }
  }, 120_000);
});

describe("a store Shopify locked", () => {
  it("fails its images with the locked sentence, credits returned, and no second model call", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const callsBefore = modelCalls();
    const batchId = await submitAllImages(h, shop);
    h.shopify.setShopUnavailable(shop, 423);
    await h.waitForBatch(shop, batchId);

    const items = await itemsOf(shop, batchId);
    expect(items.map((item) => [item.state, item.reason, item.reasonMessage])).toEqual([
      ["FAILED", LOCKED, { code: "itemShopLocked" }],
      ["FAILED", LOCKED, { code: "itemShopLocked" }],
    ]);
    expect(modelCalls() - callsBefore).toBeLessThanOrEqual(1);
    expect(await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ unavailableStatus: 423 });
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    for (const [mediaId, media] of mediaById(h.shopify, shop)) {
      expect(media).toMatchObject({ sha256: before.get(mediaId)!.sha256, replacements: 0 });
    }
  }, 60_000);
});

describe("a store Shopify froze just after a replacement was sent", () => {
  it("keeps that image's credits held, neither given back nor spent, and publishes it charged once when the store opens", async () => {
    process.env.JOB_ATTEMPTS = "1";
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const [mediaId, original] = [...mediaById(h.shopify, shop)][0]!;
    // Shopify takes the fileUpdate, then freezes the store before the worker can read the media back.
    h.shopify.afterNextOperation(shop, "CatalogReplaceMediaImage", () => {
      h.shopify.setShopUnavailable(shop, 402);
      return Promise.resolve();
    });
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [mediaId],
      pipeline: "amazon",
    });
    const itemId = (await itemsOf(shop, batchId))[0]!.id;
    await waitFor(
      async () => (await h.queue.getJob(itemId))?.getState(),
      (state) => state === "failed" || state === "completed",
      "the only attempt to end",
    );
    // Whether it took cannot be read while the store is frozen: the credits stay held for the sweep to settle.
    expect(await h.db.batchItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({
      state: "PROCESSING",
      replaceSentAt: expect.any(Date) as Date,
    });
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 3, total: 30 });
    expect(await captures(shop)).toBe(0);
    expect(await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ unavailableStatus: 402 });

    // A sweep while the store is still frozen changes nothing: the job asks, is refused, and holds the credits.
    await sweepOnce({ db: h.db, queue: h.queue }, { graceMs: 0 });
    await waitFor(
      async () => ({
        asked: h.shopify.refusedWhileUnavailable(shop).filter((op) => op === "ShopAvailability").length,
        state: await (await h.queue.getJob(itemId))?.getState(),
      }),
      ({ asked, state }) => asked === 1 && (state === "failed" || state === "completed"),
      "the swept attempt to ask Shopify once and end",
    );
    expect(await h.db.batchItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({ state: "PROCESSING" });
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 3, total: 30 });

    // The bill is paid: the next sweep finds the replacement live and charges it once, without sending it again.
    h.shopify.setShopUnavailable(shop, null);
    const settled = await settledBySweep(h, itemId, "the item to be settled");
    expect(settled.state).toBe("PUBLISHED");
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
    expect(await captures(shop)).toBe(1);
    const media = mediaById(h.shopify, shop).get(mediaId)!;
    expect(media.replacements).toBe(1);
    expect(media.sha256).not.toBe(original.sha256);
    expect(await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ unavailableStatus: null });
  }, 90_000);
});

describe("restoring a batch of a store Shopify locked", () => {
  it("says the store is locked without speaking of credits, and leaves the published image and its charge", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const batchId = await submitAllImages(h, shop);
    expect((await h.waitForBatch(shop, batchId)).counts.PUBLISHED).toBe(1);
    h.shopify.setShopUnavailable(shop, 423);
    expect(await restoreBatch({ db: h.db, queue: h.queue }, shop, batchId)).toEqual({ queued: 1 });
    await h.waitForRestores(shop, batchId);
    const [item] = await itemsOf(shop, batchId);
    expect(item).toMatchObject({
      state: "PUBLISHED",
      reason:
        "The original could not be put back: Shopify has locked this store; contact Shopify support to unlock it first. Try Restore again.",
    });
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
  }, 60_000);
});
