/**
 * Processed images (the worker's checkpoint, the result cache and the ZIP's source): bytes in the object store, a row
 * of metadata in PostgreSQL, kept RESULT_RETENTION_DAYS; and backups of originals in Shopify Files, recorded once per
 * (shop, mediaId), kept as long as the app is installed (restore never depends on our retention).
 */
import { createHash, randomUUID } from "node:crypto";
import { Prisma, type PrismaClient } from "@prisma/client";
import { getConfig } from "~/lib/config.server";
import { updatedIfMatched } from "~/lib/guarded-update.server";
import { logger } from "~/lib/logger.server";
import { PREVIEW_WIDTHS, previewJpeg, type PreviewWidth } from "~/imaging/preview";
import { objectStore, type ObjectStore } from "~/lib/object-store.server";
import { ShopifyApiError, type AdminGraphql } from "~/lib/admin-graphql.server";
import {
  createBackupFile,
  getMediaImage,
  gidNumber,
  replaceMediaImage,
  waitForFileReady,
  ShopifyFileFailedError,
} from "~/models/catalog.server";
import { fileExtensionFor } from "~/imaging/inspect";

export interface StoredImageData {
  id: string;
  bytes: Buffer;
  mimeType: string;
  width: number;
  height: number;
}

/** Processed images are kept this long for re-download, the before/after view and the result cache. */
export function resultRetentionDays(): number {
  return getConfig().RESULT_RETENTION_DAYS;
}

/**
 * Legacy rows still carry their bytes; they travel as base64 text in SQL because Prisma's pg adapter turns a Bytes
 * column into an array of numbers (a 500 KB image becomes half a million JS numbers).
 */
interface StoredImageRow {
  id: string;
  mimeType: string;
  width: number;
  height: number;
  objectKey: string | null;
  base64: string | null;
}

function objectKeyFor(shop: string, cacheKey: string): string {
  return `processed/${shop}/${createHash("sha256").update(cacheKey).digest("hex")}`;
}

/**
 * Stores processed bytes under (shop, cacheKey): the object first, then the row, so a row never names a missing
 * object. A second save of the same key keeps the first, unless that one has expired.
 */
export async function saveStoredImage(
  db: PrismaClient,
  shop: string,
  cacheKey: string,
  image: { bytes: Buffer; mimeType: string; width: number; height: number },
  store: ObjectStore = objectStore(),
): Promise<{ id: string }> {
  const objectKey = objectKeyFor(shop, cacheKey);
  await store.put(objectKey, image.bytes, image.mimeType);
  const [row] = await db.$queryRaw<Array<{ id: string }>>`
    WITH saved AS (
      INSERT INTO "StoredImage" ("id", "shop", "cacheKey", "mimeType", "width", "height", "objectKey")
      VALUES (${randomUUID()}, ${shop}, ${cacheKey}, ${image.mimeType}, ${image.width}, ${image.height}, ${objectKey})
      ON CONFLICT ("shop", "cacheKey") DO UPDATE
        SET "objectKey" = EXCLUDED."objectKey", "mimeType" = EXCLUDED."mimeType", "width" = EXCLUDED."width",
            "height" = EXCLUDED."height", "createdAt" = now(), "expiredAt" = NULL
        WHERE "StoredImage"."expiredAt" IS NOT NULL
      RETURNING "id"
    )
    SELECT "id" FROM saved
    UNION ALL
    SELECT "id" FROM "StoredImage" WHERE "shop" = ${shop} AND "cacheKey" = ${cacheKey}
    LIMIT 1`;
  if (row) return row;
  // Another job stored the same key at the same moment, after this statement's snapshot was taken.
  const [existing] = await db.$queryRaw<
    Array<{ id: string }>
  >`SELECT "id" FROM "StoredImage" WHERE "shop" = ${shop} AND "cacheKey" = ${cacheKey}`;
  if (!existing) throw new Error("the processed image could not be stored");
  return existing;
}

async function findStoredImage(db: PrismaClient, shop: string, where: Prisma.Sql, store: ObjectStore): Promise<StoredImageData | null> {
  const [row] = await db.$queryRaw<StoredImageRow[]>`
    SELECT "id", "mimeType", "width", "height", "objectKey", encode("bytes", 'base64') AS "base64"
    FROM "StoredImage" WHERE "shop" = ${shop} AND "expiredAt" IS NULL AND ${where} LIMIT 1`;
  if (!row) return null;
  const bytes = row.base64 !== null ? Buffer.from(row.base64, "base64") : row.objectKey ? await store.get(row.objectKey) : null;
  if (!bytes) {
    logger.warn({ shop, storedImageId: row.id }, "a processed image's bytes are missing from the object store");
    return null;
  }
  return { id: row.id, bytes, mimeType: row.mimeType, width: row.width, height: row.height };
}

