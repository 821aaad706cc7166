import type { RedisClient } from "~/lib/redis.server";
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

/**
 * Moves a granted call's place in the window to now (Redis time), if later: the call went out then. A worker's
 * event loop can be busy with image work between the grant and the request actually leaving; without this,
 * the next grants would be timed from the earlier moment and DashScope could see more calls in a second than
 * the quota.
 */
const SENT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', 'GT', now, ARGV[1])
`;

export interface RateLimitGrant {
  /** Call right after the request has been handed to the network. */
  sent(): void;
}

export interface RateLimiter {
  /** Resolves when one more call fits in the window. */
  acquire(): Promise<RateLimitGrant>;
}

const UNLIMITED: RateLimitGrant = { sent: () => undefined };

export const WINDOW_MARGIN_MS = 30;

export function createQwenRateLimiter(redis: RedisClient, opts: { maxPerSecond: number; key?: string }): RateLimiter {
  const key = opts.key ?? "imgapp:qwen-rps";
  if (opts.maxPerSecond <= 0) return { acquire: async () => UNLIMITED };
  return {
    async acquire() {
      const member = randomUUID();
      for (;;) {
        const waitMs = Number(await redis.eval(ACQUIRE_SCRIPT, 1, key, opts.maxPerSecond, 1000 + WINDOW_MARGIN_MS, member));
        if (waitMs <= 0) return { sent: () => void redis.eval(SENT_SCRIPT, 1, key, member).catch(() => undefined) };
        await new Promise((resolve) => setTimeout(resolve, waitMs + Math.floor(Math.random() * 5)));
      }
    },
  };
}
