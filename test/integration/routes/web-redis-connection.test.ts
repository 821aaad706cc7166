import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { WEB_CONNECTION_NAME } from "~/lib/redis.server";
import { closeAutomationQueues, getAutomationQueue } from "~/queue/automation.server";
import { closeQueues, getQueue } from "~/queue/queue.server";
import { uniqueShopDomain } from "../../factories";

const queueName = `test-${randomUUID()}`;
const observer = new Redis(process.env.REDIS_URL!);

afterAll(async () => {
  await getQueue(queueName).obliterate({ force: true });
  await closeAutomationQueues();
  await closeQueues();
  await observer.quit();
});

/** This process's connections that carry the web connection's name, as Redis lists them. */
async function webConnections(): Promise<number> {
  const list = (await observer.client("LIST")) as string;
  return list.split("\n").filter((line) => line.split(" ").includes(`name=${WEB_CONNECTION_NAME}`)).length;
}

describe("the web process's Redis connection", () => {
  it("is one connection for the image queue, the automation queue and the rate limits", async () => {
    const shop = uniqueShopDomain();
    await getQueue(queueName).getJobCounts("waiting");
    await getAutomationQueue(queueName).getJobCounts("waiting");
    await enforceRateLimit("batch-create", shop);
    expect(await observer.exists(`ratelimit:batch-create:{${shop}}:1000`)).toBe(1);
    expect(await webConnections()).toBe(1);
  });

  it("is made again after the queues close, and the cached producers follow it", async () => {
    await closeQueues();
    expect(await webConnections()).toBe(0);
    await getAutomationQueue(queueName).getJobCounts("waiting");
    await getQueue(queueName).getJobCounts("waiting");
    await enforceRateLimit("batch-create", uniqueShopDomain());
    expect(await webConnections()).toBe(1);
  });
});
