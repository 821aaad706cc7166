/**
 * The automatic rule: "clean new product images" without anyone opening the app. Shopify's products/create and
 * products/update webhooks name the product's media; the route keeps only media that are new (created after the rule
 * was turned on, never handled by the app) and enqueues one job per event; the job re-reads the product from Shopify
 * and adds the images to an automatic batch (origin NEW_PRODUCTS), within the monthly budget and the balance.
 *
 * No loops: the app's own write-back (and a restore) replaces a MediaImage in place (fileUpdate keeps its id), so the
 * products/update it causes names media the app already has a batch item for, and nothing starts. An image the
 * merchant restored on purpose keeps its RESTORED item and is never picked again.
 *
 * A store Shopify refuses (frozen or locked, see shop-availability.server.ts) loses no product: the event's job stops
 * before any credit or model call and its event stays open; the resume pass then sends one event of the shop at a time
 * to ask Shopify, and once the store answers the mark is cleared and every waiting event goes through. Images the rule
 * had queued when the store was refused fail (credits back) and open their event again, or keep it open when they fail
 * before its job has closed it: its next job adds each again as a new try (store-refused-tries.server.ts, as catalogue
 * runs do).
 */
import { randomUUID } from "node:crypto";
import { Prisma, type PrismaClient } from "@prisma/client";
import { z } from "zod";
import { isPipelineId, PIPELINE_IDS, type PipelineId } from "~/imaging/pipelines";
import { logger } from "~/lib/logger.server";
import { addFundedItems, FUNDING_LIMITS, type FundedItems, type FundedItemsInput, type FundingLimit } from "~/models/batches.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { getImagesOfProducts } from "~/models/catalog.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { getSettings, pipelineSettingsFrom } from "~/models/settings.server";
import { storedUnavailableStatus, unlessShopRefused, type ShopUnavailableStatus } from "~/models/shop-availability.server";
import { storeRefusedImages, storeRefusedRetry } from "~/models/store-refused-tries.server";
import { RunAgainLater, type AutomationWork, type ImageWork } from "~/models/work-queues.server";
import { checkboxField, choiceField, fieldErrors, optionalCreditsField } from "~/lib/form-fields";
import { storedMessage, type MerchantMessage } from "~/lib/merchant-message";

const AUTO_RULE_IMAGES = ["all", "featured"] as const;
export const MAX_MONTHLY_BUDGET = 1_000_000;

export interface AutoRule {
  enabled: boolean;
  pipeline: PipelineId;
  /** Every image of a new product, or only its featured (first) one. */
  images: (typeof AUTO_RULE_IMAGES)[number];
  reviewBeforePublish: boolean;
  /** Credits per UTC calendar month; null = no budget beyond the balance. */
  monthlyBudget: number | null;
}

export interface AutoRuleState extends AutoRule {
  enabledAt: Date | null;
  pausedAt: Date | null;
  pausedFor: FundingLimit | null;
  pauseReason: string | null;
  /** The pause reason as a merchant message, for the viewer's language. */
  pauseMessage: MerchantMessage | null;
  /** Credits the rule used (held or spent) this month. */
  spentThisMonth: number;
}

export type AutoRuleErrors = Partial<Record<keyof AutoRule, string>>;

const autoRuleSchema = z.object({
  enabled: checkboxField,
  pipeline: choiceField(PIPELINE_IDS, `Choose one of the pipelines: ${PIPELINE_IDS.join(", ")}.`),
  images: choiceField(AUTO_RULE_IMAGES, "Choose all images or only the featured image."),
  reviewBeforePublish: checkboxField,
  monthlyBudget: optionalCreditsField({
    min: CREDITS_PER_IMAGE,
    minLabel: "one image",
    max: MAX_MONTHLY_BUDGET,
    empty: "to use only your balance",
  }),
});

export function parseAutoRule(input: Record<string, unknown>): { ok: true; rule: AutoRule } | { ok: false; errors: AutoRuleErrors } {
  const parsed = autoRuleSchema.safeParse(input);
  if (parsed.success) return { ok: true, rule: parsed.data as AutoRule };
  return { ok: false, errors: fieldErrors<keyof AutoRule>(parsed.error.issues) };
}

function startOfUtcMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * Credits the rule's batches hold or spent on images added since the start of this UTC month (credits given back do
 * not count). By the reservation's time, not the batch's: an image added again into an older batch counts this month.
 */
export async function autoRuleSpentThisMonth(db: Pick<PrismaClient, "$queryRaw">, shop: string, now = new Date()): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ spent: number }>>`
    SELECT COALESCE(SUM(r.amount), 0)::int AS spent
    FROM "CreditReservation" r JOIN "BatchItem" i ON i.id = r."batchItemId" JOIN "Batch" b ON b.id = i."batchId"
    WHERE r.shop = ${shop} AND r.state IN ('HELD', 'CAPTURED') AND b.origin = 'NEW_PRODUCTS' AND r."createdAt" >= ${startOfUtcMonth(now)}`;
  return row?.spent ?? 0;
}

export async function getAutoRule(db: PrismaClient, shop: string, now = new Date()): Promise<AutoRuleState> {
  const row = await db.shop.findUnique({ where: { domain: shop } });
  return {
    enabled: row?.autoCleanEnabled ?? false,
    pipeline: row && isPipelineId(row.autoCleanPipeline) ? row.autoCleanPipeline : "amazon",
    images: row?.autoCleanImages === "featured" ? "featured" : "all",
    reviewBeforePublish: row?.autoCleanReview ?? true,
    monthlyBudget: row?.autoCleanMonthlyBudget ?? null,
    enabledAt: row?.autoCleanEnabledAt ?? null,
    pausedAt: row?.autoCleanPausedAt ?? null,
    pausedFor: FUNDING_LIMITS.find((limit) => limit === row?.autoCleanPausedFor) ?? null,
    pauseReason: row?.autoCleanPauseReason ?? null,
    pauseMessage: storedMessage(row?.autoCleanPauseMessage),
    spentThisMonth: row ? await autoRuleSpentThisMonth(db, shop, now) : 0,
  };
}

/**
 * Stores the rule. Turning it on starts the clock for "new" media (images already in the store are not touched;
 * a whole-catalogue run is for those). Saving also resumes a paused rule: the merchant has seen why it stopped.
 */
export async function saveAutoRule(
  db: PrismaClient,
  shop: string,
  input: Record<string, unknown>,
  now = new Date(),
): Promise<{ ok: true; rule: AutoRuleState } | { ok: false; errors: AutoRuleErrors }> {
  const parsed = parseAutoRule(input);
  if (!parsed.ok) return parsed;
  const { rule } = parsed;
  const current = await db.shop.findUnique({ where: { domain: shop }, select: { autoCleanEnabled: true, autoCleanEnabledAt: true } });
  const data = {
    autoCleanEnabled: rule.enabled,
    autoCleanEnabledAt: rule.enabled ? (current?.autoCleanEnabled && current.autoCleanEnabledAt ? current.autoCleanEnabledAt : now) : null,
    autoCleanPipeline: rule.pipeline,
    autoCleanImages: rule.images,
    autoCleanReview: rule.reviewBeforePublish,
    autoCleanMonthlyBudget: rule.monthlyBudget,
    autoCleanPausedAt: null,
    autoCleanPausedFor: null,
    autoCleanPauseReason: null,
    autoCleanPauseMessage: Prisma.DbNull,
  };
  await db.shop.upsert({ where: { domain: shop }, create: { domain: shop, ...data }, update: data });
  return { ok: true, rule: await getAutoRule(db, shop, now) };
}

/** What products/create and products/update carry that the rule reads (REST product shape, media since 2024-07). */
export const productWebhookSchema = z.object({
  admin_graphql_api_id: z.string().startsWith("gid://shopify/Product/"),
  media: z
    .array(
      z.object({
        admin_graphql_api_id: z.string(),
        position: z.number().int(),
        created_at: z.string(),
        media_content_type: z.string().optional(),
      }),
    )
    .nullish()
    .transform((media) => media ?? []),
});

