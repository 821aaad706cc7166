import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";

const MODEL_SLOTS = 2;
const JOBS = 6;

let h: Harness;

beforeAll(async () => {
  // A slow model, so jobs pile up behind the model slots if the worker lets them.
  h = await startHarness({ dashscope: { latencyMs: 400 } });
  h.startInProcessWorker({ concurrency: JOBS, modelSlots: MODEL_SLOTS });
});

afterAll(async () => {
  await h?.close();
});

describe("model slots (WORKER_CONCURRENCY) below the worker's jobs (WORKER_JOBS)", () => {
  it("never has more model requests in flight than configured, while other images are worked on at the same time", async () => {
    const shop = await h.addShop({ products: 5, imagesPerProduct: 2, credits: 30 });
    const media = mediaById(h.shopify, shop);
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...media.keys()],
      pipeline: "amazon",
    });

    let mostProcessing = 0;
    for (;;) {
      const progress = await getBatchProgress(h.db, shop, batchId);
      mostProcessing = Math.max(mostProcessing, progress!.counts.PROCESSING);
      if (progress!.batch.status !== "ACTIVE") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const progress = await getBatchProgress(h.db, shop, batchId);
    expect(progress!.counts.PUBLISHED).toBe(10);
    expect(h.dashscope.stats().maxInFlight).toBe(MODEL_SLOTS);
    expect(mostProcessing).toBeGreaterThan(MODEL_SLOTS);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
  }, 90_000);
});
