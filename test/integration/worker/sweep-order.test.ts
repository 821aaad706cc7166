// The sweep puts back the jobs Redis lost, reading from PostgreSQL which items are waiting and from Redis, one job at a
// time, which of them still have a job. Whatever Redis loses, and whenever, each shop's images are handed to the
// workers in the order the merchant submitted them once the sweep has put them back.
import { randomUUID } from "node:crypto";
import type { BatchItem } from "@prisma/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "~/db.server";
import { createRedisConnection } from "~/lib/redis.server";
import { BATCH_QUEUE_KEY } from "~/models/batches.server";
import { enqueueItems, openImageQueue, type ImageQueue } from "~/queue/queue.server";
import { sweepOnce } from "~/queue/sweep.server";
import { testDatabaseUrl } from "../../setup/urls";
import { createBatch, createItems, createShop, uniqueShopDomain } from "../../factories";
import { redisServer, type RedisServer } from "./redis-servers";

const db = createPrismaClient(testDatabaseUrl(), 2);
let redis: RedisServer;
let queue: ImageQueue;

beforeAll(async () => {
  redis = await redisServer();
});

afterEach(async () => {
  await queue?.close();
});

afterAll(async () => {
  await redis?.stop();
  await db.$disconnect();
});

function newQueue(): ImageQueue {
  queue = openImageQueue(`test-${randomUUID()}`, createRedisConnection({ forWorker: true, target: { url: redis.url } }));
  return queue;
}

/** A batch of `count` images submitted `agoSeconds` ago, in the order the sweep reads them. */
async function submitted(shop: string, count: number, agoSeconds: number): Promise<BatchItem[]> {
  const batch = await createBatch(db, shop, {
    settings: { [BATCH_QUEUE_KEY]: queue.name },
    total: count,
    createdAt: new Date(Date.now() - agoSeconds * 1000),
  });
  const items = await createItems(
    db,
    batch,
    Array.from({ length: count }, () => ({})),
  );
  for (const [i, item] of items.entries()) {
    await db.$executeRaw`UPDATE "BatchItem" SET "updatedAt" = now() - ${agoSeconds} * interval '1 second' + ${i} * interval '1 millisecond' WHERE id = ${item.id}`;
  }
  return items;
}

/** Six images of a new shop, submitted a minute ago and queued in that order. */
async function sixQueuedImages(): Promise<BatchItem[]> {
  newQueue();
  const items = await submitted(await newShop(), 6, 60);
  await enqueueItems(queue, items);
  return items;
}

/** A sweep during which Redis restarts empty as it calls the queue's `method` for the `call`th time, then a sweep as usual. */
async function sweepsAcrossRedisRestart(method: "getJob" | "getJobCountByTypes", call: number): Promise<void> {
  const patched = queue as unknown as Record<typeof method, (...args: unknown[]) => Promise<unknown>>;
  const original = patched[method].bind(queue);
  let calls = 0;
  patched[method] = async (...args) => {
    if (++calls === call) {
      await redis.stop();
      await redis.start();
    }
    return original(...args);
  };
  await sweepOnce({ db, queue }, { graceMs: 0 });
  patched[method] = original;
  await sweepOnce({ db, queue }, { graceMs: 0 });
}

/** Each image's place in the shop's submission, in the order workers take their jobs. */
async function handOutOrder(items: BatchItem[]): Promise<number[]> {
  const jobs = await queue.getJobs(["prioritized", "wait"], 0, -1, true);
  return jobs.map((job) => items.findIndex((item) => item.id === job.id));
}

async function newShop(): Promise<string> {
  const shop = uniqueShopDomain("order");
  await createShop(db, { domain: shop });
  return shop;
}

describe("sweep: each shop's images go back into the queue in the order they were submitted", () => {
  it("when Redis restarts empty while the sweep reads which jobs it holds", async () => {
    const items = await sixQueuedImages();
    expect(await handOutOrder(items)).toEqual([0, 1, 2, 3, 4, 5]);

    // The sweep has seen the first three jobs waiting when Redis loses everything.
    await sweepsAcrossRedisRestart("getJob", 4);

    expect(await handOutOrder(items)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("when Redis restarts empty after the sweep read it and before it puts a lost job back", async () => {
    const items = await sixQueuedImages();
    await (await queue.getJob(items[4]!.id))!.remove();

    await sweepsAcrossRedisRestart("getJobCountByTypes", 1);

    expect(await handOutOrder(items)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("when a batch's jobs were never added and the shop's later batch is waiting", async () => {
    newQueue();
    const shop = await newShop();
    // The web process could not reach Redis for the first batch; the second one was queued.
    const first = await submitted(shop, 3, 60);
    const second = await submitted(shop, 3, 30);
    await enqueueItems(queue, second);

    await sweepOnce({ db, queue }, { graceMs: 0 });

    expect(await handOutOrder([...first, ...second])).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
