import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch } from "~/models/batches.server";
import { getBalance } from "~/models/credits.server";
import { offlineAdmin, startHarness, type Harness } from "../batches/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  h.startInProcessWorker({ concurrency: 2 });
});

afterAll(async () => {
  await h?.close();
});

describe("Shopify THROTTLED", () => {
  it("delays only the throttled shop's jobs: another shop's batch is not held up, and nothing fails", async () => {
    const slow = await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12 });
    const fast = await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12 });
    const slowBatch = await createBatch({ db: h.db, graphql: await offlineAdmin(slow), queue: h.queue }, slow, {
      productIds: h.shopify.products(slow).map((p) => p.id),
      pipeline: "amazon",
    });
    // A small bucket that refills slowly: publishing one image takes several refills.
    h.shopify.setThrottle(slow, { bucketSize: 40, restoreRate: 25 });
    const fastBatch = await createBatch({ db: h.db, graphql: await offlineAdmin(fast), queue: h.queue }, fast, {
      productIds: h.shopify.products(fast).map((p) => p.id),
      pipeline: "amazon",
    });

    const fastDone = await h.waitForBatch(fast, fastBatch.batchId, 60_000);
    expect(fastDone.counts.PUBLISHED).toBe(4);
    const slowNow = await h.db.batch.findUniqueOrThrow({ where: { id: slowBatch.batchId } });
    expect(slowNow.status).toBe("ACTIVE");
    expect(h.shopify.graphqlLog(slow).some((entry) => entry.throttled)).toBe(true);
    expect(h.shopify.graphqlLog(fast).some((entry) => entry.throttled)).toBe(false);

    const slowDone = await h.waitForBatch(slow, slowBatch.batchId, 90_000);
    expect(slowDone.counts.PUBLISHED).toBe(4);
    expect(await getBalance(h.db, slow)).toMatchObject({ available: 0, reserved: 0 });
    // Waiting for the bucket does not use up attempts: no job was retried for a failure.
    const jobsFailed = await h.queue.getFailedCount();
    expect(jobsFailed).toBe(0);
  });
});