export async function findStoredImageByKey(
  db: PrismaClient,
  shop: string,
  cacheKey: string,
  store: ObjectStore = objectStore(),
): Promise<StoredImageData | null> {
  return findStoredImage(db, shop, Prisma.sql`"cacheKey" = ${cacheKey}`, store);
}

export async function findStoredImageById(
  db: PrismaClient,
  shop: string,
  id: string,
  store: ObjectStore = objectStore(),
): Promise<StoredImageData | null> {
  return findStoredImage(db, shop, Prisma.sql`"id" = ${id}`, store);
}

/** The processed image of an item, for before/after views and the ZIP. Null when there is none (yet, or any more). */
export async function getProcessedImage(
  db: PrismaClient,
  shop: string,
  itemId: string,
): Promise<{ bytes: Buffer; mimeType: string } | null> {
  const item = await db.batchItem.findFirst({ where: { id: itemId, shop }, select: { resultImageId: true } });
  if (!item?.resultImageId) return null;
  const image = await findStoredImageById(db, shop, item.resultImageId);
  return image ? { bytes: image.bytes, mimeType: image.mimeType } : null;
}

/** Where an encoded preview of a stored object is kept, beside it (deleted with it). */
function previewKeyFor(objectKey: string, width: PreviewWidth): string {
  return `${objectKey}.w${width}`;
}

export type ProcessedPreview = { etag: string } & ({ notModified: true } | { notModified: false; bytes: Buffer; mimeType: string });

/**
 * A smaller JPEG of an item's processed image (the batch gallery's tiles and comparison), or null like
 * getProcessedImage. Encoded once per image and width and kept in the object store beside the image; its ETag names
 * the stored image and when it was made, so a browser that sends it back (If-None-Match) gets `notModified` without
 * anything being read or encoded, and a new result of the item gets a new ETag.
 */
export async function getProcessedPreview(
  db: PrismaClient,
  shop: string,
  itemId: string,
  width: PreviewWidth,
  opts: { ifNoneMatch?: string | null; store?: ObjectStore } = {},
): Promise<ProcessedPreview | null> {
  const item = await db.batchItem.findFirst({ where: { id: itemId, shop }, select: { resultImageId: true } });
  if (!item?.resultImageId) return null;
  const row = await db.storedImage.findFirst({
    where: { id: item.resultImageId, shop, expiredAt: null },
    select: { id: true, createdAt: true, objectKey: true },
  });
  if (!row) return null;
  const etag = `"${createHash("sha256").update(`${row.id}:${row.createdAt.getTime()}:${width}`).digest("base64url").slice(0, 27)}"`;
  if (opts.ifNoneMatch && opts.ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    return { etag, notModified: true };
  }
  const store = opts.store ?? objectStore();
  const previewKey = row.objectKey ? previewKeyFor(row.objectKey, width) : null;
  const cached = previewKey ? await store.get(previewKey) : null;
  if (cached) return { etag, notModified: false, bytes: cached, mimeType: "image/jpeg" };
  const image = await findStoredImageById(db, shop, row.id, store);
  if (!image) return null;
  const bytes = await previewJpeg(image.bytes, width);
  if (previewKey) await store.put(previewKey, bytes, "image/jpeg");
  return { etag, notModified: false, bytes, mimeType: "image/jpeg" };
}

/** An object's key and the keys of the previews that may have been kept beside it. */
function withPreviewKeys(objectKey: string): string[] {
  return [objectKey, ...PREVIEW_WIDTHS.map((width) => previewKeyFor(objectKey, width))];
}

/**
 * Deletes the bytes of processed images older than the retention, keeping their rows (what was made, when) and any
 * image an item still waits on a merchant's review for. Returns how many expired.
 */
