/**
 * "Try the failed images again" on the batch page (app.batches.$id.retry-failed): every failed image a new try may
 * cure gets a new version in one step, their credits held together (all or nothing); a failure a new try cannot cure
 * (the original gone from Shopify) is left with its reason; a double submit queues each image once.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { reserveForItems } from "~/models/credit-reservations.server";
import { retryItem } from "~/models/versions.server";
import { loader as batchLoader } from "~/routes/app.batches.$id";
import { action as retryFailedAction } from "~/routes/app.batches.$id.retry-failed";
import { bearerRequest, body, call, status } from "../routes/helpers";
import { waitFor } from "../wait";
import { harnessForFile, mediaById, offlineAdmin } from "./harness";

const h = harnessForFile({ worker: { concurrency: 2 }, routesEnqueue: true });

type Answer = { ok: boolean; message?: string; messageCode?: string; messageParams?: object; error?: string; errorCode?: string };

async function retryFailed(shop: string, batchId: string) {
  const result = await call(retryFailedAction, await bearerRequest(shop, `/app/batches/${batchId}/retry-failed`, { method: "POST" }), {
    id: batchId,
  });
  return { status: status(result), body: await body<Answer>(result) };
}

async function page(shop: string, batchId: string) {
  const result = await call(batchLoader, await bearerRequest(shop, `/app/batches/${batchId}`), { id: batchId });
  return body<{ failedToRetry: number; counts: Record<string, number> }>(result);
}

const reserves = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "RESERVE" } });
const captures = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });

/**
 * A batch of three images that all failed: one whose image the merchant deleted from the product before it was
 * replaced (a new try cannot cure that), then two while the image service was unavailable (a new try may go through).
 */
async function failedBatch(credits: number) {
  const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits, smallPhotos: true });
  const worker = h.workers[0]!;
  await worker.pause();
  const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
    mediaIds: [...mediaById(h.shopify, shop).keys()],
    pipeline: "amazon",
  });
  const [gone, ...curable] = await h.db.batchItem.findMany({ where: { shop, batchId }, orderBy: { createdAt: "asc" } });
  h.shopify.deleteMedia(shop, gone!.mediaId);
  for (const item of curable) await h.queue.removeWaitingJob(item.id);
  worker.resume();
  await waitFor(
    () => h.db.batchItem.findUniqueOrThrow({ where: { id: gone!.id } }),
    (item) => item.state === "FAILED",
    "the deleted image failed",
  );
  h.dashscope.setOptions({ forceError: { status: 400, code: "Arrearage", message: "Access denied because the account is in arrears." } });
  try {
    await h.queue.enqueueItems(curable.map((item) => ({ id: item.id, shop })));
    const progress = await h.waitForBatch(shop, batchId);
    expect(progress.counts.FAILED).toBe(3);
  } finally {
    h.dashscope.setOptions({ forceError: null });
  }
  const reasons = await h.db.batchItem.findMany({ where: { shop, batchId }, select: { id: true, reasonMessage: true } });
  const codeOf = (id: string) => (reasons.find((r) => r.id === id)!.reasonMessage as { code: string }).code;
  expect([gone!, ...curable].map((item) => codeOf(item.id))).toEqual(["itemMediaDeleted", "itemEditUnavailable", "itemEditUnavailable"]);
  return { shop, batchId, curable, gone: gone! };
}

