/**
 * The automatic rule's job on a shop whose Admin API bucket is empty: Shopify answers THROTTLED, and the job waits until
 * the bucket is half full again before its next call, not only for the points that one call needed (a job resuming on a
 * trickle of points is throttled again on its next call, and many such jobs never finish; see the image worker's
 * shopify-throttle-recovery test). The rule still queues the product's images.
 */
import { describe, expect, it } from "vitest";
import { action as productsCreate } from "~/routes/webhooks.products.create";
import { waitFor } from "../wait";
import { automationHarnessForFile, shopWithAutoRule } from "./automation-harness";

const h = automationHarnessForFile({
  routes: { "/webhooks/products/create": productsCreate },
  // No image worker: the shop's only Admin API calls are the rule's own.
  imageWorker: false,
});

const BUCKET = 200;
const RESTORE_RATE = 10;

describe("automatic rule on a throttled shop", () => {
  it("waits for a half-full bucket after THROTTLED, then queues the new product's images", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    // An empty bucket, refilling 10 points a second: half full after 10 s.
    h.shopify.setThrottle(shop, { bucketSize: 0 });
    h.shopify.setThrottle(shop, { bucketSize: BUCKET, restoreRate: RESTORE_RATE });
    const emptiedAt = Date.now();
    const logBefore = h.shopify.graphqlLog(shop).length;

    const { mediaIds } = await h.shopify.createProduct(shop, { images: 2 });
    const queued = await waitFor(
      () => h.db.batchItem.findMany({ where: { shop, mediaId: { in: mediaIds } } }),
      (items) => items.length === 2,
      "the rule to queue the new product's two images",
      60_000,
    );
    expect(queued.map((item) => item.state)).toEqual(["QUEUED", "QUEUED"]);

    const calls = h.shopify.graphqlLog(shop).slice(logBefore);
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
    expect(next.at - throttled.at).toBeGreaterThanOrEqual(halfBucketMs - 250);
    expect(next.throttled).toBe(false);
  }, 90_000);
});
