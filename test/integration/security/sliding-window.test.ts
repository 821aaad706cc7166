import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRateLimiter } from "~/lib/rate-limit.server";
import { restampSlot, takeSlot } from "~/lib/sliding-window.server";
import { createQwenRateLimiter } from "~/queue/qwen-rate-limit.server";
import { scratchRedis } from "../scratch-redis";

const { redis, prefix } = scratchRedis("sliding");
const key = (name: string, tag: string = randomUUID()) => `${prefix}:{${tag}}:${name}`;

/** Redis's clock in ms, as the script reads it. */
async function redisNow(): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

describe("one sliding window for the web's per-shop limits and the Qwen quota", () => {
  it("counts a call for exactly windowMs: refused one ms before its end, granted at it", async () => {
    const keys = [key("w")];
    const windows = [{ max: 2, windowMs: 1000 }];
    expect(await takeSlot(redis, keys, windows, "a", 10_000)).toEqual({ granted: true });
    expect(await takeSlot(redis, keys, windows, "b", 10_400)).toEqual({ granted: true });
    expect(await takeSlot(redis, keys, windows, "c", 10_999)).toEqual({ granted: false, window: 0, retryAfterMs: 1 });
    expect(await takeSlot(redis, keys, windows, "c", 11_000)).toEqual({ granted: true });
    expect(await takeSlot(redis, keys, windows, "d", 11_000)).toEqual({ granted: false, window: 0, retryAfterMs: 400 });
  });

  it("records a call in no window when any one is full, and names the full one", async () => {
    const tag = randomUUID();
    const keys = [key("second", tag), key("minute", tag)];
    const windows = [
      { max: 5, windowMs: 1000 },
      { max: 2, windowMs: 60_000 },
    ];
    await takeSlot(redis, keys, windows, "a", 0);
    await takeSlot(redis, keys, windows, "b", 100);
    expect(await takeSlot(redis, keys, windows, "c", 200)).toEqual({ granted: false, window: 1, retryAfterMs: 59_800 });
    expect(await redis.zcard(keys[0]!)).toBe(2);
  });

  it("re-stamps a granted call at Redis's time, so its window ends a windowMs after that", async () => {
    const keys = [key("restamp")];
    const windows = [{ max: 1, windowMs: 1000 }];
    const before = await redisNow();
    expect(await takeSlot(redis, keys, windows, "a", before - 900)).toEqual({ granted: true });
    await restampSlot(redis, keys, windows, "a");
    const refused = await takeSlot(redis, keys, windows, "b");
    expect(refused.granted).toBe(false);
    if (!refused.granted) expect(refused.retryAfterMs).toBeGreaterThan(900);
    // A call no longer in the window is not brought back.
    await restampSlot(redis, keys, windows, "gone");
    expect(await redis.zcard(keys[0]!)).toBe(1);
  });

  it("gives the web limiter and the Qwen quota the same semantics for the same window", async () => {
    // Both refuse the (max+1)th call inside the window and let it through once the oldest call has left.
    const web = createRateLimiter({ redis, prefix, limits: [{ max: 3, windowMs: 1030 }], now: () => Date.now() });
    const shop = randomUUID();
    const qwen = createQwenRateLimiter(redis, { maxPerSecond: 3, key: key("qwen") });
    const webGrants: number[] = [];
    const qwenGrants: number[] = [];
    for (let i = 0; i < 4; i++) {
      for (;;) {
        const result = await web.consume(shop);
        if (result.allowed) break;
        await new Promise((resolve) => setTimeout(resolve, result.retryAfterMs));
      }
      webGrants.push(Date.now());
    }
    for (let i = 0; i < 4; i++) {
      await qwen.acquire();
      qwenGrants.push(Date.now());
    }
    expect(webGrants[3]! - webGrants[0]!).toBeGreaterThanOrEqual(1000);
    expect(qwenGrants[3]! - qwenGrants[0]!).toBeGreaterThanOrEqual(1000);
  });
});
