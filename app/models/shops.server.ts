import type { PrismaClient } from "@prisma/client";
import { grantWelcomeCredits } from "./credits.server";
import { wasShopRedacted } from "./lifecycle.server";

/** Records an install (or a reinstall) of the app on a shop. Called after every token exchange. */
export async function recordInstall(db: PrismaClient, shop: string, scopes: string | null): Promise<void> {
  await db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, scopes },
    // installedAt moves on a reinstall so an app/uninstalled webhook from before it is recognised as stale.
    update: { installedAt: new Date(), uninstalledAt: null, scopes },
  });
  // Idempotent by its ledger key, so a reinstall does not grant again. shop/redact erases the ledger, so a
  // shop that comes back after an erasure is recognised by the erasure record (a hash) instead.
  if (!(await wasShopRedacted(db, shop))) await grantWelcomeCredits(db, shop);
}

export async function getShop(db: PrismaClient, shop: string) {
  return db.shop.findUnique({ where: { domain: shop } });
}
