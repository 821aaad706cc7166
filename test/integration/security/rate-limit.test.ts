import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { checkRateLimit, createRateLimiter, enforceRateLimit } from "~/lib/rate-limit.server";
import { uniqueShopDomain } from "../../factories";
import { scratchRedis } from "../scratch-redis";

const { redis, prefix } = scratchRedis("ratelimit");

/** A limiter whose clock the test moves (milliseconds since an arbitrary start). */
function limiterAt(start = 1_700_000_000_000) {
  let now = start;
  const limiter = createRateLimiter({ redis, prefix, now: () => now });
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe("per-shop rate limit (10 per second, 60 per minute)", () => {
  it("refuses the 11th request within one second and allows again once the second has passed", async () => {
    const { limiter, advance } = limiterAt();
    const key = uniqueShopDomain();
    for (let i = 0; i < 10; i++) {
      expect(await limiter.consume(key)).toEqual({ allowed: true });
      advance(50);
    }
    const refused = await limiter.consume(key);
    expect(refused).toMatchObject({ allowed: false, window: { max: 10, windowMs: 1000 } });
    if (!refused.allowed) expect(refused.retryAfterMs).toBe(500);
    advance(501);
    expect(await limiter.consume(key)).toEqual({ allowed: true });
  });

  it("refuses the 61st request within one minute even when no second holds more than 10", async () => {
    const { limiter, advance } = limiterAt();
    const key = uniqueShopDomain();
    for (let i = 0; i < 60; i++) {
      expect(await limiter.consume(key)).toEqual({ allowed: true });
      advance(900);
    }
    expect(await limiter.consume(key)).toMatchObject({ allowed: false, window: { max: 60, windowMs: 60_000 } });
    advance(60_000);
    expect(await limiter.consume(key)).toEqual({ allowed: true });
  });

  it("counts each shop separately", async () => {
    const { limiter } = limiterAt();
    const busy = uniqueShopDomain();
    for (let i = 0; i < 10; i++) await limiter.consume(busy);
    expect((await limiter.consume(busy)).allowed).toBe(false);
    expect(await limiter.consume(uniqueShopDomain())).toEqual({ allowed: true });
  });

  it("does not count refused requests, so a shop that keeps retrying is not locked out longer", async () => {
    const { limiter, advance } = limiterAt();
    const key = uniqueShopDomain();
    for (let i = 0; i < 10; i++) await limiter.consume(key);
    for (let i = 0; i < 20; i++) expect((await limiter.consume(key)).allowed).toBe(false);
    advance(1001);
    expect(await limiter.consume(key)).toEqual({ allowed: true });
  });

  it("throws a 429 Response with a readable message from enforceRateLimit", async () => {
    const key = uniqueShopDomain();
    const at = () => 1_800_000_000_000;
    for (let i = 0; i < 10; i++) await enforceRateLimit("purchase-create", key, { redis, now: at });
    const thrown = await enforceRateLimit("purchase-create", key, { redis, now: at }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(thrown).toBeInstanceOf(Response);
    const response = thrown as Response;
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(((await response.json()) as { error: string }).error).toMatch(/^Too many purchases created in a short time/);
    await redis.del(...(await redis.keys(`ratelimit:purchase-create:{${key}}:*`)));
  });

  it("returns the 429 Response from checkRateLimit for routes that answer instead of throwing", async () => {
    const key = uniqueShopDomain();
    const at = () => 1_900_000_000_000;
    for (let i = 0; i < 10; i++) expect(await checkRateLimit("batch-create", key, { redis, now: at })).toBeNull();
    const limited = await checkRateLimit("batch-create", key, { redis, now: at });
    expect(limited?.status).toBe(429);
    expect(((await limited!.json()) as { error: string }).error).toMatch(/^Too many batches created in a short time/);
    await redis.del(...(await redis.keys(`ratelimit:batch-create:{${key}}:*`)));
  });

  it("lets requests through when Redis cannot be reached", async () => {
    const down = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on("error", () => undefined);
    await expect(enforceRateLimit("batch-create", uniqueShopDomain(), { redis: down })).resolves.toBeUndefined();
    down.disconnect();
  });
});
