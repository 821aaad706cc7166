// On a real Redis Cluster (three primaries, the hash slots spread over them): the queue, the fair share, the Qwen
// quota, the sweep and the web's rate limits all work through the cluster client that REDIS_CLUSTER_NODES selects.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { createRedisConnection, type RedisClient } from "~/lib/redis.server";
import { mediaById, startHarness, unexpectedReplacements, submitAllImages, type Harness } from "../batches/harness";
import { startRedisCluster, type RedisCluster } from "./redis-servers";
import { killed, spawnWorkerProcess } from "./worker-processes";
import { uniqueShopDomain } from "../../factories";

const QUOTA = 2;
let cluster: RedisCluster;
let h: Harness;
let worker: ChildProcess | undefined;
let web: RedisClient | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  // The stand-in refuses requests past the quota as DashScope does (429 Throttling.RateQuota).
  h = await startHarness({ redis: { clusterNodes: cluster.nodes }, dashscope: { latencyMs: 50, rps: QUOTA } });
});

afterAll(async () => {
  if (worker) await killed(worker);
  web?.disconnect();
  await h?.close();
  await cluster?.stop();
});

describe("Redis Cluster", () => {
  it("runs three shops' batches through a worker process on the cluster: a turn each, each shop's order, every image once, the quota kept", async () => {
    const sizes = [5, 3, 1];
    const shops = [
      await h.addShop({ products: 1, imagesPerProduct: 5, credits: 15 }),
      await h.addShop({ products: 1, imagesPerProduct: 3, credits: 9 }),
      await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3 }),
    ];
    const before = shops.map((shop) => mediaById(h.shopify, shop));
    const batchIds: string[] = [];
    for (const shop of shops) batchIds.push(await submitAllImages(h, shop));
    const priorityOf = new Map<string, number>();
    for (const job of await h.queue.getJobs(["prioritized", "wait"])) priorityOf.set(job.id!, job.opts.priority ?? 0);
    expect(priorityOf.size).toBe(9);

    // One image at a time, so the order images start in is the order the queue hands them out.
    worker = spawnWorkerProcess(h, {
      REDIS_CLUSTER_NODES: cluster.nodes.join(","),
      WORKER_CONCURRENCY: "1",
      WORKER_JOBS: "1",
      QWEN_MAX_RPS: String(QUOTA),
    });
    const done = [];
    for (let i = 0; i < shops.length; i++) done.push(await h.waitForBatch(shops[i]!, batchIds[i]!, 90_000));

    for (let i = 0; i < shops.length; i++) {
      const shop = shops[i]!;
      expect(done[i]!.counts.FAILED).toBe(0);
      expect(done[i]!.counts.PUBLISHED + done[i]!.counts.NEEDS_REVIEW).toBe(sizes[i]);
      expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(done[i]!.counts.PUBLISHED);
      // Replaced in place: the same media ids, no image added or lost.
      const after = mediaById(h.shopify, shop);
      expect([...after.keys()].sort()).toEqual([...before[i]!.keys()].sort());
      expect(await unexpectedReplacements(h, shop)).toEqual([]);
    }

    const started = (
      await h.db.batchItem.findMany({ where: { batchId: { in: batchIds } }, select: { id: true, shop: true, startedAt: true } })
    ).sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
    const shopsIn = (from: number, to: number) => new Set(started.slice(from, to).map((item) => item.shop));
    // Rounds: every shop with images left gets one per round.
    expect(shopsIn(0, 3)).toEqual(new Set(shops));
    expect(shopsIn(3, 5)).toEqual(new Set([shops[0], shops[1]]));
    expect(shopsIn(5, 7)).toEqual(new Set([shops[0], shops[1]]));
    expect(shopsIn(7, 9)).toEqual(new Set([shops[0]]));
    for (const shop of shops) {
      const own = started.filter((item) => item.shop === shop).map((item) => priorityOf.get(item.id)!);
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }

    const stats = h.dashscope.stats();
    expect(stats.throttled).toBe(0);
    expect(stats.maxRequestsInAnySecond).toBeLessThanOrEqual(QUOTA);
  }, 150_000);

  it("limits a shop's requests with both windows in one slot: the 11th within a second is refused", async () => {
    // As the web process connects (a producer's connection fails fast, so it is used once connected).
    web = createRedisConnection({ target: { clusterNodes: cluster.nodes }, lazyConnect: true });
    await web.connect();
    const shop = uniqueShopDomain("cluster");
    const at = () => 1_900_000_000_000;
    for (let i = 0; i < 10; i++) await expect(enforceRateLimit("batch-create", shop, { redis: web, now: at })).resolves.toBeUndefined();
    const refused = await enforceRateLimit("batch-create", shop, { redis: web, now: at }).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(429);
  });
});
