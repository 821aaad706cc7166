import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_QUEUE_KEY, getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { closeQueues } from "~/queue/queue.server";
import { action as restoreBatchAction } from "~/routes/app.batches.$id.restore";
import { action as restoreItemAction } from "~/routes/app.items.$id.restore";
import { bearerRequest, body, call } from "../routes/helpers";
import { mediaById, startHarness, submitAllImages, type Harness } from "./harness";
import { createBatch, createItems } from "../../factories";

const ITEMS = 500;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  // The route enqueues through getQueue(): point it at the harness's queue.
  process.env.QUEUE_NAME = h.queueName;
});
afterAll(async () => {
  await closeQueues();
  await h?.close();
});

/** A batch of 500 published images whose backups hold another picture (product 0's), as a finished batch leaves them. */
async function publishedBatch(): Promise<{ shop: string; batchId: string; originalSha: string }> {
  const shop = await h.addShop({ products: ITEMS + 1, imagesPerProduct: 1, credits: 0, bucketSize: 10_000_000, restoreRate: 1_000_000 });
  const products = h.shopify.products(shop);
  const original = products[0]!.media[0]!;
  const originalUrl = original.url;
  const batch = await createBatch(h.db, shop, {
    settings: { [BATCH_QUEUE_KEY]: h.queueName },
    total: ITEMS,
    status: "DONE",
    finishedAt: new Date(),
  });
  const items = await createItems(
    h.db,
    batch,
    products.slice(1).map((p, index) => ({
      productId: p.id,
      productTitle: p.title,
      mediaId: p.media[0]!.id,
      sourceUrl: originalUrl,
      position: 1,
      state: "PUBLISHED",
      finishedAt: new Date(Date.now() - index),
    })),
  );
  await h.db.imageBackup.createMany({
    data: items.map((i) => ({ shop, mediaId: i.mediaId, productId: i.productId, originalUrl, fileId: original.id, fileUrl: originalUrl })),
  });
  return { shop, batchId: batch.id, originalSha: original.sha256 };
}

describe("restoring a whole batch", () => {
  it("answers a 500-image restore at once, then puts every original back in the background with visible progress", async () => {
    const { shop, batchId, originalSha } = await publishedBatch();

    const started = performance.now();
    const response = await call(restoreBatchAction, await bearerRequest(shop, `/app/batches/${batchId}/restore`, { method: "POST" }), {
      id: batchId,
    });
    const elapsedMs = performance.now() - started;
    expect(await body(response)).toEqual({
      ok: true,
      message: `Restoring ${ITEMS} original images; this page shows the progress.`,
      messageCode: "batchRestoreQueued",
      messageParams: { count: ITEMS },
    });
    expect(elapsedMs).toBeLessThan(3_000);
    const queued = await getBatchProgress(h.db, shop, batchId);
    expect(queued).toMatchObject({ restoring: ITEMS, counts: { PUBLISHED: ITEMS, RESTORED: 0 } });

    // Asking again while they wait changes nothing.
    const again = await call(restoreBatchAction, await bearerRequest(shop, `/app/batches/${batchId}/restore`, { method: "POST" }), {
      id: batchId,
    });
    expect(await body(again)).toEqual({
      ok: true,
      message: "No published images to restore.",
      messageCode: "batchRestoreNone",
      messageParams: {},
    });

    h.startInProcessWorker({ concurrency: 10 });
    const seen = new Set<number>();
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const progress = (await getBatchProgress(h.db, shop, batchId))!;
      seen.add(progress.restoring);
      expect(progress.counts.RESTORED + progress.restoring).toBe(ITEMS);
      if (progress.restoring === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect([...seen].some((n) => n > 0 && n < ITEMS)).toBe(true);
    const done = (await getBatchProgress(h.db, shop, batchId))!;
    expect(done).toMatchObject({ restoring: 0, counts: { RESTORED: ITEMS, PUBLISHED: 0 } });
    const media = mediaById(h.shopify, shop);
    for (const item of done.items) expect(media.get(item.mediaId)!.sha256).toBe(originalSha);
    // Room for the 120 s the restores are given above, on a loaded machine.
  }, 180_000);
});

describe("restoring when the merchant deleted one of the images", () => {
  it("restores the others and tells the merchant why that one could not be put back", async () => {
    const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 0, bucketSize: 100_000, restoreRate: 100_000 });
    const products = h.shopify.products(shop);
    const original = products[0]!.media[0]!;
    const batch = await createBatch(h.db, shop, { settings: { [BATCH_QUEUE_KEY]: h.queueName }, total: 2, status: "DONE" });
    const items = await createItems(
      h.db,
      batch,
      products.slice(1).map((p) => ({
        productId: p.id,
        productTitle: p.title,
        mediaId: p.media[0]!.id,
        sourceUrl: original.url,
        position: 1,
        state: "PUBLISHED",
      })),
    );
    await h.db.imageBackup.createMany({
      data: items.map((i) => ({
        shop,
        mediaId: i.mediaId,
        productId: i.productId,
        originalUrl: original.url,
        fileId: original.id,
        fileUrl: original.url,
      })),
    });
    const [gone, kept] = items;
    h.shopify.deleteMedia(shop, gone!.mediaId);

    const response = await call(restoreBatchAction, await bearerRequest(shop, `/app/batches/${batch.id}/restore`, { method: "POST" }), {
      id: batch.id,
    });
    expect(await body(response)).toMatchObject({ ok: true });
    h.startInProcessWorker({ concurrency: 2 });
    const done = await h.waitForRestores(shop, batch.id);
    const byMedia = new Map(done.items.map((i) => [i.mediaId, i]));
    expect(byMedia.get(kept!.mediaId)).toMatchObject({ state: "RESTORED" });
    expect(byMedia.get(gone!.mediaId)).toMatchObject({
      state: "PUBLISHED",
      restoring: false,
      reason: expect.stringMatching(/original could not be put back: .*no longer on the product/),
      reasonMessage: { code: "itemRestoreFailed", params: { detail: expect.stringMatching(/no longer on the product/) } },
    });
    expect(mediaById(h.shopify, shop).get(kept!.mediaId)!.sha256).toBe(original.sha256);
  });
});

