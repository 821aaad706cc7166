/**
 * Automation jobs on a shop whose Admin API bucket is empty: Shopify answers THROTTLED, and the job waits until the
 * bucket is half full again before its next call, not only for the points that one call needed (a job resuming on a
 * trickle of points is throttled again on its next call, and many such jobs never finish; see the image worker's
 * shopify-throttle-recovery test). The automatic rule still queues the product's images; a catalogue run still counts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startCatalogRun } from "~/models/catalog-runs.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { action as productsCreate } from "~/routes/webhooks.products.create";
import { offlineAdmin } from "../batches/harness";
import { waitFor } from "../wait";
import { automationHarnessForFile, runOf, shopWithAutoRule } from "./automation-harness";

process.env.CATALOG_BULK_POLL_MS = "300";
afterAll(() => {
  delete process.env.CATALOG_BULK_POLL_MS;
});

const h = automationHarnessForFile({
  routes: { "/webhooks/products/create": productsCreate },
  // No image worker: the shop's only Admin API calls are the automation job's own.
  imageWorker: false,
});

const BUCKET = 200;
const RESTORE_RATE = 10;

/** Empties the shop's bucket, which then refills 10 points a second (half full after 10 s); returns when. */
function emptyBucket(shop: string): { emptiedAt: number; callsBefore: number } {
  h.shopify.setThrottle(shop, { bucketSize: 0 });
  h.shopify.setThrottle(shop, { bucketSize: BUCKET, restoreRate: RESTORE_RATE });
  return { emptiedAt: Date.now(), callsBefore: h.shopify.graphqlLog(shop).length };
}

/** The shop's first call Shopify throttled after `emptiedAt`, and the wait before its next call (which passed). */
function expectHalfBucketWait(shop: string, { emptiedAt, callsBefore }: ReturnType<typeof emptyBucket>): void {
  const calls = h.shopify.graphqlLog(shop).slice(callsBefore);
  const throttledAt = calls.findIndex((call) => call.throttled);
  expect(throttledAt).toBeGreaterThanOrEqual(0);
  const throttled = calls[throttledAt]!;
  const next = calls[throttledAt + 1]!;
  // The points the bucket held when Shopify refused (at most: the log's clock is the stand-in's, read after).
  const heldPoints = Math.min(BUCKET, ((throttled.at - emptiedAt) / 1000) * RESTORE_RATE);
  const halfBucketMs = ((BUCKET / 2 - heldPoints) / RESTORE_RATE) * 1000;
  const onePointsWorthMs = ((throttled.requestedCost - heldPoints) / RESTORE_RATE) * 1000;
  // The wait tells the two apart only while the call needed less than half the bucket.
  expect(onePointsWorthMs).toBeLessThan(halfBucketMs - 2_000);
  expect(next.operationName).toBe(throttled.operationName);
  expect(next.at - throttled.at).toBeGreaterThanOrEqual(halfBucketMs - 250);
  expect(next.throttled).toBe(false);
}

describe("automation jobs on a throttled shop", () => {
  it("the automatic rule waits for a half-full bucket after THROTTLED, then queues the new product's images", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const emptied = emptyBucket(shop);
    const { mediaIds } = await h.shopify.createProduct(shop, { images: 2 });
    const queued = await waitFor(
      () => h.db.batchItem.findMany({ where: { shop, mediaId: { in: mediaIds } } }),
      (items) => items.length === 2,
      "the rule to queue the new product's two images",
      60_000,
    );
    expect(queued.map((item) => item.state)).toEqual(["QUEUED", "QUEUED"]);
    expectHalfBucketWait(shop, emptied);
  }, 90_000);

  it("a whole-catalogue run's count waits for a half-full bucket after THROTTLED, then counts the catalogue", async () => {
    const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 30 });
    const graphql = await offlineAdmin(shop);
    const emptied = emptyBucket(shop);
    const started = await startCatalogRun({ db: h.db, automationQueue: getAutomationQueue(h.queueName), graphql }, shop, {
      filterKind: "all",
      pipeline: "amazon",
    });
    if (!started.ok) throw new Error(JSON.stringify(started.errors));
    const counted = await runOf(h, shop, started.runId, (r) => r.status !== "COUNTING", "the catalogue to be counted");
    expect(counted).toMatchObject({ status: "READY", total: 3 });
    expectHalfBucketWait(shop, emptied);
  }, 90_000);
});
