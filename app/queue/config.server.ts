import { availableParallelism } from "node:os";
import { intFromEnv, maxImagesPerBatchFromEnv } from "~/lib/env";
import { redisTargetFromEnv, type RedisTarget } from "./connection.server";

/** Worker and queue configuration from the environment (each name, meaning and default is in docs). */

export const DEFAULT_QUEUE_NAME = "image-edits";

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

export function queueConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QueueConfig {
  const concurrency = intFromEnv(env, "WORKER_CONCURRENCY", 5, 1);
  return {
    redis: redisTargetFromEnv(env),
    queueName: env.QUEUE_NAME || DEFAULT_QUEUE_NAME,
    concurrency,
    // Fewer jobs than model slots would leave model capacity idle while jobs publish to Shopify.
    jobsPerWorker: Math.max(concurrency, intFromEnv(env, "WORKER_JOBS", concurrency * 2, 1)),
    qwenMaxRps: intFromEnv(env, "QWEN_MAX_RPS", 2, 0),
    maxImagesPerBatch: maxImagesPerBatchFromEnv(env),
    allowedImageHosts: ["cdn.shopify.com", ...(env.ALLOWED_IMAGE_HOSTS ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean)],
    maxSourceBytes: intFromEnv(env, "MAX_SOURCE_BYTES", 30 * 1024 * 1024, 1),
    maxSourcePixels: intFromEnv(env, "MAX_SOURCE_PIXELS", 50_000_000, 1),
    sweepIntervalMs: intFromEnv(env, "SWEEP_INTERVAL_MS", 30_000, 100),
    refundCheckIntervalMs: intFromEnv(env, "SHOPIFY_REFUND_CHECK_INTERVAL_MS", 10 * 60_000, 1_000),
    jobAttempts: intFromEnv(env, "JOB_ATTEMPTS", 8, 1),
    backoffDelayMs: intFromEnv(env, "JOB_BACKOFF_MS", 2_000, 1),
    lockDurationMs: intFromEnv(env, "WORKER_LOCK_MS", 30_000, 1_000),
    stalledIntervalMs: intFromEnv(env, "WORKER_STALLED_INTERVAL_MS", 30_000, 500),
    shutdownDeadlineMs: intFromEnv(env, "WORKER_SHUTDOWN_MS", 25_000, 0),
    fileReadyTimeoutMs: intFromEnv(env, "FILE_READY_TIMEOUT_MS", 120_000, 100),
    // libvips already spreads one image over every core; a slot per two cores keeps RSS low (20 MP sources).
    imageSlots: intFromEnv(env, "IMAGE_SLOTS", Math.max(1, Math.floor(availableParallelism() / 2)), 1),
  };
}
