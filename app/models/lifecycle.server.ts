import { createHash, createHmac } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import type { JobType } from "bullmq";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { deleteStoredImagesOfShop } from "~/models/stored-images.server";

/**
 * What happens to a shop's data when the app is uninstalled, its scopes change, or Shopify asks for
 * a privacy redaction. Every function here is safe to run twice and after the data is gone.
 */

/** Cancels the shop's queued jobs and releases their credit reservations (batches.cancelShopWork). */
export type CancelShopWork = (shop: string) => Promise<unknown>;

/** The part of a BullMQ Queue used to drop a shop's leftover jobs (typed structurally). */
export interface ShopJobQueue {
  getJobs(types: JobType[], start?: number, end?: number, asc?: boolean): Promise<Array<ShopJob | undefined>>;
}
interface ShopJob {
  data: unknown;
  remove(): Promise<void>;
}

export interface UninstallResult {
  /** False when the delivery predates the current install (a reinstall happened since). */
  applied: boolean;
  sessionsDeleted: number;
}

/**
 * app/uninstalled: mark the shop uninstalled, cancel queued work (releasing its credits), delete the shop's
 * sessions. Credits, purchases and history stay, so a reinstall finds them.
 * `triggeredAt` (X-Shopify-Triggered-At) lets a late delivery that predates a reinstall be ignored.
 */