export type ProductWebhook = z.infer<typeof productWebhookSchema>;

/**
 * Called by the products/create and products/update routes: enqueues one job for the event when it names new media
 * the rule should clean, so the route answers fast. Returns what it did (for logs and tests).
 */
export async function acceptProductWebhook(
  deps: { db: PrismaClient; queue: AutomationWork },
  shop: string,
  eventId: string,
  payload: ProductWebhook,
): Promise<"rule-off" | "nothing-new" | "enqueued"> {
  const rule = await deps.db.shop.findUnique({
    where: { domain: shop },
    select: { autoCleanEnabled: true, autoCleanEnabledAt: true, autoCleanImages: true, uninstalledAt: true },
  });
  if (!rule?.autoCleanEnabled || !rule.autoCleanEnabledAt || rule.uninstalledAt) return "rule-off";
  const enabledAt = rule.autoCleanEnabledAt.getTime();
  const fresh = payload.media.filter(
    (m) =>
      m.admin_graphql_api_id.startsWith("gid://shopify/MediaImage/") &&
      (m.media_content_type ?? "IMAGE") === "IMAGE" &&
      Date.parse(m.created_at) >= enabledAt &&
      (rule.autoCleanImages !== "featured" || m.position === 1),
  );
  if (fresh.length === 0) return "nothing-new";
  const ids = fresh.map((m) => m.admin_graphql_api_id);
  // The app's own write-back and restores name media it already has: those start nothing.
  const known = await deps.db.batchItem.findMany({
    where: { shop, mediaId: { in: ids } },
    select: { mediaId: true },
    distinct: ["mediaId"],
  });
  const knownIds = new Set(known.map((k) => k.mediaId));
  const mediaIds = ids.filter((id) => !knownIds.has(id));
  if (mediaIds.length === 0) return "nothing-new";
  // Recorded first: if Redis loses the job, or a pause leaves images out, the resume pass finds the event here.
  const recorded = await deps.db.newProductEvent.createMany({
    data: [{ id: eventId, shop, queue: deps.queue.name, productId: payload.admin_graphql_api_id, mediaIds }],
    skipDuplicates: true,
  });
  // A replay of an event already recorded adds nothing: the first delivery's job (or the resume pass) handles it.
  if (recorded.count === 1) await deps.queue.enqueueNewProductMedia(eventId, { shop, productId: payload.admin_graphql_api_id, mediaIds });
  return "enqueued";
}

/** Longer than a budget pause (to the next month), so what arrived during one is cleaned when it ends. */
const EVENT_GIVE_UP_MS = 35 * 24 * 3600 * 1000;

/** Gives the event up (the rule is off, the app gone, or it waited too long): the resume pass leaves a closed event. */
async function closeNewProductEvent(db: PrismaClient, shop: string, eventId: string): Promise<void> {
  await db.newProductEvent.updateMany({ where: { id: eventId, shop, doneAt: null }, data: { doneAt: new Date() } });
}

/**
 * The event's job queued its images (or there was nothing the rule could take): the event closes, unless one of the
 * images the job read (`mediaIds`) has failed since because Shopify refused the store, which the worker can do before
 * this runs, while reopenNewProductEventOf still finds the event open. Such an event stays open, so its next job adds
 * the image again. The event's row is locked while looking, and reopenNewProductEventOf waits for that lock: a failure
 * landing as the event closes reopens it after. The worker's transaction holds the item's row while it waits; this one
 * only reads items (no lock), so the two never wait on each other.
 */
