import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { resolvePipeline, DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { BatchInputError, createBatch, getBatchProgress, restoreItem } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { getProcessedImage } from "~/models/stored-images.server";
import { publishVersion, retryItem } from "~/models/versions.server";
import { waitFor } from "../wait";
import { harnessForFile, mediaById, offlineAdmin } from "./harness";

const h = harnessForFile({ worker: { concurrency: 2 } });

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const captures = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });
const reserves = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "RESERVE" } });

/** A shop with one product image, cleaned and published in one batch. */
async function publishedImage(credits: number, opts: { review?: boolean } = {}) {
  const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits });
  if (opts.review) await h.db.shop.update({ where: { domain: shop }, data: { reviewBeforePublish: true } });
  const original = [...mediaById(h.shopify, shop).entries()][0]!;
  const graphql = await offlineAdmin(shop);
  const { batchId } = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: [original[0]], pipeline: "amazon" });
  const progress = opts.review
    ? await waitFor(
        () => getBatchProgress(h.db, shop, batchId),
        (p) => p?.counts.NEEDS_REVIEW === 1,
        "the image held for review",
      )
    : await h.waitForBatch(shop, batchId);
  return { shop, batchId, mediaId: original[0], originalSha: original[1].sha256, first: progress!.items[0]!, graphql };
}

const liveSha = (shop: string, mediaId: string) => mediaById(h.shopify, shop).get(mediaId)!.sha256;

