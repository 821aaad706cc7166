import type { PrismaClient } from "@prisma/client";

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
