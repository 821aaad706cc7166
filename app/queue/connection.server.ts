import { Redis } from "ioredis";
import { logger } from "~/lib/logger.server";

/**
 * One place that builds Redis connections. Workers block on Redis and must never give up a command
 * (`maxRetriesPerRequest: null`); producers in web requests fail fast instead of queueing commands
 * while Redis is down (`enableOfflineQueue: false`), so the merchant gets an answer.
 */
export function createRedisConnection(opts: { forWorker?: boolean; url?: string } = {}): Redis {
  const url = opts.url ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const connection = opts.forWorker
    ? new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2_000) })
    : new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => Math.min(times * 200, 2_000) });
  connection.on("error", (error: Error) => logger.warn({ err: error.message, forWorker: Boolean(opts.forWorker) }, "redis connection error"));
  return connection;
}
