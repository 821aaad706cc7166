import type { PrismaClient } from "@prisma/client";

/** Records an install (or a reinstall) of the app on a shop. Called after every token exchange. */
export async function recordInstall(db: PrismaClient, shop: string, scopes: string | null): Promise<void> {
  await db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, scopes },
    update: { uninstalledAt: null, scopes },
  });
}

export async function getShop(db: PrismaClient, shop: string) {
  return db.shop.findUnique({ where: { domain: shop } });
}
