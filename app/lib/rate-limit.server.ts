import { logger } from "~/lib/logger.server";
import { rateLimited } from "~/lib/metrics.server";
import { webRedisConnection, whenReady, type RedisClient } from "~/lib/redis.server";
import { takeSlot, type SlidingWindow } from "~/lib/sliding-window.server";
import { errorPayload } from "./merchant-message";

/**
 * Per-shop rate limits kept in Redis (shared by every web process), as sliding-window logs
 * (`lib/sliding-window.server.ts`): "the 11th request within any 1000 ms" is exact, and every window
 * (10 per second, 60 per minute) must allow a request before it is recorded in any.
 *
 * Routes call `await enforceRateLimit(action, session.shop)` right after authenticating (it throws a 429 Response
 * the route lets propagate), or `checkRateLimit` where the answer goes to a form (useFetcher) or the extension.
 * Limited: creating batches and purchases, confirming a purchase on return, restoring a batch, ZIP downloads.
 */
export type RateLimitWindow = SlidingWindow;

export type RateLimitResult = { allowed: true } | { allowed: false; retryAfterMs: number; window: RateLimitWindow };

export type RateLimitedAction =
  "batch-create" | "purchase-create" | "purchase-confirm" | "batch-restore" | "batch-review" | "zip-download" | "image-retry";

const DEFAULT_LIMITS: readonly RateLimitWindow[] = [
  { max: 10, windowMs: 1_000 },
  { max: 60, windowMs: 60_000 },
];

const ACTION_NOUNS: Record<RateLimitedAction, string> = {
  "batch-create": "batches",
  "purchase-create": "purchases",
  "purchase-confirm": "purchase confirmations",
  "batch-restore": "restore requests",
  "batch-review": "bulk approvals and rejections",
  "zip-download": "downloads",
  "image-retry": "new tries",
};

export interface RateLimiter {
  consume(key: string): Promise<RateLimitResult>;
}

let sequence = 0;

export function createRateLimiter(options: {
  redis: RedisClient;
  prefix: string;
  limits?: readonly RateLimitWindow[];
  now?: () => number;
}): RateLimiter {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const now = options.now ?? Date.now;
  return {
    async consume(key) {
      const at = now();
      // The hash tag puts a shop's windows in one slot, so the one script may touch them all on a Redis Cluster.
      const keys = limits.map((limit) => `${options.prefix}:{${key}}:${limit.windowMs}`);
      const member = `${at}-${process.pid}-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;
      const slot = await takeSlot(options.redis, keys, limits, member, at);
      if (slot.granted) return { allowed: true };
      return { allowed: false, retryAfterMs: slot.retryAfterMs, window: limits[slot.window]! };
    },
  };
}

/** A sentence the merchant can act on. */
export function rateLimitMessage(action: RateLimitedAction, result: Extract<RateLimitResult, { allowed: false }>): string {
  const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  const per = result.window.windowMs >= 60_000 ? `${result.window.windowMs / 60_000} minute` : `${result.window.windowMs / 1000} second`;
  return (
    `Too many ${ACTION_NOUNS[action]} created in a short time (limit: ${result.window.max} per ${per}). ` +
    `Please wait ${seconds} second${seconds === 1 ? "" : "s"} and try again.`
  );
}

export function rateLimitedResponse(action: RateLimitedAction, result: Extract<RateLimitResult, { allowed: false }>): Response {
  const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  return new Response(JSON.stringify(errorPayload(rateLimitMessage(action, result), { code: "rateLimited", params: { seconds } })), {
    status: 429,
    headers: {
      "Content-Type": "application/json",
      "Retry-After": String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))),
    },
  });
}

/**
 * Throws a 429 Response when `shop` exceeds the limits for `action`. When Redis cannot be reached
 * the request is let through (and logged): credits are protected by the ledger, not by this limit.
 */
export async function enforceRateLimit(
  action: RateLimitedAction,
  shop: string,
  options: { redis?: RedisClient; limits?: readonly RateLimitWindow[]; now?: () => number } = {},
): Promise<void> {
  let result: RateLimitResult;
  try {
    const redis = options.redis ?? webRedisConnection();
    if (!options.redis) await whenReady(redis);
    const limiter = createRateLimiter({ redis, prefix: `ratelimit:${action}`, limits: options.limits, now: options.now });
    result = await limiter.consume(shop);
  } catch (error) {
    logger.warn({ err: error, shop, action }, "rate limiter unavailable; request allowed");
    return;
  }
  if (!result.allowed) {
    rateLimited.inc({ action });
    logger.info({ shop, action, retryAfterMs: result.retryAfterMs }, "rate limited");
    throw rateLimitedResponse(action, result);
  }
}

/**
 * Like enforceRateLimit, but returns the 429 Response (JSON `{ error }`, Retry-After) instead of
 * throwing it, or null when allowed. For actions called with useFetcher or from the extension,
 * where a thrown Response would reach the ErrorBoundary instead of the form:
 *   const limited = await checkRateLimit("batch-create", session.shop);
 *   if (limited) return cors(limited);
 */
export async function checkRateLimit(
  action: RateLimitedAction,
  shop: string,
  options: { redis?: RedisClient; limits?: readonly RateLimitWindow[]; now?: () => number } = {},
): Promise<Response | null> {
  try {
    await enforceRateLimit(action, shop, options);
    return null;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}
