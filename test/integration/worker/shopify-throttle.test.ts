import { describe, expect, it } from "vitest";
import { createBatch } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { harnessForFile, offlineAdmin } from "../batches/harness";

const h = harnessForFile({ worker: { concurrency: 2 } });

describe("Shopify THROTTLED", () => {
  it("delays only the throttled shop's jobs: another shop's batch is not held up, and nothing fails", async () => {
    const slow = await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12 });
    const fast = await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12 });
    const slowBatch = await createBatch({ db: h.db, graphql: await offlineAdmin(slow), queue: h.queue }, slow, {
      productIds: h.shopify.products(slow).map((p) => p.id),
      pipeline: "amazon",
    });
    // A bucket that refills at 1 point/s: publishing the slow shop's four images needs far more points
    // than it holds, so they cannot all finish for minutes. With two worker slots, a worker that
    // waited inside its slot would starve the other shop; delayed jobs free the slots.
    h.shopify.setThrottle(slow, { bucketSize: 40, restoreRate: 1 });
    const fastBatch = await createBatch({ db: h.db, graphql: await offlineAdmin(fast), queue: h.queue }, fast, {
      productIds: h.shopify.products(fast).map((p) => p.id),
      pipeline: "amazon",
    });

    const fastDone = await h.waitForBatch(fast, fastBatch.batchId, 90_000);
    expect(fastDone.counts.PUBLISHED).toBe(4);
    expect(h.shopify.graphqlLog(slow).some((entry) => entry.throttled)).toBe(true);
    expect(h.shopify.graphqlLog(fast).some((entry) => entry.throttled)).toBe(false);
    const slowNow = await h.db.batch.findUniqueOrThrow({ where: { id: slowBatch.batchId } });
    expect(slowNow.status).toBe("ACTIVE");

    // Once the bucket refills normally, the waiting jobs finish; waiting used up no attempt.
    h.shopify.setThrottle(slow, { bucketSize: 1000, restoreRate: 1000 });
    const slowDone = await h.waitForBatch(slow, slowBatch.batchId, 90_000);
    expect(slowDone.counts.PUBLISHED).toBe(4);
    expect(await getBalance(h.db, slow)).toMatchObject({ available: 0, reserved: 0 });
    expect(await h.queue.getFailedCount()).toBe(0);
  }, 200_000);
});
