import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBatch, restoreItem } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { sweepOnce } from "~/queue/sweep.server";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";

let h: Harness;
const saved = { attempts: process.env.JOB_ATTEMPTS, timeout: 0 };

beforeAll(async () => {
  h = await startHarness();
  saved.timeout = h.deps.config.fileReadyTimeoutMs;
  h.startInProcessWorker({ concurrency: 2 });
});
afterEach(() => {
  h.deps.config.fileReadyTimeoutMs = saved.timeout;
  if (saved.attempts === undefined) delete process.env.JOB_ATTEMPTS;
  else process.env.JOB_ATTEMPTS = saved.attempts;
});
afterAll(async () => {
  await h?.close();
});

async function itemOf(shop: string, batchId: string) {
  return h.db.batchItem.findFirstOrThrow({ where: { shop, batchId } });
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The shop's balance once nothing is held any more (the state changes just before the release, in one worker step). */
function creditsSettled(shop: string) {
  return until(
    () => getBalance(h.db, shop),
    (balance) => balance.reserved === 0,
  );
}

describe("an item whose replacement was sent", () => {
  it("is charged, published and restorable when Shopify finishes the replacement after the last attempt gave up waiting", async () => {
    // One attempt, and the worker waits 300 ms for READY while Shopify takes 2.5 s for this replacement.
    process.env.JOB_ATTEMPTS = "1";
    h.deps.config.fileReadyTimeoutMs = 300;
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const [mediaId] = [...before.keys()];
    const graphql = await offlineAdmin(shop);
    h.shopify.setSlowNextFileUpdate(shop, 2_500);
    const { batchId } = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: [mediaId!], pipeline: "amazon" });

    // The attempt ends while Shopify is still processing: the credits stay held, nothing is released.
    const item = await until(
      async () => {
        const row = await itemOf(shop, batchId);
        return { row, jobState: await (await h.queue.getJob(row.id))?.getState() };
      },
      ({ jobState, row }) => jobState === "failed" || ["PUBLISHED", "FAILED"].includes(row.state),
    );
    expect(item.row.state).toBe("PROCESSING");
    expect(item.row.replaceSentAt).not.toBeNull();
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 27, reserved: 3 });

    // Shopify finishes; the sweep runs the item again, which reads the media and settles it.
    h.deps.config.fileReadyTimeoutMs = saved.timeout;
    await until(
      () => Promise.resolve(mediaById(h.shopify, shop).get(mediaId!)!.status),
      (status) => status === "READY",
    );
    await sweepOnce({ db: h.db, queue: h.queue }, { graceMs: 0 });
    const settled = await until(
      () => itemOf(shop, batchId),
      (row) => row.state !== "PROCESSING",
    );
    expect(settled.state).toBe("PUBLISHED");
    expect(mediaById(h.shopify, shop).get(mediaId!)).toMatchObject({ replacements: 1 });
    expect(mediaById(h.shopify, shop).get(mediaId!)!.sha256).not.toBe(before.get(mediaId!)!.sha256);
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });

    await restoreItem({ db: h.db, graphql }, shop, settled.id);
    expect(mediaById(h.shopify, shop).get(mediaId!)!.sha256).toBe(before.get(mediaId!)!.sha256);
  });

  it("returns the credits when Shopify rejects the replacement on the last attempt, and the original stays", async () => {
    process.env.JOB_ATTEMPTS = "1";
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const [mediaId] = [...before.keys()];
    h.shopify.setFailNextFileUpdate(shop, "Simulated processing failure");
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [mediaId!],
      pipeline: "amazon",
    });
    const settled = await until(
      () => itemOf(shop, batchId),
      (row) => row.state !== "QUEUED" && row.state !== "PROCESSING",
    );
    expect(settled).toMatchObject({ state: "FAILED", reason: expect.stringMatching(/Shopify could not process/) });
    expect(mediaById(h.shopify, shop).get(mediaId!)).toMatchObject({ sha256: before.get(mediaId!)!.sha256, status: "READY" });
    // The state changes just before the release, in one step of the worker.
    expect(await creditsSettled(shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });

  it("is tried again, credits held, when Shopify fails to answer the read that would settle it", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const [mediaId] = [...mediaById(h.shopify, shop).keys()];
    // The merchant deletes the image just after the fileUpdate; the worker finds it gone, and the read that would
    // settle the item fails once with a Shopify outage: a passing error, so the job is retried, not ended.
    h.shopify.afterNextOperation(shop, "CatalogReplaceMediaImage", async () => {
      h.shopify.deleteMedia(shop, mediaId!);
      h.shopify.beforeNextOperation(shop, "CatalogMediaImageState", async () => {
        h.shopify.beforeNextOperation(shop, "CatalogMediaImageState", () =>
          Promise.reject(new Error("Shopify outage (forced by the test)")),
        );
      });
    });
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [mediaId!],
      pipeline: "amazon",
    });
    const { id: itemId } = await itemOf(shop, batchId);
    const firstAttempt = await until(
      async () => {
        const job = await h.queue.getJob(itemId);
        return { state: await job?.getState(), started: job?.attemptsStarted };
      },
      (j) => j.state === "delayed" || j.state === "failed" || (j.started ?? 0) > 1,
    );
    expect(firstAttempt).toMatchObject({ state: "delayed", started: 1 });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 27, reserved: 3 });

    // The retry reads the media: gone, so nothing of ours is live; the item fails and its credits go back.
    const settled = await until(
      () => itemOf(shop, batchId),
      (row) => row.state !== "PROCESSING",
    );
    expect(settled.state).toBe("FAILED");
    expect(await creditsSettled(shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });

  it("is not charged when Shopify fails the replacement and the read that would settle it fails once", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const [mediaId] = [...before.keys()];
    const original = before.get(mediaId!)!.sha256;
    const graphql = await offlineAdmin(shop);
    // Shopify fails the fileUpdate; the worker acknowledges it (the original shows again), and the read that would
    // settle the item then fails once with a Shopify outage: a passing error, so the job is retried.
    h.shopify.setFailNextFileUpdate(shop, "Simulated processing failure");
    h.shopify.afterNextOperation(shop, "CatalogAcknowledgeUpdateFailed", async () => {
      h.shopify.beforeNextOperation(shop, "CatalogMediaImageState", () => Promise.reject(new Error("Shopify outage (forced by the test)")));
    });
    const { batchId } = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: [mediaId!], pipeline: "amazon" });
    const { id: itemId } = await itemOf(shop, batchId);
    const firstAttempt = await until(
      async () => {
        const job = await h.queue.getJob(itemId);
        return { state: await job?.getState(), started: job?.attemptsStarted };
      },
      (j) => j.state === "delayed" || j.state === "failed" || (j.started ?? 0) > 1,
    );
    expect(firstAttempt).toMatchObject({ state: "delayed", started: 1 });

    // The retry must not take the original, showing again, for the replacement: nothing of ours is live.
    const settled = await until(
      () => itemOf(shop, batchId),
      (row) => row.state !== "PROCESSING" && row.state !== "QUEUED",
    );
    expect(settled).toMatchObject({ state: "FAILED", reason: expect.stringMatching(/Shopify could not process/) });
    expect(await creditsSettled(shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    const after = mediaById(h.shopify, shop);
    expect(after.size).toBe(1);
    expect(after.get(mediaId!)).toMatchObject({ sha256: original, status: "READY", position: before.get(mediaId!)!.position });

    // The image can be edited again later, and that edit restored to the original.
    const again = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: [mediaId!], pipeline: "amazon" });
    const published = await until(
      () => itemOf(shop, again.batchId),
      (row) => row.state !== "PROCESSING" && row.state !== "QUEUED",
    );
    expect(published.state).toBe("PUBLISHED");
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
    expect(mediaById(h.shopify, shop).get(mediaId!)!.sha256).not.toBe(original);
    await restoreItem({ db: h.db, graphql }, shop, published.id);
    expect(mediaById(h.shopify, shop).size).toBe(1);
    expect(mediaById(h.shopify, shop).get(mediaId!)!.sha256).toBe(original);
  });

  it("fails and gives the credits back when the merchant deletes the image while it is being processed", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const [mediaId] = [...mediaById(h.shopify, shop).keys()];
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [mediaId!],
      pipeline: "amazon",
    });
    h.shopify.deleteMedia(shop, mediaId!);
    const progress = await h.waitForBatch(shop, batchId);
    expect(progress.items[0]).toMatchObject({
      state: "FAILED",
      reason: expect.stringMatching(/deleted|could not be downloaded|no longer/),
    });
    expect(await creditsSettled(shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(mediaById(h.shopify, shop).size).toBe(0);
  });
});
