/**
 * The automation queue: work nobody waits for in a web request. A new product's images (the automatic rule, one job
 * per products/create or products/update event, keyed on the event id) and whole-catalogue runs (one job per run that
 * reads the catalogue with a bulk operation, then adds its images chunk by chunk). Both end up as items on the image
 * queue, under the shop's fair share, like a manual batch's.
 *
 * A queue of its own, beside the image queue, so its jobs never wait behind a backlog of image edits and an image
 * job stays "one item".
 */
import { createHash } from "node:crypto";
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from "bullmq";
import type { PrismaClient } from "@prisma/client";
import { logger } from "~/lib/logger.server";
import { ShopifyThrottledError, type AdminGraphql } from "~/lib/admin-graphql.server";
import { RunAgainLater, type AutomationWork, type ImageWork, type NewProductMedia } from "~/models/work-queues.server";
import { closeWebRedisConnection, createRedisConnection, webRedisConnection, type RedisClient } from "~/lib/redis.server";
import { QUEUE_PREFIX } from "./queue.server";

export type AutomationJobData =
  /** `eventId`: the NewProductEvent to mark done (jobs enqueued before it existed have none). */
  | { kind: "new-product-media"; shop: string; productId: string; mediaIds: string[]; eventId?: string }
  | { kind: "catalog-run"; shop: string; runId: string };

export interface AutomationDeps {
  db: PrismaClient;
  adminFor(shop: string): Promise<AdminGraphql>;
  imageQueue: ImageWork;
}

function automationQueueName(imageQueueName: string): string {
  return `${imageQueueName}-automation`;
}

/** The automation queue, as the models use it (AutomationWork): routes and the worker pass it to them. */
class AutomationQueue extends Queue<AutomationJobData> implements AutomationWork {
  enqueueNewProductMedia(eventId: string, media: NewProductMedia): Promise<void> {
    return enqueueNewProductMedia(this, eventId, media);
  }

  enqueueCatalogRun(shop: string, runId: string): Promise<void> {
    return enqueueCatalogRun(this, shop, runId);
  }

  /**
   * Wakes the run's job: a delayed job is promoted to run now. The wake mark closes the race with a job that is
   * running right now and about to delay itself: the job looks for the mark after it moved to delayed (see
   * startAutomationWorker), so either this promotes it or it promotes itself.
   */
  async advanceCatalogRunNow(runId: string): Promise<boolean> {
    const jobId = catalogRunJobId(runId);
    const redis = await redisOf(this);
    await redis.set(wakeKey(this.name, jobId), "1", "PX", WAKE_MARK_MS);
    const job = await this.getJob(jobId);
    if (!job || (await job.getState()) !== "delayed") return false;
    await job.promote().catch(() => undefined);
    return true;
  }
}

export function openAutomationQueue(imageQueueName: string, connection: RedisClient): AutomationQueue {
  return new AutomationQueue(automationQueueName(imageQueueName), { connection, prefix: QUEUE_PREFIX });
}

/** How long a wake mark waits for its job to look (longer than any delay a running job could be in the middle of). */
const WAKE_MARK_MS = 10 * 60_000;

/** The ioredis connection a queue or worker was given (BullMQ types its backend's client more narrowly). */
async function redisOf(queue: Queue | Worker): Promise<RedisClient> {
  return (await queue.backend.client) as unknown as RedisClient;
}

function wakeKey(queueName: string, jobId: string): string {
  return `${QUEUE_PREFIX}:${queueName}:wake:${jobId}`;
}

const queues = new Map<string, AutomationQueue>();

/** The producer side (cached per image queue name), on the web process's one connection. Fails fast when Redis is down. */
export function getAutomationQueue(imageQueueName: string): AutomationQueue {
  const connection = webRedisConnection();
  let queue = queues.get(imageQueueName);
  if (!queue || queue.opts.connection !== connection) {
    queue = openAutomationQueue(imageQueueName, connection);
    queues.set(imageQueueName, queue);
  }
  return queue;
}

