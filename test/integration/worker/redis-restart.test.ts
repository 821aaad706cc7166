// Three shops queued, then a worker process is killed and later Redis too (without persistence, so every job is
// lost): the next worker takes over the stalled job, its sweep re-enqueues what Redis lost, and every image is
// handled once, credits exact, each shop's images started in the order they were submitted.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBalance } from "~/models/credit-ledger.server";
import { mediaById, startHarness, submitAllImages, unexpectedReplacements, type Harness } from "../batches/harness";
import { redisServer, type RedisServer } from "./redis-servers";
import { killed, spawnWorkerProcess } from "./worker-processes";

let redis: RedisServer;
let h: Harness;
const children: ChildProcess[] = [];
let shops: string[] = [];

beforeAll(async () => {
  redis = await redisServer();
  h = await startHarness({ redis: { url: redis.url }, dashscope: { latencyMs: 200 } });
});

afterAll(async () => {
  await Promise.all(children.map(killed));
  await h?.close();
  await redis?.stop();
});

/** One image at a time, so the order images start in is the order the queue hands them out. */
function spawnWorker(): ChildProcess {
  const child = spawnWorkerProcess(h, { REDIS_URL: redis.url, WORKER_CONCURRENCY: "1", WORKER_JOBS: "1" });
  children.push(child);
  return child;
}

async function untilHandled(count: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  while ((await h.db.batchItem.count({ where: { shop: { in: shops }, state: { in: ["PUBLISHED", "NEEDS_REVIEW"] } } })) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} images were handled in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a worker and Redis restarted mid-batch, three shops queued", () => {
  it("loses nothing, repeats nothing and keeps each shop's order", async () => {
    const sizes = [6, 4, 2];
    shops = [
      await h.addShop({ products: 2, imagesPerProduct: 3, credits: 18, smallPhotos: true }),
      await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12, smallPhotos: true }),
      await h.addShop({ products: 1, imagesPerProduct: 2, credits: 6, smallPhotos: true }),
    ];
    const before = shops.map((shop) => mediaById(h.shopify, shop));
    const batchIds: string[] = [];
    for (const shop of shops) batchIds.push(await submitAllImages(h, shop, "instagram"));
    // The order each shop's images were submitted in (their fair-share priorities before anything was lost).
    const submitted = new Map<string, number>();
    for (const job of await h.queue.getJobs(["prioritized", "wait"])) submitted.set(job.id!, job.opts.priority ?? 0);
    expect(submitted.size).toBe(12);

    const first = spawnWorker();
    await untilHandled(2);
    // The worker dies holding a job: the next one takes it over once its lock lapses.
    await killed(first);
    spawnWorker();
    await untilHandled(5);
    // Redis dies without persistence: every job and fair-share mark is gone; the sweep re-enqueues from PostgreSQL.
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();

    const done = [];
    for (let i = 0; i < shops.length; i++) done.push(await h.waitForBatch(shops[i]!, batchIds[i]!, 120_000));
    for (let i = 0; i < shops.length; i++) {
      const shop = shops[i]!;
      const progress = done[i]!;
      // Every image handled once: published, or held for review when the fidelity check flags it.
      expect(progress.counts.FAILED).toBe(0);
      expect(progress.counts.PUBLISHED + progress.counts.NEEDS_REVIEW).toBe(sizes[i]);
      const after = mediaById(h.shopify, shop);
      expect(after.size).toBe(before[i]!.size);
      for (const [mediaId, was] of before[i]!) expect(after.get(mediaId)).toMatchObject({ position: was.position, alt: was.alt });
      for (const product of h.shopify.products(shop)) expect(new Set(product.media.map((m) => m.id)).size).toBe(product.media.length);
      expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: progress.counts.NEEDS_REVIEW * 3 });
      expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(progress.counts.PUBLISHED);
      expect(await h.db.imageBackup.count({ where: { shop } })).toBe(progress.counts.PUBLISHED);
      expect(await unexpectedReplacements(h, shop)).toEqual([]);
    }

    // Order kept: each shop's images first started in the order they were submitted. An image running when Redis died
    // is run again after the sweep puts it back, possibly after later ones; its first start (startedAt) is what counts.
    const started = (
      await h.db.batchItem.findMany({ where: { batchId: { in: batchIds } }, select: { id: true, shop: true, startedAt: true } })
    ).sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
    for (const shop of shops) {
      const own = started.filter((item) => item.shop === shop).map((item) => submitted.get(item.id)!);
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }
  }, 240_000);
});