export async function expireStoredImages(
  db: PrismaClient,
  opts: { now?: Date; retentionDays?: number; limit?: number; store?: ObjectStore } = {},
): Promise<number> {
  const store = opts.store ?? objectStore();
  const cutoff = new Date((opts.now ?? new Date()).getTime() - (opts.retentionDays ?? resultRetentionDays()) * 86_400_000);
  const due = await db.$queryRaw<Array<{ id: string; objectKey: string | null }>>`
    SELECT s."id", s."objectKey" FROM "StoredImage" s
    WHERE s."createdAt" < ${cutoff} AND s."expiredAt" IS NULL
      AND NOT EXISTS (SELECT 1 FROM "BatchItem" i WHERE i."resultImageId" = s."id" AND i."state" = 'NEEDS_REVIEW')
    ORDER BY s."createdAt" LIMIT ${opts.limit ?? 500}`;
  if (due.length === 0) return 0;
  await db.storedImage.updateMany({
    where: { id: { in: due.map((r) => r.id) } },
    data: { expiredAt: new Date(), objectKey: null, bytes: null },
  });
  await store.delete(due.flatMap((r) => (r.objectKey ? withPreviewKeys(r.objectKey) : [])));
  return due.length;
}

/** Moves rows that still hold their bytes in PostgreSQL to the object store, a few at a time. Returns how many moved. */
export async function moveStoredImagesToObjectStore(db: PrismaClient, opts: { limit?: number; store?: ObjectStore } = {}): Promise<number> {
  const store = opts.store ?? objectStore();
  const rows = await db.$queryRaw<Array<{ id: string; shop: string; cacheKey: string; mimeType: string; base64: string }>>`
    SELECT "id", "shop", "cacheKey", "mimeType", encode("bytes", 'base64') AS "base64"
    FROM "StoredImage" WHERE "bytes" IS NOT NULL ORDER BY "createdAt" LIMIT ${opts.limit ?? 50}`;
  for (const row of rows) {
    const objectKey = objectKeyFor(row.shop, row.cacheKey);
    await store.put(objectKey, Buffer.from(row.base64, "base64"), row.mimeType);
    await db.storedImage.updateMany({ where: { id: row.id }, data: { objectKey, bytes: null } });
  }
  return rows.length;
}

/** Deletes a shop's processed images from the object store (before its rows go, on shop/redact). */
export async function deleteStoredImagesOfShop(db: PrismaClient, shop: string, store: ObjectStore = objectStore()): Promise<void> {
  const rows = await db.storedImage.findMany({ where: { shop, objectKey: { not: null } }, select: { objectKey: true } });
  await store.delete(rows.flatMap((r) => withPreviewKeys(r.objectKey!)));
}

// ---------------------------------------------------------------------------------------------------
// Backups of originals

function extensionFor(mimeType: string | null, url: string): string {
  const known = fileExtensionFor(mimeType);
  if (known) return known;
  const match = /\.([a-z0-9]{3,4})(?:\?|$)/i.exec(new URL(url).pathname);
  return match?.[1]?.toLowerCase() ?? "jpg";
}

/**
 * Makes sure the original of a media is copied to Shopify Files before its first replacement. The
 * row is written first (unique per shop+media) and the file id after fileCreate, so a crash between
 * the two only repeats the copy; the FIRST original is kept even if the media is processed again later.
 */
export async function ensureOriginalBackedUp(
  db: PrismaClient,
  graphql: AdminGraphql,
  shop: string,
  item: { mediaId: string; productId: string; sourceUrl: string; sourceMimeType: string | null; alt: string | null },
): Promise<{ id: string; fileId: string; fileUrl: string | null }> {
  // The row comes back whether this call made it or an earlier run did. One statement: Prisma's upsert takes five.
  const [backup] = await db.$queryRaw<Array<{ id: string; originalUrl: string; fileId: string | null; fileUrl: string | null }>>`
    INSERT INTO "ImageBackup" ("id", "shop", "mediaId", "productId", "originalUrl", "createdAt")
    VALUES (${randomUUID()}, ${shop}, ${item.mediaId}, ${item.productId}, ${item.sourceUrl}, (now() AT TIME ZONE 'UTC'))
    ON CONFLICT ("shop", "mediaId") DO UPDATE SET "shop" = EXCLUDED."shop"
    RETURNING "id", "originalUrl", "fileId", "fileUrl"`;
  if (!backup) throw new Error(`no backup row for ${item.mediaId}`);
  if (backup.fileId) return { id: backup.id, fileId: backup.fileId, fileUrl: backup.fileUrl };
  const { fileId } = await createBackupFile(graphql, {
    originalUrl: backup.originalUrl,
    alt: item.alt,
    filename: `original-${gidNumber(item.mediaId)}.${extensionFor(item.sourceMimeType, backup.originalUrl)}`,
  });
  const recorded = await updatedIfMatched(
    db.imageBackup.update({ where: { id: backup.id, fileId: null }, data: { fileId }, select: { id: true } }),
  );
  if (recorded) return { id: backup.id, fileId, fileUrl: null };
  // Another run recorded its copy first: that one is kept.
  const saved = await db.imageBackup.findUniqueOrThrow({ where: { id: backup.id } });
  return { id: saved.id, fileId: saved.fileId ?? fileId, fileUrl: saved.fileUrl };
}

