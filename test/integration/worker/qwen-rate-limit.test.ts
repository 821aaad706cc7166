import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisConnection } from "~/lib/redis.server";
import { createQwenRateLimiter } from "~/queue/qwen-rate-limit.server";

const connections = Array.from({ length: 3 }, () => createRedisConnection({ forWorker: true }));
afterAll(() => connections.forEach((c) => c.disconnect()));

function maxInAnySecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j < sorted.length && sorted[j]! - sorted[i]! < 1000) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

describe("Qwen requests-per-second limit", () => {
  it("never lets more calls than the quota through in any one-second window, across processes", async () => {
    const key = `test-${randomUUID()}:qwen-rps`;
    // Three limiters on three connections stand for three worker processes sharing one quota.
    const limiters = connections.map((redis) => createQwenRateLimiter(redis, { maxPerSecond: 4, key }));
    const granted: number[] = [];
    await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from({ length: 5 }, async () => {
          await limiter.acquire();
          granted.push(Date.now());
        }),
      ),
    );
    expect(granted).toHaveLength(15);
    expect(maxInAnySecond(granted)).toBeLessThanOrEqual(4);
  });

  it("times the window from when a call actually left, when that was later than its grant", async () => {
    const key = `test-${randomUUID()}:qwen-rps`;
    const limiter = createQwenRateLimiter(connections[0]!, { maxPerSecond: 2, key });
    const start = Date.now();
    const first = await limiter.acquire();
    await limiter.acquire();
    // The first call leaves 300 ms after its grant (the worker's event loop was busy).
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.sent();
    await limiter.acquire(); // the second grant's place frees first
    await limiter.acquire(); // then the first call's: a second after it really left, not after its grant
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_300);
  });

  it("does not limit when no quota is configured", async () => {
    const limiter = createQwenRateLimiter(connections[0]!, { maxPerSecond: 0 });
    await Promise.all(Array.from({ length: 50 }, () => limiter.acquire()));
  });
});
