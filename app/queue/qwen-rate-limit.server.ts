import type { Redis } from "ioredis";
import { randomUUID } from "node:crypto";

/**
 * A requests-per-second limit on Qwen calls shared by every worker process: a sliding one-second
 * window kept in a Redis sorted set, timed by Redis's own clock so machines need not agree on time.
 * A small margin keeps request arrival at DashScope inside the quota despite network jitter.
 */
const ACQUIRE_SCRIPT = `
local key = KEYS[1]
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < max then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window * 2)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`;

export interface RateLimiter {
  /** Resolves when one more call fits in the window. */
  acquire(): Promise<void>;
}

export const WINDOW_MARGIN_MS = 30;

export function createQwenRateLimiter(redis: Redis, opts: { maxPerSecond: number; key?: string }): RateLimiter {
  const key = opts.key ?? "imgapp:qwen-rps";
  if (opts.maxPerSecond <= 0) return { acquire: async () => undefined };
  return {
    async acquire() {
      for (;;) {
        const waitMs = Number(await redis.eval(ACQUIRE_SCRIPT, 1, key, opts.maxPerSecond, 1000 + WINDOW_MARGIN_MS, randomUUID()));
        if (waitMs <= 0) return;
        await new Promise((resolve) => setTimeout(resolve, waitMs + Math.floor(Math.random() * 5)));
      }
    },
  };
}