/** The URL of the backed-up original (waits for the Files copy to be READY the first time). */
async function backupUrl(db: PrismaClient, graphql: AdminGraphql, shop: string, mediaId: string): Promise<string> {
  const backup = await db.imageBackup.findUnique({ where: { shop_mediaId: { shop, mediaId } } });
  if (!backup?.fileId) throw new ShopifyApiError("There is no backup of this image's original, so it cannot be restored.", 404);
  if (backup.fileUrl) return backup.fileUrl;
  const file = await waitForFileReady(graphql, backup.fileId, { timeoutMs: 60_000, acknowledgeFailure: false });
  if (!file.url) throw new ShopifyApiError("The backup of this image has no URL in Shopify Files.", 503);
  await db.imageBackup.update({ where: { id: backup.id }, data: { fileUrl: file.url } });
  return file.url;
}

/**
 * The original is safely copied only once its Files copy is READY: Shopify downloads a fileCreate
 * source asynchronously, so replacing the media before then could back up the new image instead, and
 * a FAILED copy would leave nothing to restore. The worker calls this before every fileUpdate.
 * A failed copy is forgotten (fileId cleared) so a later batch tries the backup again.
 */
export async function ensureBackupReady(
  db: PrismaClient,
  graphql: AdminGraphql,
  shop: string,
  item: { mediaId: string; productId: string; sourceUrl: string; sourceMimeType: string | null; alt: string | null },
  /** The row as ensureOriginalBackedUp just returned it; read here without it. */
  opts: { timeoutMs: number; backup?: { id: string; fileId: string; fileUrl: string | null } },
): Promise<string> {
  // The worker has just made sure of the copy (ensureOriginalBackedUp), so it is rarely made here.
  const row = opts.backup ?? (await db.imageBackup.findUnique({ where: { shop_mediaId: { shop, mediaId: item.mediaId } } }));
  const backup = row?.fileId
    ? { id: row.id, fileId: row.fileId, fileUrl: row.fileUrl }
    : await ensureOriginalBackedUp(db, graphql, shop, item);
  if (backup.fileUrl) return backup.fileUrl;
  const { fileId } = backup;
  try {
    const file = await waitForFileReady(graphql, fileId, { timeoutMs: opts.timeoutMs, acknowledgeFailure: false });
    if (!file.url) throw new ShopifyApiError("The backup of this image has no URL in Shopify Files yet", 503);
    await updatedIfMatched(db.imageBackup.update({ where: { id: backup.id, fileId }, data: { fileUrl: file.url }, select: { id: true } }));
    return file.url;
  } catch (error) {
    if (error instanceof ShopifyFileFailedError) {
      await db.imageBackup.updateMany({ where: { id: backup.id, fileId }, data: { fileId: null } });
      throw new ShopifyFileFailedError(
        `The original could not be backed up in Shopify Files, so the image was not replaced: ${error.merchantMessage}`,
      );
    }
    throw error;
  }
}

/** fileUpdate the media back to its original (same MediaImage id) and wait until Shopify shows it. */
/** `alt`: the original's alt text, put back with it when the app had written its own. */
export async function restoreMediaFromBackup(
  db: PrismaClient,
  graphql: AdminGraphql,
  shop: string,
  mediaId: string,
  opts: { alt?: string } = {},
): Promise<void> {
  const url = await backupUrl(db, graphql, shop, mediaId);
  const current = await getMediaImage(graphql, mediaId);
  if (!current) throw new ShopifyApiError("This image is no longer on the product, so it cannot be restored.", 404);
  await replaceMediaImage(graphql, { mediaId, originalSource: url, ...opts });
  await waitForFileReady(graphql, mediaId, { timeoutMs: 120_000 });
  logger.info({ shop, mediaId }, "original restored");
}

/**
 * Where the ORIGINAL of each media can be seen once it was replaced: its backup copy in Shopify Files.
 * The product image's own URL shows whatever the product has now, so it cannot be the "before".
 */
export async function originalImageUrls(db: PrismaClient, shop: string, mediaIds: string[]): Promise<Record<string, string>> {
  if (mediaIds.length === 0) return {};
  const backups = await db.imageBackup.findMany({
    where: { shop, mediaId: { in: mediaIds }, fileUrl: { not: null } },
    select: { mediaId: true, fileUrl: true },
  });
  return Object.fromEntries(backups.map((b) => [b.mediaId, b.fileUrl!]));
}
