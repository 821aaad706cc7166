import { availableParallelism } from "node:os";
import { getConfig, type Config } from "~/lib/config.server";
import { redisTargetFromEnv, type RedisTarget } from "~/lib/redis.server";

export interface QueueConfig {
  redis: RedisTarget;
  queueName: string;
  /** Model requests (Qwen edits) one worker keeps in flight at once. */
  concurrency: number;
  /** Images one worker works on at once: downloads, post-processing and publishing overlap the model's time. */
  jobsPerWorker: number;
  qwenMaxRps: number;
  maxImagesPerBatch: number;
  allowedImageHosts: string[];
  maxSourceBytes: number;
  maxSourcePixels: number;
  sweepIntervalMs: number;
  /** How often a worker reads the Partner API for refunded app charges (when it is configured). */
  refundCheckIntervalMs: number;
  jobAttempts: number;
  backoffDelayMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  shutdownDeadlineMs: number;
  fileReadyTimeoutMs: number;
  imageSlots: number;
}

/** The worker's and queue's settings, shaped from the configuration (each variable is declared in lib/config.server.ts). */
export function queueConfigFromEnv(config: Config = getConfig()): QueueConfig {
  const concurrency = config.WORKER_CONCURRENCY;
  return {
    redis: redisTargetFromEnv(config),
    queueName: config.QUEUE_NAME,
    concurrency,
    // Fewer jobs than model slots would leave model capacity idle while jobs publish to Shopify.
    jobsPerWorker: Math.max(concurrency, config.WORKER_JOBS ?? concurrency * 2),
    qwenMaxRps: config.QWEN_MAX_RPS,
    maxImagesPerBatch: config.MAX_IMAGES_PER_BATCH,
    allowedImageHosts: ["cdn.shopify.com", ...config.ALLOWED_IMAGE_HOSTS],
    maxSourceBytes: config.MAX_SOURCE_BYTES,
    maxSourcePixels: config.MAX_SOURCE_PIXELS,
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    refundCheckIntervalMs: config.SHOPIFY_REFUND_CHECK_INTERVAL_MS,
    jobAttempts: config.JOB_ATTEMPTS,
    backoffDelayMs: config.JOB_BACKOFF_MS,
    lockDurationMs: config.WORKER_LOCK_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    shutdownDeadlineMs: config.WORKER_SHUTDOWN_MS,
    fileReadyTimeoutMs: config.FILE_READY_TIMEOUT_MS,
    // libvips already spreads one image over every core; a slot per two cores keeps RSS low (20 MP sources).
    imageSlots: config.IMAGE_SLOTS ?? Math.max(1, Math.floor(availableParallelism() / 2)),
  };
}