describe("try the failed images of a batch again", () => {
  it("queues a new version of each curable failed image once, even when submitted twice at once, and publishes them", async () => {
    const { shop, batchId, curable, gone } = await failedBatch(9);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 9, reserved: 0 });
    expect(await page(shop, batchId)).toMatchObject({ failedToRetry: 2, counts: { FAILED: 3 } });
    const reservesBefore = await reserves(shop);

    // A double click: two requests at once. One queues both images; the other finds them queued and reserves nothing.
    const answers = await Promise.all([retryFailed(shop, batchId), retryFailed(shop, batchId)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.body.messageCode).sort()).toEqual(["retryFailedNone", "retryFailedQueued"]);
    expect(answers.find((a) => a.body.messageCode === "retryFailedQueued")!.body).toEqual({
      ok: true,
      message:
        "Making a new version of 2 failed images (3 credits each, charged only for those that succeed); this page shows the progress.",
      messageCode: "retryFailedQueued",
      messageParams: { count: 2, credits: 3 },
    });
    const tries = await h.db.batchItem.findMany({ where: { shop, batchId, retryOfId: { not: null } } });
    expect(tries.map((t) => t.retryOfId).sort()).toEqual(curable.map((item) => item.id).sort());
    expect(await reserves(shop)).toBe(reservesBefore + 2);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 6 });

    const done = await h.waitForBatch(shop, batchId);
    const stateOf = (rootId: string) => done.items.find((i) => i.versions[0]!.id === rootId)!;
    for (const item of curable) {
      const image = stateOf(item.id);
      expect(image.state).toBe("PUBLISHED");
      expect(image.versions.map((v) => v.state)).toEqual(["FAILED", "PUBLISHED"]);
      expect(mediaById(h.shopify, shop).get(item.mediaId)!.replacements).toBe(1);
    }
    expect(stateOf(gone.id)).toMatchObject({ state: "FAILED", versions: [expect.objectContaining({ id: gone.id })] });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });
    expect(await captures(shop)).toBe(2);
    expect(done.batch.creditsUsed).toBe(6);

    // Nothing left a new try may cure: the page offers no button, the action queues nothing, and "Try again" on the
    // image whose original is gone says what to do instead.
    expect(await page(shop, batchId)).toMatchObject({ failedToRetry: 0, counts: { FAILED: 1, PUBLISHED: 2 } });
    expect(await retryFailed(shop, batchId)).toMatchObject({ status: 200, body: { ok: true, messageCode: "retryFailedNone" } });
    await expect(retryItem({ db: h.db, queue: h.queue }, shop, gone.id, null)).rejects.toMatchObject({
      httpStatus: 409,
      code: "retryNotCurable",
      message: expect.stringContaining("would fail the same way") as string,
    });
    expect(await h.db.batchItem.count({ where: { shop, batchId } })).toBe(5);
  }, 120_000);

  it("reserves nothing when the balance cannot cover every image and says how many credits it needs; one image can still be tried", async () => {
    const { shop, batchId, curable } = await failedBatch(9);
    // Six of the nine credits are held by images being made in another batch.
    await reserveForItems(h.db, shop, [randomUUID(), randomUUID()], 3);
    const reservesBefore = await reserves(shop);
    expect(await retryFailed(shop, batchId)).toEqual({
      status: 422,
      body: {
        ok: false,
        error:
          "Trying the 2 failed images again needs 6 credits and you have 3, so nothing was reserved. Buy a credit pack on the Credits page, then try again.",
        errorCode: "retryFailedNeedsCredits",
        errorParams: { count: 2, needed: 6, available: 3 },
      },
    });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 6 });
    expect(await reserves(shop)).toBe(reservesBefore);
    expect(await h.db.batchItem.count({ where: { shop, batchId } })).toBe(3);
    expect((await getBatchProgress(h.db, shop, batchId))!.batch.status).toBe("DONE");

    // "Try again" on one failed image: 3 credits, the balance covers it.
    const one = await retryItem({ db: h.db, queue: h.queue }, shop, curable[0]!.id, "less shadow");
    expect(one.creditsReserved).toBe(3);
    const done = await h.waitForBatch(shop, batchId);
    expect(done.items.find((i) => i.id === one.itemId)).toMatchObject({ state: "PUBLISHED", instruction: "less shadow" });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 6 });
    expect(await page(shop, batchId)).toMatchObject({ failedToRetry: 1 });
  }, 120_000);

  it("answers 404 for another shop's batch, exactly as for an unknown one, and changes nothing", async () => {
    const { shop, batchId } = await failedBatch(9);
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 9, smallPhotos: true });
    const foreign = await retryFailed(other, batchId);
    expect(foreign).toEqual({
      status: 404,
      body: { ok: false, error: "This batch was not found.", errorCode: "batchNotFound", errorParams: {} },
    });
    expect(await retryFailed(other, "00000000-0000-0000-0000-000000000000")).toEqual(foreign);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 9, reserved: 0 });
    expect(await getBalance(h.db, other)).toMatchObject({ available: 9, reserved: 0 });
    expect(await h.db.batchItem.count({ where: { shop, batchId } })).toBe(3);
  }, 120_000);

  it("leaves a failed image the merchant already put in another unfinished batch, and says so for that image", async () => {
    const { shop, batchId, curable } = await failedBatch(9);
    const [elsewhere, free] = curable;
    const worker = h.workers[0]!;
    await worker.pause();
    let otherBatchId = "";
    try {
      const other = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
        mediaIds: [elsewhere!.mediaId],
        pipeline: "amazon",
      });
      expect(other.queued).toBe(1);
      otherBatchId = other.batchId;
      expect(await retryFailed(shop, batchId)).toMatchObject({
        status: 200,
        body: { ok: true, messageCode: "retryFailedQueued", messageParams: { count: 1, credits: 3 } },
      });
      await expect(retryItem({ db: h.db, queue: h.queue }, shop, elsewhere!.id, null)).rejects.toMatchObject({
        httpStatus: 409,
        code: "retryInOtherBatch",
      });
      const tries = await h.db.batchItem.findMany({ where: { shop, batchId, retryOfId: { not: null } }, select: { retryOfId: true } });
      expect(tries).toEqual([{ retryOfId: free!.id }]);
      expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 6 });
    } finally {
      worker.resume();
    }
    await h.waitForBatch(shop, batchId);
    await h.waitForBatch(shop, otherBatchId);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });
  }, 120_000);
});
