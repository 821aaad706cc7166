// Three worker processes share one Qwen quota and one fair share: a shop's single image is not held behind
// another shop's backlog whichever process takes it, and the model never sees more than the quota.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, submitAllImages, type Harness } from "../batches/harness";
import { killed, spawnWorkerProcess } from "./worker-processes";

const QUOTA = 3;
let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // The stand-in enforces the quota as DashScope does: 429 Throttling.RateQuota past it.
  h = await startHarness({ dashscope: { latencyMs: 300, rps: QUOTA } });
});

afterAll(async () => {
  await Promise.all(children.map(killed));
  await h?.close();
});

function submit(shop: string): Promise<string> {
  return submitAllImages(h, shop);
}

describe("fair share, quota and recovery across three worker processes", () => {
  it("serves a newcomer's image within a round, keeps every process under the one quota, and survives losing one", async () => {
    const big = await h.addShop({ products: 8, imagesPerProduct: 4, credits: 96, smallPhotos: true });
    const small = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3, smallPhotos: true });
    const bigBatch = await submit(big);
    for (let i = 0; i < 3; i++) children.push(spawnWorkerProcess(h, { WORKER_CONCURRENCY: "2", QWEN_MAX_RPS: String(QUOTA) }));
    while ((await h.db.batchItem.count({ where: { batchId: bigBatch, state: "PUBLISHED" } })) < 3) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const submittedAt = new Date();
    const smallBatch = await submit(small);
    await h.waitForBatch(small, smallBatch, 60_000);
    const smallStarted = (await h.db.batchItem.findFirstOrThrow({ where: { batchId: smallBatch } })).startedAt!;
    const bigStartedMeanwhile = await h.db.batchItem.count({
      where: { batchId: bigBatch, startedAt: { gt: submittedAt, lt: smallStarted } },
    });
    // One per model slot that freed while it was being enqueued, at most: 3 processes x 2 slots.
    expect(bigStartedMeanwhile).toBeLessThanOrEqual(6);

    // One process dies mid-batch: the other two take over its images (recovery is shared too).
    await killed(children[0]!);
    const progress = await h.waitForBatch(big, bigBatch, 150_000);
    expect(progress.counts.PUBLISHED).toBe(32);
    expect(await h.db.creditEntry.count({ where: { shop: big, kind: "CAPTURE" } })).toBe(32);
    expect(await h.db.imageBackup.count({ where: { shop: big } })).toBe(32);
    for (const product of h.shopify.products(big)) expect(new Set(product.media.map((m) => m.id)).size).toBe(product.media.length);
    // The processes take turns at the one quota: uncoordinated, 6 slots at 300 ms would send up to 20 requests a
    // second and most would be refused. A request can reach the stand-in some ms later than it was sent (more so on
    // a busy machine), so the odd one lands in a full second and is refused, and the worker waits it out.
    const stats = h.dashscope.stats();
    expect(stats.succeeded).toBeGreaterThanOrEqual(33);
    expect(stats.throttled).toBeLessThan(stats.succeeded / 4);
  }, 200_000);
});
