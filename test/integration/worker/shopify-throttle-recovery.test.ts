import { describe, expect, it } from "vitest";
import { createBatch } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { harnessForFile, offlineAdmin } from "../batches/harness";

const h = harnessForFile({ worker: { concurrency: 4 } });

describe("Shopify THROTTLED, a shop's batch publishing on a slowly refilling bucket", () => {
  it("publishes every image: the waiting jobs resume on a refilled bucket, not one request's worth", async () => {
    const shop = await h.addShop({ products: 4, imagesPerProduct: 2, credits: 24 });
    const batch = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      productIds: h.shopify.products(shop).map((p) => p.id),
      pipeline: "amazon",
    });
    // Publishing eight images takes about 470 points; the bucket holds 100 and refills 10 a second. Jobs that resumed as
    // soon as one request could pass spent each refill on their first calls and were throttled again on the next: 2 of
    // 8 published in 150 s (a real-photo demo of 120 images stalled this way with 7 to 20 images left).
    h.shopify.setThrottle(shop, { bucketSize: 100, restoreRate: 10 });
    const done = await h.waitForBatch(shop, batch.batchId, 150_000);
    expect(done.counts.PUBLISHED).toBe(8);
    expect(h.shopify.graphqlLog(shop).some((entry) => entry.throttled)).toBe(true);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
    expect(await h.queue.getFailedCount()).toBe(0);
  }, 200_000);
});