async function finishNewProductEvent(db: PrismaClient, shop: string, eventId: string, mediaIds: string[]): Promise<void> {
  await db.$transaction(
    async (tx) => {
      const open = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM "NewProductEvent" WHERE id = ${eventId} AND shop = ${shop} AND "doneAt" IS NULL FOR UPDATE`;
      if (open.length === 0) return;
      const refused = await storeRefusedImages(tx, shop, { mediaId: { in: mediaIds }, batch: { origin: "NEW_PRODUCTS" } });
      if (refused.again.length > 0) return;
      await tx.newProductEvent.update({ where: { id: eventId }, data: { doneAt: new Date() } });
    },
    { maxWait: 15_000, timeout: 15_000 },
  );
}

/**
 * The worker failed an item because Shopify refused the store: when the rule queued it, the event that did is open
 * again, so the resume pass sends it to ask Shopify and, once the store answers, its job adds the image again
 * (cleanNewProductMedia), as a catalogue run adds its own. Whatever the event's state: one its job is closing right now
 * is waited for and reopened (finishNewProductEvent). Runs in the transaction that moves the item to FAILED (failItem's
 * `withFailure`): a crash or an error here leaves the item in flight and the event as it was, for the job's retry,
 * never a failed image whose event stays closed.
 */
export async function reopenNewProductEventOf(db: Prisma.TransactionClient, shop: string, itemId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "NewProductEvent" e SET "doneAt" = NULL
    FROM "BatchItem" i JOIN "Batch" b ON b.id = i."batchId"
    WHERE i.id = ${itemId} AND i.shop = ${shop} AND b.origin = 'NEW_PRODUCTS'
      AND e.shop = i.shop AND e."productId" = i."productId" AND i."mediaId" = ANY(e."mediaIds")`;
}

/**
 * The workers' resume pass (with the catalogue runs'): enqueues again the events of this queue not done whose job is
 * gone, once the rule may run (on, and not paused, or its pause has ended), so products that arrived during a pause
 * are cleaned when the merchant resumes the rule. Events of a shop that turned the rule off or uninstalled are closed.
 */
export async function resumeNewProductEvents(db: PrismaClient, queue: AutomationWork, now = new Date()): Promise<number> {
  const events = await db.newProductEvent.findMany({
    where: { queue: queue.name, doneAt: null },
    orderBy: { createdAt: "asc" },
    take: 500,
  });
  let enqueued = 0;
  const rules = new Map<string, AutoRuleState | null>();
  // Shops Shopify refused: one event each per pass asks whether the store answers again (the oldest, the others wait).
  const refused = new Map<string, boolean>();
  for (const event of events) {
    if (!rules.has(event.shop)) {
      const installed = await db.shop.findUnique({
        where: { domain: event.shop },
        select: { uninstalledAt: true, unavailableStatus: true },
      });
      rules.set(event.shop, installed && !installed.uninstalledAt ? await getAutoRule(db, event.shop, now) : null);
      if (storedUnavailableStatus(installed?.unavailableStatus)) refused.set(event.shop, false);
    }
    const rule = rules.get(event.shop);
    // Past a month's pause a product's photos are no longer "new": an event that never got through is given up.
    if (!rule?.enabled || now.getTime() - event.createdAt.getTime() > EVENT_GIVE_UP_MS) {
      await closeNewProductEvent(db, event.shop, event.id);
      continue;
    }
    if (rule.pausedAt && !pauseEnded(rule, now)) continue;
    if (refused.get(event.shop)) continue;
    if (refused.has(event.shop)) refused.set(event.shop, true);
    await queue.enqueueNewProductMedia(event.id, { shop: event.shop, productId: event.productId, mediaIds: event.mediaIds });
    enqueued++;
  }
  return enqueued;
}

function pauseMessage(
  shortOf: FundingLimit,
  rule: AutoRuleState,
  cap: number | null,
  left: number,
): { text: string; message: MerchantMessage } {
  const notCleaned = `${left} new image${left === 1 ? " was" : "s were"} not cleaned`;
  if (shortOf === "budget") {
    return {
      text:
        `Automatic cleanup is paused: this month's budget of ${rule.monthlyBudget} credits is used up, so ${notCleaned}. ` +
        "Raise the budget in Settings (saving resumes the rule), or it resumes next month.",
      message: { code: "autoRulePausedBudget", params: { budget: rule.monthlyBudget ?? 0, count: left } },
    };
  }
  if (shortOf === "dailyCap") {
    return {
      text:
        `Automatic cleanup is paused: today's spending limit of ${cap} credits is reached, so ${notCleaned}. ` +
        "It resumes tomorrow; raise the limit in Settings to resume it now.",
      message: { code: "autoRulePausedDailyCap", params: { cap: cap ?? 0, count: left } },
    };
  }
  return {
    text:
      `Automatic cleanup is paused: your credit balance ran out, so ${notCleaned}. ` +
      "Buy credits on the Credits page, then save the rule in Settings to resume it.",
    message: { code: "autoRulePausedBalance", params: { count: left } },
  };
}

/** When a pause lifts by itself: a budget pause at the next month, a daily-cap pause the next day (UTC). */
function pauseEnded(rule: AutoRuleState, now: Date): boolean {
  if (!rule.pausedAt) return true;
  if (rule.pausedFor === "budget") return rule.pausedAt < startOfUtcMonth(now);
  if (rule.pausedFor === "dailyCap") return rule.pausedAt < new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return false;
}

/**
 * The job of one product event: re-reads the product's new media from Shopify (never the webhook's URLs), then adds
 * them to a NEW_PRODUCTS batch within the month's budget and the balance. When either runs short the rule pauses,
 * the batch history says why (the batch's note) and Settings shows a banner; nothing is overdrawn. The event (`eventId`:
 * jobs enqueued before events were recorded have none) is done once its images are queued; paused short of funds, or
 * refused by Shopify, it stays open, and its images left out are queued when the rule resumes or the store answers.
 */
export async function cleanNewProductMedia(
  deps: { db: PrismaClient; graphql: AdminGraphql; imageQueue: ImageWork },
  shop: string,
  input: { productId: string; mediaIds: string[]; eventId?: string },
  now = new Date(),
): Promise<{ queued: number; paused: boolean; storeRefused?: ShopUnavailableStatus }> {
  const { mediaIdsRead, ...cleaned } = await queueNewProductMedia(deps, shop, input, now);
  if (!cleaned.paused && !cleaned.storeRefused && input.eventId) await finishNewProductEvent(deps.db, shop, input.eventId, mediaIdsRead);
  return cleaned;
}

async function queueNewProductMedia(
  deps: { db: PrismaClient; graphql: AdminGraphql; imageQueue: ImageWork },
  shop: string,
  input: { productId: string; mediaIds: string[] },
  now: Date,
): Promise<{ queued: number; paused: boolean; storeRefused?: ShopUnavailableStatus; mediaIdsRead: string[] }> {
  const { db } = deps;
  let rule = await getAutoRule(db, shop, now);
  if (!rule.enabled) return { queued: 0, paused: false, mediaIdsRead: [] };
  if (rule.pausedAt) {
    // A balance pause waits for the merchant.
    if (!pauseEnded(rule, now)) return { queued: 0, paused: true, mediaIdsRead: [] };
    await db.shop.update({
      where: { domain: shop },
      data: { autoCleanPausedAt: null, autoCleanPausedFor: null, autoCleanPauseReason: null, autoCleanPauseMessage: Prisma.DbNull },
    });
    rule = { ...rule, pausedAt: null, pausedFor: null, pauseReason: null, pauseMessage: null };
  }
  // Shopify refused the store before: asked once before reading the product (the event waits while it still does).
  const read = await unlessShopRefused(
    db,
    shop,
    () => deps.graphql,
    () => getImagesOfProducts(deps.graphql, [input.productId], new Set(input.mediaIds), "rethrow"),
  );
  if ("refused" in read) {
    logger.info({ shop, productId: input.productId, status: read.refused }, "new product images wait: Shopify refuses the store");
    return { queued: 0, paused: false, storeRefused: read.refused, mediaIdsRead: [] };
  }
  const images = read.value;
  if (images.some((image) => !image.url || image.status === "UPLOADED" || image.status === "PROCESSING")) {
    // A new product's photos may still be processing at Shopify when its webhook arrives.
    throw new RunAgainLater(5_000);
  }
  const readable = images.filter((image) => image.url && image.status !== "FAILED");
  const mediaIdsRead = readable.map((image) => image.mediaId);
  const usable = readable.filter((image) => rule.images === "all" || image.position === 1);
  // The rule's images of this event that failed because Shopify refused the store: it answers now, so they are added
  // again, each as a new try of its failed item, in that item's batch.
  const refused = await storeRefusedImages(db, shop, { mediaId: { in: mediaIdsRead }, batch: { origin: "NEW_PRODUCTS" } });
  if (usable.length === 0 && refused.again.length === 0) return { queued: 0, paused: false, mediaIdsRead };

  const shopSettings = await getSettings(db, shop);
  const settings = pipelineSettingsFrom(shopSettings);
  const budget: FundedItemsInput["budget"] =
    rule.monthlyBudget === null ? null : { limit: rule.monthlyBudget, spent: (tx) => autoRuleSpentThisMonth(tx, shop, now) };
  const batchOf = (id: string) => ({
    id,
    origin: "NEW_PRODUCTS" as const,
    pipeline: rule.pipeline,
    settings,
    reviewBeforePublish: rule.reviewBeforePublish,
  });
  const batchId = randomUUID();
  const queued: FundedItems["items"] = [];
  let short: { of: FundingLimit; batchId: string; batchEmpty: boolean; left: number } | null = null;
  if (usable.length > 0) {
    const funded = await addFundedItems(db, deps.imageQueue.name, shop, {
      batch: batchOf(batchId),
      images: usable,
      budget,
      onlyNeverProcessed: true,
    });
    queued.push(...funded.items);
    if (funded.shortOf) short = { of: funded.shortOf, batchId, batchEmpty: funded.items.length === 0, left: funded.unfunded };
    else if (funded.items.length === 0) await db.batch.deleteMany({ where: { id: batchId, shop, total: 0 } });
  }
  const againByBatch = new Map<string, typeof refused.again>();
  for (const image of refused.again) {
    const first = image.versions[0]!;
    againByBatch.set(first.batchId, [...(againByBatch.get(first.batchId) ?? []), image]);
  }
  for (const [againBatchId, again] of againByBatch) {
    if (short) {
      short.left += again.length;
      continue;
    }
    const mediaOf = new Map(again.map((image) => [image.versions[0]!.mediaId, image.rootId]));
    const funded = await addFundedItems(db, deps.imageQueue.name, shop, {
      batch: batchOf(againBatchId),
      images: readable.filter((image) => mediaOf.has(image.mediaId)),
      budget,
      onlyNeverProcessed: false,
      retry: storeRefusedRetry(mediaOf),
    });
    queued.push(...funded.items);
    if (funded.shortOf) short = { of: funded.shortOf, batchId: againBatchId, batchEmpty: false, left: funded.unfunded };
  }
  if (queued.length > 0) {
    await deps.imageQueue
      .enqueueItems(queued)
      .catch((error: Error) => logger.warn({ shop, batchId, err: error.message }, "enqueue failed; the sweep will enqueue these items"));
  }
  if (!short) {
    logger.info({ shop, productId: input.productId, queued: queued.length }, "new product images queued by the automatic rule");
    return { queued: queued.length, paused: false, mediaIdsRead };
  }
  const reason = pauseMessage(short.of, rule, shopSettings.dailySpendCap, short.left);
  await db.$transaction([
    db.shop.update({
      where: { domain: shop },
      data: {
        autoCleanPausedAt: now,
        autoCleanPausedFor: short.of,
        autoCleanPauseReason: reason.text,
        autoCleanPauseMessage: reason.message,
      },
    }),
    db.batch.update({
      where: { id: short.batchId },
      data: { note: reason.text, noteMessage: reason.message, ...(short.batchEmpty ? { status: "DONE", finishedAt: now } : {}) },
    }),
  ]);
  logger.info({ shop, productId: input.productId, queued: queued.length, shortOf: short.of }, "automatic rule paused");
  return { queued: queued.length, paused: true, mediaIdsRead };
}