describe("try again with a note", () => {
  it("charges the retry once, keeps both versions, sends the note to the model, republishes the earlier one for free and restores the original", async () => {
    const { shop, batchId, mediaId, originalSha, first, graphql } = await publishedImage(9);
    expect(first.state).toBe("PUBLISHED");
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 0 });
    expect(await captures(shop)).toBe(1);
    const firstSha = sha256((await getProcessedImage(h.db, shop, first.id))!.bytes);
    expect(liveSha(shop, mediaId)).toBe(firstSha);
    const modelCalls = h.dashscope.stats().requests;

    const retry = await retryItem({ db: h.db, queue: h.queue }, shop, first.id, '  keep the\n strap\u0007 "exactly"  ');
    expect(retry).toMatchObject({ creditsReserved: 3, instruction: "keep the strap 'exactly'" });
    let progress = await h.waitForBatch(shop, batchId);

    // The new try edits the original (its backup copy in Files), not the edit now on the product.
    const backup = await h.db.imageBackup.findFirstOrThrow({ where: { shop, mediaId } });
    expect((await h.db.batchItem.findUniqueOrThrow({ where: { id: retry.itemId } })).sourceUrl).toBe(backup.fileUrl);
    // One more model call (not the cached first result), whose prompt is the pipeline's with the note quoted last.
    expect(h.dashscope.stats().requests).toBe(modelCalls + 1);
    const prompt = h.dashscope.requests().at(-1)!.prompt!;
    expect(prompt.startsWith(resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS).prompt)).toBe(true);
    expect(prompt.endsWith(`"keep the strap 'exactly'"`)).toBe(true);

    // Charged once: one more 3-credit capture.
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });
    expect(await captures(shop)).toBe(2);
    expect(progress.batch).toMatchObject({ creditsUsed: 6, creditsReserved: 0 });

    // One image with two versions: the new one on the product, the first kept.
    expect(progress.total).toBe(1);
    const image = progress.items[0]!;
    expect(image.id).toBe(retry.itemId);
    expect(image).toMatchObject({ state: "PUBLISHED", instruction: "keep the strap 'exactly'" });
    expect(image.versions.map((v) => [v.id, v.state])).toEqual([
      [first.id, "SUPERSEDED"],
      [retry.itemId, "PUBLISHED"],
    ]);
    const retrySha = sha256((await getProcessedImage(h.db, shop, retry.itemId))!.bytes);
    expect(await getProcessedImage(h.db, shop, first.id)).not.toBeNull();
    expect(liveSha(shop, mediaId)).toBe(retrySha);

    // Picking the first version puts it back on the product, without a new charge or model call.
    expect(await publishVersion({ db: h.db, queue: h.queue }, shop, first.id)).toBe("queued");
    progress = await h.waitForBatch(shop, batchId);
    expect(progress.items[0]!.versions.map((v) => [v.id, v.state])).toEqual([
      [first.id, "PUBLISHED"],
      [retry.itemId, "SUPERSEDED"],
    ]);
    expect(liveSha(shop, mediaId)).toBe(firstSha);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });
    expect(await captures(shop)).toBe(2);
    expect(h.dashscope.stats().requests).toBe(modelCalls + 1);

    // Restoring puts the ORIGINAL back: the backup was made once, from the original, never from an edit.
    await restoreItem({ db: h.db, graphql }, shop, first.id);
    expect(liveSha(shop, mediaId)).toBe(originalSha);
    const backups = await h.db.imageBackup.findMany({ where: { shop } });
    expect(backups).toHaveLength(1);
    expect(h.shopify.files(shop).find((f) => f.id === backups[0]!.fileId)?.sha256).toBe(originalSha);
    progress = (await getBatchProgress(h.db, shop, batchId))!;
    expect(progress.items[0]!.state).toBe("RESTORED");
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });
  }, 180_000);

  it("gives a failed try's credits back and leaves the product and the earlier version as they were", async () => {
    const { shop, batchId, mediaId, first } = await publishedImage(9);
    const liveBefore = liveSha(shop, mediaId);
    // The model refuses the request (DashScope's content inspection): a final failure, no retry.
    h.dashscope.setOptions({ dataInspectionFailed: (request) => request.prompt.includes("add a watermark") });
    try {
      const retry = await retryItem({ db: h.db, queue: h.queue }, shop, first.id, "add a watermark");
      const progress = await h.waitForBatch(shop, batchId);
      const image = progress.items[0]!;
      expect(image.versions.map((v) => [v.id, v.state])).toEqual([
        [first.id, "PUBLISHED"],
        [retry.itemId, "FAILED"],
      ]);
      expect(image).toMatchObject({ id: first.id, state: "PUBLISHED" });
      expect(image.versions[1]!.reason).toMatch(/refused this image/);
    } finally {
      h.dashscope.setOptions({ dataInspectionFailed: false });
    }
    expect(liveSha(shop, mediaId)).toBe(liveBefore);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 0 });
    expect(await captures(shop)).toBe(1);
    expect(await h.db.creditEntry.count({ where: { shop, kind: "RELEASE" } })).toBe(1);
  }, 120_000);

  it("keeps an earlier version off the product and paid when publishing it again fails, and says why", async () => {
    const { shop, batchId, mediaId, first } = await publishedImage(6);
    const deps = { db: h.db, queue: h.queue };
    const retry = await retryItem(deps, shop, first.id, "less shadow");
    await h.waitForBatch(shop, batchId);
    const liveBefore = liveSha(shop, mediaId);

    h.shopify.setFailNextFileUpdate(shop, "Simulated processing failure");
    expect(await publishVersion(deps, shop, first.id)).toBe("queued");
    const progress = await h.waitForBatch(shop, batchId);
    const image = progress.items[0]!;
    expect(image.versions.map((v) => [v.id, v.state])).toEqual([
      [first.id, "SUPERSEDED"],
      [retry.itemId, "PUBLISHED"],
    ]);
    expect(image.versions[0]!.reason).toMatch(/^This version could not be published again: .*Shopify could not process/);
    expect(liveSha(shop, mediaId)).toBe(liveBefore);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
    expect(await captures(shop)).toBe(2);
  }, 150_000);

  it("says on the rejected version why publishing it failed, and gives the 3 credits of that attempt back", async () => {
    const { shop, batchId, mediaId, first } = await publishedImage(9, { review: true });
    const deps = { db: h.db, queue: h.queue };
    const retry = await retryItem(deps, shop, first.id, "less shadow");
    await waitFor(
      () => getBatchProgress(h.db, shop, batchId),
      (p) => p?.items[0]?.state === "NEEDS_REVIEW",
      "the new try held for review",
    );
    expect(await publishVersion(deps, shop, retry.itemId)).toBe("approved");
    await h.waitForBatch(shop, batchId);
    const liveBefore = liveSha(shop, mediaId);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 0 });

    h.shopify.setFailNextFileUpdate(shop, "Simulated processing failure");
    expect(await publishVersion(deps, shop, first.id)).toBe("queued-paid");
    const progress = await h.waitForBatch(shop, batchId);
    const [rejected, live] = progress.items[0]!.versions;
    expect([rejected!.id, rejected!.state, live!.id, live!.state]).toEqual([first.id, "REJECTED", retry.itemId, "PUBLISHED"]);
    expect(rejected!.publishError).toMatch(/Shopify could not process/);
    expect(live!.publishError).toBeNull();
    expect(liveSha(shop, mediaId)).toBe(liveBefore);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 0 });
    expect(await captures(shop)).toBe(1);
  }, 180_000);

  it("refuses a note that is too long or has no visible text, and a retry the balance cannot pay, reserving nothing", async () => {
    const { shop, batchId, first } = await publishedImage(3);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
    const reservesBefore = await reserves(shop);
    const deps = { db: h.db, queue: h.queue };

    const tooLong = await retryItem(deps, shop, first.id, "x".repeat(201)).catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(BatchInputError);
    expect(tooLong).toMatchObject({ httpStatus: 400, message: expect.stringContaining("200 characters (it has 201)") });

    const invisible = await retryItem(deps, shop, first.id, "\u0000\u200B \n\t\u202E").catch((e: unknown) => e);
    expect(invisible).toMatchObject({ httpStatus: 400, message: expect.stringContaining("no visible text") });

    const short = await retryItem(deps, shop, first.id, "less shadow").catch((e: unknown) => e);
    expect(short).toBeInstanceOf(BatchInputError);
    expect(short).toMatchObject({
      httpStatus: 422,
      message: "Trying again costs 3 credits and you have 0. Buy a credit pack on the Credits page, then try again.",
    });

    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
    expect(await reserves(shop)).toBe(reservesBefore);
    expect(await h.db.batchItem.count({ where: { shop } })).toBe(1);
    expect((await getBatchProgress(h.db, shop, batchId))!.batch.status).toBe("DONE");
  }, 120_000);

  it("sets a held version aside (credits returned) and holds the new one; approving it charges once; the rejected one can be published for 3 credits", async () => {
    const { shop, batchId, mediaId, originalSha, first } = await publishedImage(9, { review: true });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 3 });
    const deps = { db: h.db, queue: h.queue };

    const retry = await retryItem(deps, shop, first.id, "");
    expect(retry.instruction).toBeNull();
    // A second click while the first try is queued is refused, with nothing reserved.
    await expect(retryItem(deps, shop, first.id, "again")).rejects.toMatchObject({ httpStatus: 409 });
    const held = await waitFor(
      () => getBatchProgress(h.db, shop, batchId),
      (p) => p?.items[0]?.state === "NEEDS_REVIEW",
      "the new try held for review",
    );
    expect(held!.items[0]!.versions.map((v) => [v.id, v.state])).toEqual([
      [first.id, "REJECTED"],
      [retry.itemId, "NEEDS_REVIEW"],
    ]);
    expect(held!.counts).toMatchObject({ NEEDS_REVIEW: 1, REJECTED: 0 });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 3 });
    expect(liveSha(shop, mediaId)).toBe(originalSha);

    expect(await publishVersion(deps, shop, retry.itemId)).toBe("approved");
    let done = await h.waitForBatch(shop, batchId);
    expect(done.items[0]).toMatchObject({ id: retry.itemId, state: "PUBLISHED" });
    expect(liveSha(shop, mediaId)).toBe(sha256((await getProcessedImage(h.db, shop, retry.itemId))!.bytes));
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 6, reserved: 0 });
    expect(await captures(shop)).toBe(1);

    // The rejected first version: its credits were given back, so publishing it costs 3, with no model call.
    const modelCalls = h.dashscope.stats().requests;
    const firstSha = sha256((await getProcessedImage(h.db, shop, first.id))!.bytes);
    expect(await publishVersion(deps, shop, first.id)).toBe("queued-paid");
    done = await h.waitForBatch(shop, batchId);
    const versions = done.items[0]!.versions;
    expect(versions.map((v) => v.state)).toEqual(["PUBLISHED", "SUPERSEDED"]);
    expect(versions[0]!.resultImageId).toBe(first.resultImageId);
    expect(liveSha(shop, mediaId)).toBe(firstSha);
    expect(h.dashscope.stats().requests).toBe(modelCalls);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });
    expect(await captures(shop)).toBe(2);
  }, 180_000);
});
