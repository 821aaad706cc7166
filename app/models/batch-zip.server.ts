/**
 * A batch's processed images as a ZIP, streamed: archiver pulls one image at a time from the
 * database, so memory stays at about one image however large the batch is.
 */
import { PassThrough, Readable } from "node:stream";
import type { PrismaClient } from "@prisma/client";
import archiver from "archiver";
import { logger } from "~/lib/logger.server";
import { findStoredImageById } from "~/models/stored-images.server";

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "image";
}

function extension(mimeType: string): string {
  return mimeType === "image/png" ? "png" : mimeType === "image/webp" ? "webp" : "jpg";
}

/** Null when the batch is not this shop's. Items without a processed image are left out. */
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
  const archive = archiver("zip", { store: true });
  const output = new PassThrough();
  archive.on("warning", (error) => logger.warn({ batchId, err: error.message }, "zip warning"));
  archive.on("error", (error) => output.destroy(error));
  archive.pipe(output);

  void (async () => {
    const used = new Set<string>();
    for (const item of items) {
      const image = await findStoredImageById(db, shop, item.resultImageId!);
      if (!image) continue;
      let name = `${slug(item.productTitle)}-${item.position}.${extension(image.mimeType)}`;
      if (used.has(name)) name = `${slug(item.productTitle)}-${item.position}-${item.id.slice(0, 8)}.${extension(image.mimeType)}`;
      used.add(name);
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
    count: items.length,
  };
}
