// Processed images live in the object store, not in PostgreSQL; they are kept RESULT_RETENTION_DAYS, and rows from
// before the object store are moved there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { createFileSystemStore, type ObjectStore } from "~/lib/object-store.server";
import {
  deleteStoredImagesOfShop,
  expireStoredImages,
  findStoredImageById,
  findStoredImageByKey,
  getProcessedPreview,
  moveStoredImagesToObjectStore,
  saveStoredImage,
} from "~/models/stored-images.server";
import { createBatch, createItems, uniqueShopDomain } from "../../factories";

let dir: string;
let store: ObjectStore;
const shop = uniqueShopDomain();
const png = (seed: number) => ({
  bytes: Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * seed) % 256)),
  mimeType: "image/png",
  width: 10,
  height: 10,
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "stored-images-"));
  store = createFileSystemStore(dir);
});
afterAll(async () => {
  await prisma.storedImage.deleteMany({ where: { shop } });
  await rm(dir, { recursive: true, force: true });
});

const row = (id: string) => prisma.storedImage.findUniqueOrThrow({ where: { id } });

describe("processed images", () => {
  it("keeps the bytes in the object store and only their metadata in PostgreSQL", async () => {
    const image = png(7);
    const { id } = await saveStoredImage(prisma, shop, "hash-1:amazon", image, store);
    const stored = await row(id);
    expect(stored.bytes).toBeNull();
    expect(stored.objectKey).toMatch(new RegExp(`^processed/${shop}/[0-9a-f]{64}$`));
    expect(Buffer.compare((await store.get(stored.objectKey!))!, image.bytes)).toBe(0);
    expect(Buffer.compare((await findStoredImageByKey(prisma, shop, "hash-1:amazon", store))!.bytes, image.bytes)).toBe(0);
    expect(await saveStoredImage(prisma, shop, "hash-1:amazon", png(9), store)).toEqual({ id });
  });

  it("deletes the bytes after the retention but keeps the row, and keeps images still waiting for review", async () => {
    const { id: old } = await saveStoredImage(prisma, shop, "hash-old:amazon", png(3), store);
    const { id: awaitingReview } = await saveStoredImage(prisma, shop, "hash-review:amazon", png(5), store);
    const batch = await createBatch(prisma, shop, { total: 1 });
    await createItems(prisma, batch, [{ productTitle: "Mug", state: "NEEDS_REVIEW", resultImageId: awaitingReview }]);
    const objectKey = (await row(old)).objectKey!;

    await expireStoredImages(prisma, { now: new Date(Date.now() + 31 * 86_400_000), retentionDays: 30, store });

    const expired = await row(old);
    expect(expired.expiredAt).not.toBeNull();
    expect(expired.objectKey).toBeNull();
    expect(await store.get(objectKey)).toBeNull();
    expect(await findStoredImageById(prisma, shop, old, store)).toBeNull();
    expect((await row(awaitingReview)).expiredAt).toBeNull();
    expect(await findStoredImageById(prisma, shop, awaitingReview, store)).not.toBeNull();

    // Processing the same image again after that stores it anew under the same row.
    const again = png(11);
    expect(await saveStoredImage(prisma, shop, "hash-old:amazon", again, store)).toEqual({ id: old });
    expect(Buffer.compare((await findStoredImageById(prisma, shop, old, store))!.bytes, again.bytes)).toBe(0);
    await prisma.batch.delete({ where: { id: batch.id } });
  });

  it("moves an image stored in PostgreSQL before the object store existed, and reads it the same before and after", async () => {
    const legacy = png(13);
    const { id } = await prisma.storedImage.create({
      data: { shop, cacheKey: "hash-legacy:ebay", mimeType: "image/png", width: 10, height: 10, bytes: legacy.bytes },
    });
    expect(Buffer.compare((await findStoredImageById(prisma, shop, id, store))!.bytes, legacy.bytes)).toBe(0);

    // Other test files' sweeps may move it first (into the shared test folder): move until it has.
    while ((await row(id)).bytes !== null) await moveStoredImagesToObjectStore(prisma, { store, limit: 1000 });

    const moved = await row(id);
    expect(moved.objectKey).not.toBeNull();
    const readFrom = (await store.get(moved.objectKey!)) ? store : undefined;
    expect(Buffer.compare((await findStoredImageById(prisma, shop, id, readFrom))!.bytes, legacy.bytes)).toBe(0);
  });

  it("deletes a shop's images from the object store when the shop's data is erased", async () => {
    const { id } = await saveStoredImage(prisma, shop, "hash-erase:amazon", png(17), store);
    const objectKey = (await row(id)).objectKey!;
    await deleteStoredImagesOfShop(prisma, shop, store);
    expect(await store.get(objectKey)).toBeNull();
  });
  it("encodes a preview once per image and width, answers a matching ETag with notModified, and a new result anew", async () => {
    const photo = async (color: string) => ({
      bytes: await sharp({ create: { width: 1200, height: 800, channels: 3, background: color } })
        .png()
        .toBuffer(),
      mimeType: "image/png",
      width: 1200,
      height: 800,
    });
    const { id: first } = await saveStoredImage(prisma, shop, "hash-preview-1:amazon", await photo("#ff0000"), store);
    const batch = await createBatch(prisma, shop, { total: 1 });
    const [item] = await createItems(prisma, batch, [{ productTitle: "Mug", state: "PUBLISHED", resultImageId: first }]);
    const reads: string[] = [];
    const writes: string[] = [];
    const counting: ObjectStore = {
      ...store,
      get: (key) => (reads.push(key), store.get(key)),
      put: (key, bytes, type) => (writes.push(key), store.put(key, bytes, type)),
    };
    const preview = (opts: { ifNoneMatch?: string } = {}) => getProcessedPreview(prisma, shop, item!.id, 480, { ...opts, store: counting });

    const made = await preview();
    if (!made || made.notModified) throw new Error(`expected a preview, got ${JSON.stringify(made)}`);
    expect(made.mimeType).toBe("image/jpeg");
    expect(await sharp(made.bytes).metadata()).toMatchObject({ format: "jpeg", width: 480, height: 320 });
    expect(writes).toHaveLength(1);

    // Asked again (another tab, another worker process): served from the store, not decoded and encoded again.
    reads.length = 0;
    const again = await preview();
    expect(again).toMatchObject({ etag: made.etag, notModified: false });
    expect(Buffer.compare((again as { bytes: Buffer }).bytes, made.bytes)).toBe(0);
    expect(writes).toHaveLength(1);
    expect(reads).toEqual([writes[0]]);

    // The browser sends back what it has: nothing is read at all.
    reads.length = 0;
    expect(await preview({ ifNoneMatch: `W/"nope", ${made.etag}` })).toEqual({ etag: made.etag, notModified: true });
    expect(reads).toEqual([]);
    // Another shop gets nothing, even with the ETag.
    expect(await getProcessedPreview(prisma, uniqueShopDomain(), item!.id, 480, { ifNoneMatch: made.etag, store: counting })).toBeNull();

    // A new result for the item: a new ETag, and the new picture, also for a browser holding the old ETag.
    const { id: second } = await saveStoredImage(prisma, shop, "hash-preview-2:amazon", await photo("#0000ff"), store);
    await prisma.batchItem.update({ where: { id: item!.id }, data: { resultImageId: second } });
    const changed = await preview({ ifNoneMatch: made.etag });
    if (!changed || changed.notModified) throw new Error(`expected a new preview, got ${JSON.stringify(changed)}`);
    expect(changed.etag).not.toBe(made.etag);
    const { dominant } = await sharp(changed.bytes).stats();
    expect(dominant.b).toBeGreaterThan(200);
    expect(dominant.r).toBeLessThan(50);

    // A preview goes with its image when the image expires.
    await expireStoredImages(prisma, { now: new Date(Date.now() + 31 * 86_400_000), retentionDays: 30, store });
    expect(await store.get(writes[0]!)).toBeNull();
    expect(await preview()).toBeNull();
    await prisma.batch.delete({ where: { id: batch.id } });
  });
});
