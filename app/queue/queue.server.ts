import { Queue, type Job, type JobsOptions } from "bullmq";
import { closeWebRedisConnection, webRedisConnection, type RedisClient } from "~/lib/redis.server";
import { queueConfigFromEnv } from "./config.server";
import { fairPriorities } from "./fair-share.server";
import type { ImageWork, QueuedItem } from "~/models/work-queues.server";
import { jobIdForItem, type ImageJobData } from "./jobs";

/**
 * Every key of the image queue under one hash tag, so BullMQ's multi-key scripts also run on a Redis Cluster
 * (a queue's keys must live in one slot). Producers and workers must agree on it.
 */
export const QUEUE_PREFIX = "{imgapp}";

/** The image queue, as the models use it (ImageWork): routes and the worker pass it to them. */
export class ImageQueue extends Queue<ImageJobData> implements ImageWork {
  enqueueItems(items: QueuedItem[]): Promise<void> {
    return enqueueItems(this, items);
  }

  enqueueRestores(items: QueuedItem[]): Promise<void> {
    return enqueueRestores(this, items);
  }

  async removeWaitingJob(itemId: string): Promise<void> {
    const job = await this.getJob(jobIdForItem(itemId)).catch(() => undefined);
    if (!job) return;
    const state = await job.getState().catch(() => "unknown");
    if (state === "waiting" || state === "delayed" || state === "prioritized" || state === "failed")
      await job.remove().catch(() => undefined);
  }
}

export function openImageQueue(name: string, connection: RedisClient): ImageQueue {
  return new ImageQueue(name, { connection, prefix: QUEUE_PREFIX });
}

const queues = new Map<string, ImageQueue>();

/**
 * The producer side of the image queue (cached per name), on the web process's one connection. Fails fast when Redis
 * is down.
 */
export function getQueue(name?: string): ImageQueue {
  const queueName = name ?? queueConfigFromEnv().queueName;
  const connection = webRedisConnection();
  let queue = queues.get(queueName);
  if (!queue || queue.opts.connection !== connection) {
    queue = openImageQueue(queueName, connection);
    queues.set(queueName, queue);
  }
  return queue;
}

/** Closes the image queues' producers and the web process's connection. */
export async function closeQueues(): Promise<void> {
  const all = [...queues.values()];
  queues.clear();
  await Promise.all(all.map((q) => q.close().catch(() => undefined)));
  await closeWebRedisConnection();
}

/** Retries with exponential backoff and jitter; completed jobs leave Redis (the database is the record). */
function imageJobOptions(): JobsOptions {
  const config = queueConfigFromEnv();
  return {
    attempts: config.jobAttempts,
    backoff: { type: "exponential", delay: config.backoffDelayMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

/** One restore job per item (`restore-<item id>`), so asking twice while one waits is a no-op. */
export async function enqueueRestores(queue: Queue<ImageJobData>, items: QueuedItem[]): Promise<void> {
  const opts = imageJobOptions();
  for (let i = 0; i < items.length; i += 500) {
    await queue.addBulk(
      items.slice(i, i + 500).map((item) => ({
        name: "restore-image",
        data: { itemId: item.id, shop: item.shop, restore: true as const },
        opts: { ...opts, jobId: `restore-${item.id}` },
      })),
    );
  }
}

/**
 * One job per item, `jobId` = item id, so adding an item twice is a no-op while its job exists. Each shop's items
 * get the next priorities of its fair share (fair-share.server.ts), in the order given.
 */
export async function enqueueItems(queue: Queue<ImageJobData>, items: QueuedItem[]): Promise<void> {
  for (const [shop, shopItems] of byShop(items)) {
    const priorities = await fairPriorities(queue, shop, shopItems.length);
    await addEditJobs(
      queue,
      shopItems.map((item, i) => ({ item, priority: priorities[i]! })),
    );
  }
}

/**
 * The sweep's way back into the queue for items whose jobs it found missing, given in the order they were submitted
 * together with the same shops' items whose jobs it found waiting (`waitingJob`). The sweep reads Redis one job at a
 * time: when Redis loses its data while it reads, the jobs it saw first are gone too, and adding only the missing
 * ones would put a shop's later images ahead of its earlier ones. So each shop's items take fresh priorities in
 * order, from the lowest its waiting jobs held: a waiting job is moved to its new one (added again if it is gone),
 * and no item is written before the ones ahead of it, so no worker can take it first.
 */
export async function enqueueItemsAgain(
  queue: Queue<ImageJobData>,
  items: Array<QueuedItem & { waitingJob?: Job<ImageJobData> }>,
): Promise<void> {
  for (const [shop, shopItems] of byShop(items)) {
    const held = shopItems.flatMap((item) => (item.waitingJob?.priority ? [item.waitingJob.priority] : []));
    const priorities = await fairPriorities(queue, shop, shopItems.length, held.length ? Math.min(...held) : undefined);
    let toAdd: Array<{ item: QueuedItem; priority: number }> = [];
    for (const [i, item] of shopItems.entries()) {
      const priority = priorities[i]!;
      if (item.waitingJob) {
        await addEditJobs(queue, toAdd);
        toAdd = [];
        const moved = await item.waitingJob.changePriority({ priority }).then(
          () => true,
          () => false,
        );
        if (moved) continue;
      }
      toAdd.push({ item, priority });
    }
    await addEditJobs(queue, toAdd);
  }
}

function byShop<T extends QueuedItem>(items: T[]): Map<string, T[]> {
  const shops = new Map<string, T[]>();
  for (const item of items) {
    const list = shops.get(item.shop);
    if (list) list.push(item);
    else shops.set(item.shop, [item]);
  }
  return shops;
}

async function addEditJobs(queue: Queue<ImageJobData>, jobs: Array<{ item: QueuedItem; priority: number }>): Promise<void> {
  if (jobs.length === 0) return;
  const opts = imageJobOptions();
  for (let i = 0; i < jobs.length; i += 500) {
    await queue.addBulk(
      jobs.slice(i, i + 500).map(({ item, priority }) => ({
        name: "edit-image",
        data: { itemId: item.id, shop: item.shop },
        opts: { ...opts, jobId: jobIdForItem(item.id), priority },
      })),
    );
  }
}
