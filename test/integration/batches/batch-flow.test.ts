import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { approveItem, createBatch, getBatchProgress, rejectItem, restoreBatch, restoreItem } from "~/models/batches.server";
import { streamBatchZip } from "~/models/batch-zip.server";
import { getBalance } from "~/models/credit-ledger.server";
import { getProcessedImage } from "~/models/stored-images.server";
import { harnessForFile, mediaById, offlineAdmin } from "./harness";

const h = harnessForFile({ worker: { concurrency: 4 } });

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("a batch, end to end", () => {
  it("replaces 20 images in place (same ids, positions, alt texts), backs up the originals and charges 3 credits per success only", async () => {
    const shop = await h.addShop({ products: 8, imagesPerProduct: 3, credits: 100 });
    const before = mediaById(h.shopify, shop);
    const selected = [...before.keys()].slice(0, 20);
    const graphql = await offlineAdmin(shop);
    h.shopify.setFailNextFileUpdate(shop, "Simulated processing failure");

    const { batchId, queued, creditsReserved } = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, {
      mediaIds: selected,
      pipeline: "amazon",
    });
    expect({ queued, creditsReserved }).toEqual({ queued: 20, creditsReserved: 60 });
    const progress = await h.waitForBatch(shop, batchId, 150_000);

    expect(progress.counts.PUBLISHED).toBe(19);
    expect(progress.counts.FAILED).toBe(1);
    const failed = progress.items.find((i) => i.state === "FAILED")!;
    expect(failed.reason).toMatch(/Shopify could not process/);

    const after = mediaById(h.shopify, shop);
    expect(after.size).toBe(before.size);
    for (const [mediaId, was] of before) {
      const now = after.get(mediaId)!;
      expect(now).toMatchObject({ productId: was.productId, position: was.position, alt: was.alt, status: "READY" });
      const item = progress.items.find((i) => i.mediaId === mediaId);
      if (item?.state === "PUBLISHED") {
        const processed = await getProcessedImage(h.db, shop, item.id);
        expect(now.sha256).not.toBe(was.sha256);
        expect(now.sha256).toBe(sha256(processed!.bytes));
      } else {
        expect(now.sha256).toBe(was.sha256);
      }
    }
    // One backup per image that reached publishing (the failed one too), holding the original bytes.
    const backups = await h.db.imageBackup.findMany({ where: { shop } });
    expect(backups).toHaveLength(20);
    const files = h.shopify.files(shop);
    for (const backup of backups) {
      expect(files.find((f) => f.id === backup.fileId)?.sha256).toBe(before.get(backup.mediaId)!.sha256);
    }
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 100 - 19 * 3, reserved: 0 });
    expect(progress.batch).toMatchObject({ status: "DONE", creditsUsed: 57, creditsReserved: 0 });

    // The ZIP holds every processed image.
    const zip = await streamBatchZip(h.db, shop, batchId);
    const bytes = Buffer.from(await new Response(zip!.stream).arrayBuffer());
    expect(bytes.subarray(0, 2).toString()).toBe("PK");
    // Every processed image, including the one Shopify refused (the merchant may upload it by hand).
    expect(zip!.count).toBe(20);
    // Central directory entries: one per file.
    const centralEntries = bytes.toString("latin1").split("PK" + String.fromCharCode(1, 2)).length - 1;
    expect(centralEntries).toBe(20);

    // Restore: the product shows the originals again; twice is harmless; credits unchanged.
    await restoreItem({ db: h.db, graphql }, shop, progress.items.find((i) => i.state === "PUBLISHED")!.id);
    expect(await restoreBatch({ db: h.db, queue: h.queue }, shop, batchId)).toEqual({ queued: 18 });
    expect(await restoreBatch({ db: h.db, queue: h.queue }, shop, batchId)).toEqual({ queued: 0 });
    await h.waitForRestores(shop, batchId);
    const restoredMedia = mediaById(h.shopify, shop);
    for (const [mediaId, was] of before)
      expect(restoredMedia.get(mediaId)).toMatchObject({ position: was.position, alt: was.alt, sha256: was.sha256 });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 100 - 19 * 3, reserved: 0 });

    // A restored image can be processed again; the same source + pipeline reuses the stored result (no second Qwen call).
    const qwenCallsBefore = h.dashscope.stats().requests;
    const again = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: selected.slice(0, 3), pipeline: "amazon" });
    const againProgress = await h.waitForBatch(shop, again.batchId);
    expect(againProgress.counts.PUBLISHED).toBe(3);
    // Every one of them went through Qwen in the first batch (the failure came later, at Shopify).
    expect(h.dashscope.stats().requests).toBe(qwenCallsBefore);
    // The reused result is measured as a fresh edit is: the merchant sees the same compliance and fidelity.
    const reports = async (batchId: string) =>
      (await h.db.batchItem.findMany({ where: { shop, batchId }, select: { mediaId: true, compliance: true, fidelity: true } })).sort(
        (a, b) => a.mediaId.localeCompare(b.mediaId),
      );
    const fresh = (await reports(batchId)).filter((r) => selected.slice(0, 3).includes(r.mediaId));
    expect(await reports(again.batchId)).toEqual(fresh);
  }, 180_000);

  it("holds images for review when the shop asks for it: approve publishes, reject gives the credits back", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 1, credits: 30 });
    await h.db.shop.update({ where: { domain: shop }, data: { reviewBeforePublish: true } });
    const before = mediaById(h.shopify, shop);
    const graphql = await offlineAdmin(shop);
    const { batchId } = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: [...before.keys()], pipeline: "ebay" });

    let progress = await waitFor(async () => {
      const p = await getBatchProgress(h.db, shop, batchId);
      return p && p.counts.NEEDS_REVIEW === 2 ? p : null;
    });
    expect(progress.batch.status).toBe("ACTIVE");
    for (const [id, was] of before) expect(mediaById(h.shopify, shop).get(id)!.sha256).toBe(was.sha256);
    expect(await getBalance(h.db, shop)).toMatchObject({ reserved: 6 });

    const [toApprove, toReject] = progress.items;
    const requestsBefore = h.dashscope.stats().requests;
    await approveItem({ db: h.db, queue: h.queue }, shop, toApprove!.id);
    await rejectItem({ db: h.db }, shop, toReject!.id);
    progress = await h.waitForBatch(shop, batchId);

    expect(progress.items.find((i) => i.id === toApprove!.id)!.state).toBe("PUBLISHED");
    expect(progress.items.find((i) => i.id === toReject!.id)!.state).toBe("REJECTED");
    expect(h.dashscope.stats().requests).toBe(requestsBefore);
    expect(mediaById(h.shopify, shop).get(toApprove!.mediaId)!.sha256).not.toBe(before.get(toApprove!.mediaId)!.sha256);
    expect(mediaById(h.shopify, shop).get(toReject!.mediaId)!.sha256).toBe(before.get(toReject!.mediaId)!.sha256);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 27, reserved: 0 });
  }, 150_000);
});

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
