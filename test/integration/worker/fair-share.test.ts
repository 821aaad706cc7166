// Many shops share one model quota: each shop with work waiting gets a turn, whatever another shop's backlog.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBatchProgress } from "~/models/batches.server";
import { startHarness, submitAllImages, type Harness } from "../batches/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ dashscope: { latencyMs: 250 } });
});

afterAll(async () => {
  await h?.close();
});

function submit(shop: string): Promise<string> {
  return submitAllImages(h, shop);
}

async function startOrder(batchIds: string[]) {
  const items = await h.db.batchItem.findMany({ where: { batchId: { in: batchIds } }, select: { id: true, shop: true, startedAt: true } });
  return items.filter((i) => i.startedAt).sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
}

describe("fair share of the model across shops", () => {
  it("starts a new shop's single image within a round, while another shop has a 24-image backlog", async () => {
    const big = await h.addShop({ products: 6, imagesPerProduct: 4, credits: 72, smallPhotos: true });
    const small = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3, smallPhotos: true });
    const bigBatch = await submit(big);
    h.startInProcessWorker({ concurrency: 2 });
    while ((await h.db.batchItem.count({ where: { batchId: bigBatch, state: "PUBLISHED" } })) < 3) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const submittedAt = new Date();
    const smallBatch = await submit(small);
    // The ETA each merchant sees accounts for the other's load: one round for the single image, all rounds for the backlog
    // (both include one image's own time through the pipeline, so the ratio is well under the 21 rounds' worth).
    const [smallEta, bigEta] = [
      (await getBatchProgress(h.db, small, smallBatch))!.etaSeconds,
      (await getBatchProgress(h.db, big, bigBatch))!.etaSeconds,
    ];
    expect(smallEta).not.toBeNull();
    expect(smallEta! * 3).toBeLessThan(bigEta!);
    await h.waitForBatch(small, smallBatch, 60_000);

    const smallStarted = (await h.db.batchItem.findFirstOrThrow({ where: { batchId: smallBatch } })).startedAt!;
    const bigStartedMeanwhile = await h.db.batchItem.count({
      where: { batchId: bigBatch, startedAt: { gt: submittedAt, lt: smallStarted } },
    });
    // At most the jobs that were already taken when it arrived, one per model slot, and one round.
    expect(bigStartedMeanwhile).toBeLessThanOrEqual(3);
    expect(await h.db.batchItem.count({ where: { batchId: bigBatch, state: "QUEUED" } })).toBeGreaterThan(10);
    const big2 = await h.waitForBatch(big, bigBatch, 120_000);
    expect(big2.counts.PUBLISHED).toBe(24);
  }, 180_000);

  it("gives three shops submitted one after another a turn each, every shop's own images in submission order", async () => {
    for (const worker of h.workers) await worker.close();
    const shops = [
      await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12, smallPhotos: true }),
      await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12, smallPhotos: true }),
      await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12, smallPhotos: true }),
    ];
    const batchIds = [];
    for (const shop of shops) batchIds.push(await submit(shop));
    const submitted = new Map<string, number>();
    for (const job of await h.queue.getJobs(["prioritized", "wait"])) submitted.set(job.id!, job.opts.priority ?? 0);

    h.startInProcessWorker({ concurrency: 1 });
    for (let i = 0; i < 3; i++) await h.waitForBatch(shops[i]!, batchIds[i]!, 120_000);

    const order = await startOrder(batchIds);
    expect(order).toHaveLength(12);
    for (let round = 0; round < 4; round++) {
      expect(new Set(order.slice(round * 3, round * 3 + 3).map((i) => i.shop))).toEqual(new Set(shops));
    }
    for (const shop of shops) {
      const ownOrder = order.filter((i) => i.shop === shop).map((i) => submitted.get(i.id)!);
      expect(ownOrder).toEqual([...ownOrder].sort((a, b) => a - b));
    }
  }, 180_000);
});
