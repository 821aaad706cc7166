// Processed images live in the object store, not in PostgreSQL; they are kept RESULT_RETENTION_DAYS, and rows from
// before the object store are moved there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { createFileSystemStore, type ObjectStore } from "~/lib/object-store.server";
import {
  deleteStoredImagesOfShop,
  expireStoredImages,
  findStoredImageById,
  findStoredImageByKey,
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
});
