/**
 * A run of an image job whose lock was taken over (its worker stalled past the lock, and stalled-job recovery handed
 * the job to another run) must not send Shopify a second replacement: only the run that holds the lock replaces.
 */
import { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { createRedisConnection } from "~/lib/redis.server";
import type { ImageJobData } from "~/queue/jobs";
import { JobLockLostError, processImageJob } from "~/queue/processor.server";
import { QUEUE_PREFIX } from "~/queue/queue.server";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";

let h: Harness;
let manual: Worker<ImageJobData>;

beforeAll(async () => {
  h = await startHarness();
  // No processor: jobs are taken one at a time with getNextJob, as a worker would, under a token of the test's choice.
  manual = new Worker<ImageJobData>(h.queueName, null, {
    connection: createRedisConnection({ forWorker: true }),
    prefix: QUEUE_PREFIX,
    lockDuration: 60_000,
  });
});
afterAll(async () => {
  await manual?.close();
  await h?.close();
});

describe("a job run that lost its lock", () => {
  it("does not replace the image; the run that took the job over replaces it once and charges once", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3 });
    const before = mediaById(h.shopify, shop);
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...before.keys()],
      pipeline: "amazon",
    });
    const job = (await manual.getNextJob("stalled-run"))!;
    expect(job.data.shop).toBe(shop);
    // The stalled run's lock expired and another run took the job: the lock now holds the new run's token.
    await h.limiterRedis.set(`${QUEUE_PREFIX}:${h.queueName}:${job.id}:lock`, "new-run", "PX", 60_000);

    await expect(processImageJob(job, h.deps, "stalled-run")).rejects.toBeInstanceOf(JobLockLostError);
    const [mediaId] = [...before.keys()];
    expect(mediaById(h.shopify, shop).get(mediaId!)!.replacements).toBe(0);
    // Nothing was given up either: the item is still being processed, its credits still held.
    expect((await h.db.batchItem.findFirstOrThrow({ where: { shop, batchId } })).state).toBe("PROCESSING");
    expect(await getBalance(h.db, shop)).toEqual({ available: 0, reserved: 3, total: 3 });

    await expect(processImageJob(job, h.deps, "new-run")).resolves.toBe("published");
    expect(mediaById(h.shopify, shop).get(mediaId!)!.replacements).toBe(1);
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(1);
    expect(await getBalance(h.db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });
});
