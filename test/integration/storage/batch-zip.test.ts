// The ZIP of a batch holds the processed images still kept, and says which ones expired and what to do.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { streamBatchZip } from "~/models/batch-zip.server";
import { expireStoredImages, saveStoredImage } from "~/models/stored-images.server";
import { createBatch, createItems, uniqueShopDomain } from "../../factories";

const shop = uniqueShopDomain();
const image = (seed: number) => ({
  bytes: Buffer.from(Array.from({ length: 2_000 }, (_, i) => (i * seed) % 256)),
  mimeType: "image/jpeg",
  width: 10,
  height: 10,
});

afterAll(async () => {
  await prisma.batch.deleteMany({ where: { shop } });
  await prisma.storedImage.deleteMany({ where: { shop } });
});

/** The entries of a ZIP written without compression (archiver's `store`), read from their local headers. */
function zipEntries(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  for (let at = zip.indexOf("PK\x03\x04", 0, "latin1"); at !== -1; at = zip.indexOf("PK\x03\x04", at + 4, "latin1")) {
    const nameLength = zip.readUInt16LE(at + 26);
    const extraLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 30, at + 30 + nameLength).toString("utf8");
    const start = at + 30 + nameLength + extraLength;
    // With flag bit 3 the sizes follow the data (in a data descriptor); otherwise the header holds them.
    const sizesFollow = (zip.readUInt16LE(at + 6) & 8) !== 0;
    const end = sizesFollow ? zip.indexOf("PK\x07\x08", start, "latin1") : start + zip.readUInt32LE(at + 18);
    entries.set(name, zip.subarray(start, end));
  }
  return entries;
}

describe("a batch's ZIP", () => {
  it("says which processed images expired, and holds the ones still kept", async () => {
    const kept = await saveStoredImage(prisma, shop, `kept-${randomUUID()}:amazon`, image(3));
    const old = await saveStoredImage(prisma, shop, `old-${randomUUID()}:amazon`, image(5));
    await prisma.storedImage.update({ where: { id: old.id }, data: { createdAt: new Date(Date.now() - 40 * 86_400_000) } });
    expect(await expireStoredImages(prisma, { retentionDays: 30 })).toBeGreaterThanOrEqual(1);
    const batch = await createBatch(prisma, shop, { total: 2 });
    await createItems(prisma, batch, [
      { productTitle: "Blue Mug", position: 1, state: "PUBLISHED", resultImageId: kept.id },
      { productTitle: "Red Kettle", position: 2, state: "PUBLISHED", resultImageId: old.id },
    ]);

    const zip = await streamBatchZip(prisma, shop, batch.id);
    expect(zip!.count).toBe(1);
    const entries = zipEntries(Buffer.from(await new Response(zip!.stream).arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(["EXPIRED.txt", "blue-mug-1.jpg"]);
    expect(Buffer.compare(entries.get("blue-mug-1.jpg")!, image(3).bytes)).toBe(0);
    const note = entries.get("EXPIRED.txt")!.toString("utf8");
    expect(note).toContain("red-kettle-2.jpg (Red Kettle, image 2)");
    expect(note).toMatch(/kept for 30 days/);
    expect(note).toMatch(/originals are backed up in Shopify Files/);
  });
});
