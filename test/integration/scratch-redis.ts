import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

/** A connection to the test Redis and a key prefix of this file's own; its keys are deleted after the file. */
export function scratchRedis(label: string): { redis: Redis; prefix: string } {
  const redis = new Redis(process.env.REDIS_URL!);
  const prefix = `test-${label}-${randomUUID()}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });
  return { redis, prefix };
}