/** Closes the automation queues' producers and the web process's connection. */
export async function closeAutomationQueues(): Promise<void> {
  const all = [...queues.values()];
  queues.clear();
  await Promise.all(all.map((q) => q.close().catch(() => undefined)));
  await closeWebRedisConnection();
}

const JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * One job per webhook event: Shopify's event id (the same for every delivery and retry of one event) names the job,
 * so a replayed or duplicated delivery adds nothing while the job is kept (a day after it completed).
 */
export function newProductMediaJobId(eventId: string): string {
  return `product-event-${createHash("sha256").update(eventId).digest("hex").slice(0, 32)}`;
}

async function enqueueNewProductMedia(queue: Queue<AutomationJobData>, eventId: string, data: NewProductMedia): Promise<void> {
  await addUnlessPending(
    queue,
    "new-product-media",
    { kind: "new-product-media", ...data, eventId },
    { ...JOB_OPTIONS, jobId: newProductMediaJobId(eventId) },
  );
}

/** Adds the job; one that still waits or runs is left alone (a no-op), one that finished is replaced. */
async function addUnlessPending(
  queue: Queue<AutomationJobData>,
  name: string,
  data: AutomationJobData,
  opts: JobsOptions & { jobId: string },
): Promise<void> {
  const existing = await queue.getJob(opts.jobId);
  if (existing) {
    const state = await existing.getState();
    if (state !== "completed" && state !== "failed") return;
    await existing.remove().catch(() => undefined);
  }
  await queue.add(name, data, opts);
}

function catalogRunJobId(runId: string): string {
  return `catalog-run-${runId}`;
}

/** The run's one job (re-adding it while it exists is a no-op, so the sweep and a resume may both call this). */
async function enqueueCatalogRun(queue: Queue<AutomationJobData>, shop: string, runId: string): Promise<void> {
  await addUnlessPending(
    queue,
    "catalog-run",
    { kind: "catalog-run", shop, runId },
    { ...JOB_OPTIONS, attempts: 20, jobId: catalogRunJobId(runId) },
  );
}

export type AutomationProcessor = (job: Job<AutomationJobData>, deps: AutomationDeps) => Promise<void>;

/**
 * The automation worker. A job that is not finished (a catalogue run waiting for its bulk operation or for its
 * current chunk) throws RunAgainLater and is delayed, not retried, so it never burns an attempt; Shopify THROTTLED
 * delays it the same way.
 */
export function startAutomationWorker(opts: {
  imageQueueName: string;
  deps: AutomationDeps;
  process: AutomationProcessor;
  connection?: RedisClient;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}): Worker<AutomationJobData> {
  const worker = new Worker<AutomationJobData>(
    automationQueueName(opts.imageQueueName),
    async (job, token) => {
      // A wake mark set before this run of the job is spent: the job reads the run's state afresh.
      if (job.id) await (await redisOf(worker)).del(wakeKey(worker.name, job.id));
      try {
        await opts.process(job, opts.deps);
      } catch (error) {
        const delayMs = error instanceof RunAgainLater ? error.delayMs : error instanceof ShopifyThrottledError ? error.refillMs : null;
        if (delayMs === null) {
          if (error instanceof UnrecoverableError) logger.warn({ jobId: job.id, err: error.message }, "automation job gave up");
          throw error;
        }
        // A wake mark set while the job ran means something finished that it may have read too early: run it again
        // now rather than after the delay.
        await job.moveToDelayed(Date.now() + delayMs, token);
        if (job.id && (await (await redisOf(worker)).del(wakeKey(worker.name, job.id))) > 0) await job.promote().catch(() => undefined);
        throw new DelayedError();
      }
    },
    {
      connection: opts.connection ?? createRedisConnection({ forWorker: true }),
      prefix: QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 2,
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      maxStalledCount: 10,
    },
  );
  worker.on("error", (error) => logger.error({ err: error.message }, "automation worker error"));
  return worker;
}