export async function uninstallShop(
  deps: { db: PrismaClient; cancelShopWork: CancelShopWork },
  shop: string,
  options: { triggeredAt?: Date } = {},
): Promise<UninstallResult> {
  const { db } = deps;
  const existing = await db.shop.findUnique({ where: { domain: shop }, select: { installedAt: true, uninstalledAt: true } });
  if (existing && existing.uninstalledAt === null && options.triggeredAt && existing.installedAt > options.triggeredAt) {
    logger.info({ shop }, "uninstall webhook predates the current install; ignored");
    return { applied: false, sessionsDeleted: 0 };
  }
  // Marked first: automatic work adds items under a lock on this row and stops once it is marked, so nothing is added
  // after the cancel below. Stamped once this holds the lock, so the items a job was adding meanwhile predate the mark.
  await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "Shop" WHERE domain = ${shop} FOR UPDATE`;
    await tx.shop.updateMany({ where: { domain: shop, uninstalledAt: null }, data: { uninstalledAt: new Date() } });
  });
  await deps.cancelShopWork(shop);
  const { count } = await db.session.deleteMany({ where: { shop } });
  logger.info({ shop, sessionsDeleted: count }, "shop uninstalled");
  return { applied: true, sessionsDeleted: count };
}

/** app/scopes_update: the granted scopes, on the shop's offline session(s) and the Shop row. */
export async function updateGrantedScopes(db: PrismaClient, shop: string, scopes: readonly string[]): Promise<void> {
  const scope = [...new Set(scopes.map((s) => s.trim()).filter(Boolean))].join(",");
  await db.session.updateMany({ where: { shop, isOnline: false }, data: { scope } });
  await db.shop.updateMany({ where: { domain: shop }, data: { scopes: scope } });
  logger.info({ shop, scope }, "scopes updated");
}

/**
 * A one-way stand-in for the shop in compliance records, so proof of handling names no one. Keyed (HMAC-SHA256 with
 * COMPLIANCE_HASH_KEY, else the app's secret): a plain hash of a myshopify domain is reversed by hashing a list of
 * domains, a keyed one only by whoever holds the key.
 */
export function hashShop(shop: string): string {
  const config = getConfig();
  const key = config.COMPLIANCE_HASH_KEY ?? config.SHOPIFY_API_SECRET;
  if (!key) throw new Error("COMPLIANCE_HASH_KEY or SHOPIFY_API_SECRET must be set to record privacy requests");
  return createHmac("sha256", key).update(normalizedShop(shop)).digest("hex");
}

/** How records made before the hash was keyed name the shop (still recognised, never written). */
function legacyShopHash(shop: string): string {
  return createHash("sha256").update(normalizedShop(shop)).digest("hex");
}

function normalizedShop(shop: string): string {
  return shop.trim().toLowerCase();
}

export type ComplianceTopic = "customers/data_request" | "customers/redact" | "shop/redact" | "shop/redact:skipped-installed";

async function recordComplianceRequest(db: PrismaClient, topic: ComplianceTopic, shop: string): Promise<void> {
  await db.complianceRecord.create({ data: { topic, shopHash: hashShop(shop) } });
}

/**
 * customers/data_request and customers/redact: the app stores no customer data (only products'
 * images, credits and purchases), so there is nothing to export or erase; record the handling.
 */
export async function acknowledgeCustomerRequest(
  db: PrismaClient,
  topic: "customers/data_request" | "customers/redact",
  shop: string,
): Promise<void> {
  await recordComplianceRequest(db, topic, shop);
  logger.info({ shop, topic }, "customer privacy request acknowledged (no customer data stored)");
}

/** True when the shop's data was erased by shop/redact before (the shop now reinstalling is not new to us). */
export async function wasShopRedacted(db: PrismaClient, shop: string): Promise<boolean> {
  const hashes = [hashShop(shop), legacyShopHash(shop)];
  return (await db.complianceRecord.count({ where: { topic: "shop/redact", shopHash: { in: hashes } } })) > 0;
}

export type RedactionResult = { erased: true; rows: number } | { erased: false; reason: "installed" };

/**
 * The name a redacted shop's accounting records (purchases, ledger, balance) keep: the keyed hash, so only the key's
 * holder can tell which shop they were, e.g. to answer a tax audit or a chargeback.
 */
export function redactedShopPseudonym(shop: string): string {
  return `redacted:${hashShop(shop)}`;
}

/**
 * shop/redact: erase every row the app holds about the shop (sessions, settings, batches and items,
 * processed images, backups' references, webhook records), drop its leftover queue jobs, then record the
 * erasure under a hash of the shop. Purchases and the credit ledger are accounting records the business must keep:
 * they stay, under redactedShopPseudonym, with nothing in them that names the shop.
 * The originals backed up in the merchant's own Shopify Files are the merchant's and stay there.
 * A shop that is installed again (a live offline session) is not erased: that would break it.
 */
export async function redactShop(
  deps: {
    db: PrismaClient;
    cancelShopWork?: CancelShopWork;
    queue?: ShopJobQueue;
    /** Erases the shop's customer at the payment provider (it is named after the shop); throws to be retried. */
    eraseStripeCustomer?: (customerId: string) => Promise<void>;
  },
  shop: string,
): Promise<RedactionResult> {
  const { db } = deps;
  const [shopRow, liveSessions] = await Promise.all([
    db.shop.findUnique({ where: { domain: shop }, select: { uninstalledAt: true, stripeCustomerId: true } }),
    db.session.count({ where: { shop, isOnline: false } }),
  ]);
  if (shopRow && shopRow.uninstalledAt === null && liveSessions > 0) {
    await recordComplianceRequest(db, "shop/redact:skipped-installed", shop);
    logger.warn({ shop }, "shop/redact for a shop that is installed again; nothing erased");
    return { erased: false, reason: "installed" };
  }

  // First, so that a Stripe outage fails the webhook (Shopify retries it) before anything here is erased.
  if (shopRow?.stripeCustomerId && deps.eraseStripeCustomer) await deps.eraseStripeCustomer(shopRow.stripeCustomerId);
  if (deps.cancelShopWork) await deps.cancelShopWork(shop);
  await deleteStoredImagesOfShop(db, shop);
  const pseudonym = redactedShopPseudonym(shop);

  const counts = await db.$transaction([
    db.batchItem.deleteMany({ where: { shop } }),
    db.batch.deleteMany({ where: { shop } }),
    // Their images (product titles, URLs) go with them (cascade).
    db.catalogRun.deleteMany({ where: { shop } }),
    db.newProductEvent.deleteMany({ where: { shop } }),
    db.storedImage.deleteMany({ where: { shop } }),
    db.imageBackup.deleteMany({ where: { shop } }),
    // Accounting records: kept, renamed to a pseudonym (the balance still equals the ledger's sum under it).
    db.creditReservation.updateMany({ where: { shop }, data: { shop: pseudonym } }),
    db.creditEntry.updateMany({ where: { shop }, data: { shop: pseudonym } }),
    db.creditAccount.updateMany({ where: { shop }, data: { shop: pseudonym } }),
    db.purchase.updateMany({ where: { shop }, data: { shop: pseudonym } }),
    db.webhookEvent.deleteMany({ where: { shop } }),
    db.session.deleteMany({ where: { shop } }),
    db.shop.deleteMany({ where: { domain: shop } }),
    db.complianceRecord.create({ data: { topic: "shop/redact", shopHash: hashShop(shop) } }),
  ]);
  const rows = counts.reduce((sum, result) => sum + ("count" in result ? result.count : 0), 0);
  // Leftover jobs hold only ids and the shop's domain and expire on their own; a Redis outage must not
  // block the erasure of the database, which is what the request is about.
  if (deps.queue) {
    await removeShopJobs(deps.queue, shop).catch((error: unknown) =>
      logger.warn({ err: error, shopHash: hashShop(shop) }, "could not remove a redacted shop's queue jobs"),
    );
  }
  logger.info({ shopHash: hashShop(shop), rows }, "shop data erased");
  return { erased: true, rows };
}

const JOB_PAGE = 500;

/** Removes the shop's jobs that are not running (finished, failed, waiting, delayed). */
async function removeShopJobs(queue: ShopJobQueue, shop: string): Promise<number> {
  const types: JobType[] = ["completed", "failed", "delayed", "waiting", "prioritized", "waiting-children"];
  const matches: ShopJob[] = [];
  // Collect first, remove after, so removals do not shift the pages being read.
  for (let start = 0; ; start += JOB_PAGE) {
    const jobs = await queue.getJobs(types, start, start + JOB_PAGE - 1, true);
    for (const job of jobs) {
      if (job && (job.data as { shop?: unknown } | null)?.shop === shop) matches.push(job);
    }
    if (jobs.length < JOB_PAGE) break;
  }
  let removed = 0;
  for (const job of matches) {
    try {
      await job.remove();
      removed++;
    } catch (error) {
      logger.warn({ err: error, shop }, "could not remove a job of a redacted shop");
    }
  }
  return removed;
}