describe("restoring after a newer batch published the same image again", () => {
  it("puts back the image the product had before the first batch, whichever batch the merchant restores from", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 6 });
    const [mediaId, original] = [...mediaById(h.shopify, shop)][0]!;
    if (h.workers.length === 0) h.startInProcessWorker({ concurrency: 2 });

    const first = await submitAllImages(h, shop, "amazon");
    expect((await h.waitForBatch(shop, first)).counts.PUBLISHED).toBe(1);
    const afterFirst = mediaById(h.shopify, shop).get(mediaId)!.sha256;
    const second = await submitAllImages(h, shop, "ebay");
    const secondProgress = await h.waitForBatch(shop, second);
    expect(secondProgress.counts.PUBLISHED).toBe(1);
    expect(afterFirst).not.toBe(original.sha256);

    const restoreFrom = async (batchId: string) => {
      const item = (await h.db.batchItem.findFirstOrThrow({ where: { shop, batchId } })).id;
      const request = await bearerRequest(shop, `/app/items/${item}/restore`, { method: "POST" });
      return body(await call(restoreItemAction, request, { id: item }));
    };
    expect(await restoreFrom(second)).toMatchObject({ ok: true, message: "Original image restored." });
    expect(mediaById(h.shopify, shop).get(mediaId)).toMatchObject({
      sha256: original.sha256,
      position: original.position,
      status: "READY",
    });

    // The first batch's image is gone from the product too, and its page must not say it is still published.
    const states = await h.db.batchItem.findMany({ where: { shop }, select: { batchId: true, state: true } });
    expect(states).toEqual(
      expect.arrayContaining([
        { batchId: first, state: "RESTORED" },
        { batchId: second, state: "RESTORED" },
      ]),
    );
    expect(await restoreFrom(first)).toMatchObject({ ok: true });
    expect(mediaById(h.shopify, shop).get(mediaId)!.sha256).toBe(original.sha256);
    const backups = await h.db.imageBackup.findMany({ where: { shop } });
    expect(backups).toHaveLength(1);
    expect(h.shopify.files(shop).find((f) => f.id === backups[0]!.fileId)?.sha256).toBe(original.sha256);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
  });
});
