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
  // No quota on the stand-in: it counts every request as it arrives, so the test sees what the workers sent.
  h = await startHarness({ dashscope: { latencyMs: 300 } });
});

afterAll(async () => {
  await Promise.all(children.map(killed));
  await h?.close();
});

function submit(shop: string): Promise<string> {
  return submitAllImages(h, shop);
}

describe("fair share and quota across three worker processes", () => {
  it("serves a newcomer's image within a round and keeps every process under the one quota", async () => {
    const big = await h.addShop({ products: 8, imagesPerProduct: 4, credits: 96 });
    const small = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3 });
    const bigBatch = await submit(big);
    for (let i = 0; i < 3; i++) children.push(spawnWorkerProcess(h, { WORKER_CONCURRENCY: "2", QWEN_MAX_RPS: String(QUOTA) }));
    while ((await h.db.batchItem.count({ where: { batchId: bigBatch, state: "PUBLISHED" } })) < 3) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const submittedAt = new Date();
    const smallBatch = await submit(small);
    await h.waitForBatch(small, smallBatch, 60_000);
    const smallStarted = (await h.db.batchItem.findFirstOrThrow({ where: { batchId: smallBatch } })).startedAt!;
    const bigStartedMeanwhile = await h.db.batchItem.count({ where: { batchId: bigBatch, startedAt: { gt: submittedAt, lt: smallStarted } } });
    // One per model slot that freed while it was being enqueued, at most: 3 processes x 2 slots.
    expect(bigStartedMeanwhile).toBeLessThanOrEqual(6);

    const progress = await h.waitForBatch(big, bigBatch, 150_000);
    expect(progress.counts.PUBLISHED).toBe(32);
    // The processes take turns at the one quota (uncoordinated, 6 slots at 300 ms would send up to 20 a second). A
    // request can reach the stand-in a few ms later than it was sent, as over any network, so one over the quota
    // within a second of arrivals is what coordination across processes leaves (DashScope would answer it 429,
    // which the worker waits out).
    expect(h.dashscope.stats().maxRequestsInAnySecond).toBeLessThanOrEqual(QUOTA + 1);
  }, 200_000);
});
