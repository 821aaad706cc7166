import { DelayedError, Worker, type Job } from "bullmq";
import { logger } from "~/lib/logger.server";
import { shopifyThrottleWaitSeconds, shopifyThrottleWaits } from "~/lib/metrics.server";
import { ShopifyThrottledError } from "~/lib/admin-graphql.server";
import { QwenRateLimitedError } from "~/qwen/errors";
import { createRedisConnection, type RedisClient } from "~/lib/redis.server";
import { advanceFairClock } from "./fair-share.server";
import { QUEUE_PREFIX } from "./queue.server";
import type { ImageJobData, ImageJobOutcome } from "./jobs";
import { processImageJob, type WorkerDeps } from "./processor.server";
import { processRestoreJob } from "./restore.server";

export interface StartWorkerOptions {
  queueName: string;
  concurrency: number;
  deps: WorkerDeps;
  connection?: RedisClient;
  /** How long a job's lock lives without renewal; a killed worker's jobs are re-run after this. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Redis for the per-shop THROTTLED gate (defaults to a new worker connection). */
  gateRedis?: RedisClient;
}

/**
 * The BullMQ worker. Rate limits never burn an attempt: a Qwen 429 pauses the whole queue for the
 * delay DashScope gave (`worker.rateLimit`), Shopify THROTTLED delays only that shop's jobs until its
 * bucket is half full again (`moveToDelayed`).
 */
export function startWorker(opts: StartWorkerOptions): Worker<ImageJobData, ImageJobOutcome> {
  const gate = opts.gateRedis ?? createRedisConnection({ forWorker: true });
  const gateKey = (shop: string) => `imgapp:${opts.queueName}:throttled:${shop}`;
  const worker: Worker<ImageJobData, ImageJobOutcome> = new Worker<ImageJobData, ImageJobOutcome>(
    opts.queueName,
    async (job: Job<ImageJobData>, token?: string) => {
      // While a shop's bucket is known to be empty, its jobs wait without spending API points.
      const waitMs = await gate.pttl(gateKey(job.data.shop)).catch(() => -1);
      if (waitMs > 0) {
        await job.moveToDelayed(Date.now() + waitMs + Math.floor(Math.random() * 200), token);
        throw new DelayedError();
      }
      await advanceFairClock(gate, opts.queueName, job.opts.priority).catch((error: Error) =>
        logger.warn({ jobId: job.id, err: error.message }, "could not advance the fair-share clock"),
      );
      try {
        return await (job.data.restore ? processRestoreJob(job, opts.deps) : processImageJob(job, opts.deps, token));
      } catch (error) {
        if (error instanceof QwenRateLimitedError) {
          logger.info({ jobId: job.id, retryAfterMs: error.retryAfterMs }, "Qwen rate limited; pausing the queue");
          await worker.rateLimit(Math.max(error.retryAfterMs, 100));
          throw Worker.RateLimitError();
        }
        if (error instanceof ShopifyThrottledError) {
          // The shop's jobs wait for a half-full bucket, not for this one request's points (see refillMs).
          const waitMs = error.refillMs;
          logger.info({ jobId: job.id, shop: job.data.shop, waitMs }, "Shopify throttled; delaying this shop's jobs");
          shopifyThrottleWaits.inc();
          shopifyThrottleWaitSeconds.observe(waitMs / 1000);
          await gate.set(gateKey(job.data.shop), "1", "PX", Math.max(waitMs, 50)).catch(() => undefined);
          await job.moveToDelayed(Date.now() + waitMs + Math.floor(Math.random() * 200), token);
          throw new DelayedError();
        }
        throw error;
      }
    },
    {
      connection: opts.connection ?? createRedisConnection({ forWorker: true }),
      prefix: QUEUE_PREFIX,
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      // Every step is idempotent, so a job whose worker died may safely run again a few times.
      maxStalledCount: 10,
      autorun: true,
    },
  );
  worker.on("error", (error) => logger.error({ err: error.message }, "worker error"));
  worker.on("closed", () => {
    if (!opts.gateRedis) gate.disconnect();
  });
  worker.on("failed", (job, error) => {
    if (job && error.name !== "DelayedError" && error.name !== "RateLimitError") {
      logger.debug({ jobId: job.id, attemptsMade: job.attemptsMade, err: error.message }, "job attempt failed");
    }
  });
  return worker;
}

/**
 * Stops taking jobs and waits for active ones up to `deadlineMs`; past the deadline the worker is
 * closed without waiting and its active jobs are left for stalled-job recovery in another worker.
 */
export async function closeWorkerGracefully(worker: Worker, deadlineMs: number): Promise<"drained" | "handed-back"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"handed-back">((resolve) => {
    timer = setTimeout(() => resolve("handed-back"), deadlineMs);
  });
  const result = await Promise.race([worker.close().then(() => "drained" as const), deadline]);
  clearTimeout(timer);
  if (result === "handed-back") await worker.close(true).catch(() => undefined);
  return result;
}
