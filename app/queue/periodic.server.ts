import { logger } from "~/lib/logger.server";
import type { RedisClient } from "~/lib/redis.server";

export interface PeriodicTask<T> {
  stop(): Promise<void>;
  /** Runs a pass now (or joins the one running); null when another process holds this interval's pass, or it failed. */
  runNow(): Promise<T | null>;
}

/**
 * A pass of `run` every `intervalMs` in each worker process, at most one per interval across the deployment: each pass
 * first takes `lockKey` in Redis for (almost) the interval. A failed pass is logged and tried again next interval.
 */
export function startPeriodicTask<T>(opts: {
  name: string;
  redis: RedisClient;
  lockKey: string;
  intervalMs: number;
  run: () => Promise<T>;
}): PeriodicTask<T> {
  let running: Promise<T | null> | null = null;
  let stopped = false;
  const runNow = (): Promise<T | null> => {
    running ??= (async () => {
      const lock = await opts.redis.set(opts.lockKey, "1", "PX", Math.max(opts.intervalMs - 50, 100), "NX");
      if (lock !== "OK") return null;
      return opts.run();
    })()
      .catch((error: Error) => {
        logger.warn({ err: error.message, task: opts.name }, `${opts.name} failed; will try again`);
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void runNow();
  }, opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    runNow,
  };
}
