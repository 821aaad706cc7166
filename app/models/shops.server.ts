import type { PrismaClient } from "@prisma/client";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { logger } from "~/lib/logger.server";
import { grantWelcomeCredits } from "./credit-ledger.server";
import { wasShopRedacted } from "./lifecycle.server";
import { recordShopPlan } from "./shopify-purchases.server";

/**
 * Records an install (or a reinstall) of the app on a shop, reads its plan (a development store's welcome credits
 * count against its cap of free credits), then gives the welcome credits. Called after every token exchange.
 */
export async function recordInstall(deps: { db: PrismaClient; graphql: AdminGraphql }, shop: string, scopes: string | null): Promise<void> {
  await deps.db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, scopes },
    // installedAt moves on a reinstall so an app/uninstalled webhook from before it is recognised as stale.
    update: { installedAt: new Date(), uninstalledAt: null, scopes },
  });
  try {
    await recordShopPlan(deps, shop);
  } catch (error) {
    // Opening the app must not fail for this; the welcome credits wait for the next token exchange that reads it.
    logger.warn({ shop, err: error }, "shop plan not read at install: welcome credits wait");
  }
  await grantWelcomeCreditsOnce(deps.db, shop);
}

/**
 * Idempotent by its ledger key, so a reinstall does not grant again. shop/redact erases the ledger, so a shop that
 * comes back after an erasure is recognised by the erasure record (a hash) instead.
 */
export async function grantWelcomeCreditsOnce(db: PrismaClient, shop: string): Promise<void> {
  if (!(await wasShopRedacted(db, shop))) await grantWelcomeCredits(db, shop);
}
