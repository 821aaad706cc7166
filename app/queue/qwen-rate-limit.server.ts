import { randomUUID } from "node:crypto";
import type { RedisClient } from "~/lib/redis.server";
import { restampSlot, takeSlot } from "~/lib/sliding-window.server";

export interface RateLimitGrant {
  /** Call right after the request has been handed to the network. */
  sent(): void;
}

export interface RateLimiter {
  /** Resolves when one more call fits in the window. */
  acquire(): Promise<RateLimitGrant>;
}

const UNLIMITED: RateLimitGrant = { sent: () => undefined };

const WINDOW_MARGIN_MS = 30;

/**
 * A requests-per-second limit on Qwen calls shared by every worker process: a sliding one-second window
 * (`lib/sliding-window.server.ts`) timed by Redis's own clock so machines need not agree on time. A small margin keeps
 * request arrival at DashScope inside the quota despite network jitter.
 *
 * A worker's event loop can be busy with image work between the grant and the request actually leaving, so `sent()`
 * re-stamps the call at that moment; without it the next grants would be timed from the earlier one and DashScope
 * could see more calls in a second than the quota.
 */
export function createQwenRateLimiter(redis: RedisClient, opts: { maxPerSecond: number; key?: string }): RateLimiter {
  const keys = [opts.key ?? "imgapp:qwen-rps"];
  const windows = [{ max: opts.maxPerSecond, windowMs: 1000 + WINDOW_MARGIN_MS }];
  if (opts.maxPerSecond <= 0) return { acquire: async () => UNLIMITED };
  return {
    async acquire() {
      const member = randomUUID();
      for (;;) {
        const slot = await takeSlot(redis, keys, windows, member);
        if (slot.granted) return { sent: () => void restampSlot(redis, keys, windows, member).catch(() => undefined) };
        await new Promise((resolve) => setTimeout(resolve, slot.retryAfterMs + Math.floor(Math.random() * 5)));
      }
    },
  };
}
