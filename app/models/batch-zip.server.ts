/**
 * A batch's processed images as a ZIP, streamed: archiver pulls one image at a time from the
 * database, so memory stays at about one image however large the batch is.
 */
import { PassThrough, Readable } from "node:stream";
import type { PrismaClient } from "@prisma/client";
import archiver from "archiver";
import { logger } from "~/lib/logger.server";
import { findStoredImageById, resultRetentionDays } from "~/models/stored-images.server";
import { fileExtensionFor } from "~/imaging/inspect";

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60) || "image"
  );
}

/** The file in the ZIP that lists the results past the retention, so a merchant knows why they are missing. */
const EXPIRED_NOTE_NAME = "EXPIRED.txt";

function expiredNote(names: string[]): string {
  return [
    `${names.length} processed image${names.length === 1 ? " is" : "s are"} no longer in this download: processed images are kept for ${resultRetentionDays()} days after they are made, then deleted.`,
    "Your originals are backed up in Shopify Files and can still be restored. To get a processed image again, select it in the app and run a new batch.",
    "",
    ...names,
    "",
  ].join("\n");
}

/**
 * Null when the batch is not this shop's. Items without a processed image are left out; those whose image expired
 * are named in EXPIRED.txt. `count` is the number of images in the ZIP.
 */
export async function streamBatchZip(
  db: PrismaClient,
  shop: string,
  batchId: string,
): Promise<{ stream: ReadableStream<Uint8Array>; filename: string; count: number } | null> {
  const batch = await db.batch.findFirst({ where: { id: batchId, shop }, select: { id: true, pipeline: true } });
  if (!batch) return null;
  const items = await db.batchItem.findMany({
    where: { batchId, shop, resultImageId: { not: null } },
    select: { id: true, productTitle: true, position: true, resultImageId: true },
    orderBy: [{ productTitle: "asc" }, { position: "asc" }],
  });
  const images = await db.storedImage.findMany({
    where: { shop, id: { in: items.map((item) => item.resultImageId!) } },
    select: { id: true, expiredAt: true, mimeType: true },
  });
  const imageById = new Map(images.map((image) => [image.id, image]));
  const used = new Set<string>();
  const entries = items.map((item) => {
    const image = imageById.get(item.resultImageId!);
    const ext = fileExtensionFor(image?.mimeType) ?? "jpg";
    let name = `${slug(item.productTitle)}-${item.position}.${ext}`;
    if (used.has(name)) name = `${slug(item.productTitle)}-${item.position}-${item.id.slice(0, 8)}.${ext}`;
    used.add(name);
    return { item, name, expired: Boolean(image?.expiredAt) };
  });
  const kept = entries.filter((entry) => !entry.expired);
  const expired = entries
    .filter((entry) => entry.expired)
    .map(({ item, name }) => `${name} (${item.productTitle}, image ${item.position})`);

  const archive = archiver("zip", { store: true });
  const output = new PassThrough();
  archive.on("warning", (error) => logger.warn({ batchId, err: error.message }, "zip warning"));
  archive.on("error", (error) => output.destroy(error));
  archive.pipe(output);

  void (async () => {
    if (expired.length) archive.append(expiredNote(expired), { name: EXPIRED_NOTE_NAME });
    for (const { item, name } of kept) {
      const image = await findStoredImageById(db, shop, item.resultImageId!);
      if (!image) continue;
      archive.append(image.bytes, { name });
      // Wait until archiver has consumed this entry before loading the next image.
      await new Promise<void>((resolve) => archive.once("entry", () => resolve()));
    }
    await archive.finalize();
  })().catch((error: Error) => {
    logger.error({ batchId, err: error.message }, "zip failed");
    output.destroy(error);
  });

  return {
    stream: Readable.toWeb(output) as ReadableStream<Uint8Array>,
    filename: `batch-${batch.pipeline}-${batch.id.slice(0, 8)}.zip`,
    count: kept.length,
  };
}
