/**
 * The worker process (`npm run worker`): processes image jobs, sweeps for items missing from Redis,
 * and shuts down gracefully on SIGTERM/SIGINT (finishes active jobs or hands them back by a deadline).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PrismaClient } from "@prisma/client";
import { createPrismaClient } from "~/db.server";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { jobDuration, startMetricsServer, trackQueueDepth, untrackQueueDepth } from "~/lib/metrics.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { partnerApiConfigFromEnv } from "~/models/shopify-refunds.server";
import { startShopifyRefundReconciler } from "~/queue/refund-reconciler.server";
import { altTextClientFromEnv } from "~/qwen/alt-text";
import { qwenClientFromEnv } from "~/qwen/client";
import { queueConfigFromEnv } from "~/queue/config.server";
import { createRedisConnection } from "~/lib/redis.server";
import { openImageQueue } from "~/queue/queue.server";
import { openAutomationQueue, startAutomationWorker } from "~/queue/automation.server";
import { resumeNewProductEvents } from "~/models/auto-rule.server";
import { resumeCatalogRuns } from "~/models/catalog-runs.server";
import { processAutomationJob } from "~/queue/automation-processor.server";
import { createQwenRateLimiter } from "~/queue/qwen-rate-limit.server";
import { startPeriodicTask } from "~/queue/periodic.server";
import { startSweeper } from "~/queue/sweep.server";
import { closeWorkerGracefully, startWorker } from "~/queue/worker.server";
import { Semaphore } from "~/queue/worker-editor.server";
import sharp from "sharp";

/** Production path to a shop's Admin API: its offline session, renewed when it is about to expire. */
async function offlineAdmin(shop: string): Promise<AdminGraphql> {
  const { offlineSessions } = await import("~/shopify.server");
  return offlineSessions.adminGraphql(shop);
}

export async function runWorker(
  opts: { db?: PrismaClient; adminFor?: (shop: string) => Promise<AdminGraphql> } = {},
): Promise<{ stop(): Promise<void> }> {
  const config = queueConfigFromEnv();
  // Every job works on different images: libvips' operation cache would only hold memory.
  sharp.cache(false);
  const db = opts.db ?? createPrismaClient(undefined, config.jobsPerWorker + 4);
  const redis = createRedisConnection({ forWorker: true, target: config.redis });
  const queue = openImageQueue(config.queueName, createRedisConnection({ forWorker: true, target: config.redis }));
  const worker = startWorker({
    queueName: config.queueName,
    concurrency: config.jobsPerWorker,
    connection: createRedisConnection({ forWorker: true, target: config.redis }),
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    deps: {
      db,
      adminFor: opts.adminFor ?? offlineAdmin,
      editor: qwenClientFromEnv(),
      altText: altTextClientFromEnv(),
      config,
      qwenLimiter: createQwenRateLimiter(redis, { maxPerSecond: config.qwenMaxRps }),
      imageSlots: new Semaphore(config.imageSlots),
      modelSlots: new Semaphore(config.concurrency),
      onOutcome: (outcome, info) => jobDuration.observe({ pipeline: info.pipeline ?? "unknown", outcome }, info.durationMs / 1000),
    },
  });
  // New products' images and whole-catalogue runs: they add items to the image queue above.
  const automation = startAutomationWorker({
    imageQueueName: config.queueName,
    deps: { db, adminFor: opts.adminFor ?? offlineAdmin, imageQueue: queue },
    process: processAutomationJob,
    connection: createRedisConnection({ forWorker: true, target: config.redis }),
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
  });
  // Whole-catalogue runs and new-product events whose job Redis lost (a restart without persistence), and events a
  // pause held back once the rule resumes, are picked up again at start and every sweep interval, by one worker
  // process at a time.
  const automationQueue = openAutomationQueue(config.queueName, createRedisConnection({ forWorker: true, target: config.redis }));
  const runResumer = startPeriodicTask({
    name: "catalogue run resume",
    redis,
    lockKey: `${automationQueue.qualifiedName}:resume-lock`,
    intervalMs: config.sweepIntervalMs,
    run: async () => ({
      runs: await resumeCatalogRuns(db, automationQueue),
      productEvents: await resumeNewProductEvents(db, automationQueue),
    }),
  });
  void runResumer.runNow();
  trackQueueDepth(queue);
  // The same Prometheus metrics as the web app's /metrics, on a port of the worker's own (opt-in).
  const metricsPort = getConfig().WORKER_METRICS_PORT ?? null;
  const metricsServer = metricsPort !== null ? await startMetricsServer(metricsPort) : null;
  const sweeper = startSweeper({ db, queue }, { intervalMs: config.sweepIntervalMs, redis });
  const partnerApi = partnerApiConfigFromEnv();
  const refunds = partnerApi
    ? startShopifyRefundReconciler({ db, redis, config: partnerApi }, { intervalMs: config.refundCheckIntervalMs })
    : null;
  logger.info(
    { queue: config.queueName, concurrency: config.concurrency, jobs: config.jobsPerWorker, qwenMaxRps: config.qwenMaxRps },
    "worker started",
  );

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      const [how] = await Promise.all([
        closeWorkerGracefully(worker, config.shutdownDeadlineMs),
        closeWorkerGracefully(automation, config.shutdownDeadlineMs),
      ]);
      await sweeper.stop();
      await refunds?.stop();
      await runResumer.stop();
      await automationQueue.close().catch(() => undefined);
      untrackQueueDepth(queue);
      await metricsServer?.close();
      await queue.close().catch(() => undefined);
      redis.disconnect();
      if (!opts.db) await db.$disconnect();
      logger.info({ how }, "worker stopped");
    })());
  return { stop };
}

async function main(): Promise<void> {
  const { stop } = await runWorker();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down");
      stop()
        .then(() => process.exit(0))
        .catch((error: Error) => {
          logger.error({ err: error.message }, "shutdown failed");
          process.exit(1);
        });
    });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    logger.error({ err: error.message }, "worker failed to start");
    process.exit(1);
  });
}
