/**
 * Batches: a merchant's selection of product images, processed by the worker one item at a time.
 * Creating a batch reserves the credits for every item (given back if the batch cannot be written); the worker
 * captures per item on success and releases on failure, so credits are charged only for what succeeded.
 */
import { randomUUID } from "node:crypto";
import { Prisma, type BatchItem, type BatchOrigin, type ItemState, type PrismaClient } from "@prisma/client";
import { DEFAULT_PIPELINE_SETTINGS, isPipelineId, type PipelineId, type PipelineSettings } from "~/imaging/pipelines";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { CREDITS_PER_IMAGE, InsufficientCreditsError, getBalance, getDebt, payDebtFromAvailable } from "~/models/credit-ledger.server";
import { dailyCapRoom, releaseForItem, releaseUnusedReservations, reserveForItems } from "~/models/credit-reservations.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { ACTIVE_ITEM_STATES, FINISHED_ITEM_STATES, IN_FLIGHT_ITEM_STATES, ITEM_STATES } from "~/models/batch-item-states";
import { transition } from "~/models/batch-items.server";
import { resolveSelection, type ProductImage } from "~/models/catalog.server";
import { restoreMediaFromBackup } from "~/models/stored-images.server";
import { groupVersions, whyNoRetry, type VersionGroup, type WhyNoRetry } from "~/models/versions";
import type { ImageWork } from "~/models/work-queues.server";
import { AppError } from "~/lib/app-error";
import { errorPayload, storedMessage, type ErrorPayload, type MerchantMessage, type MerchantText } from "~/lib/merchant-message";

export const MAX_IMAGES_PER_BATCH: number = getConfig().MAX_IMAGES_PER_BATCH;

/** Key in Batch.settings naming the queue the batch's jobs go to (read by the sweep). */
export const BATCH_QUEUE_KEY = "queue";

/** The pipeline settings a batch was created with (without bookkeeping keys such as the queue). */
export function pipelineSettingsOf(value: Prisma.JsonValue): PipelineSettings {
  const raw = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const settings: Record<string, unknown> = { ...DEFAULT_PIPELINE_SETTINGS };
  for (const key of Object.keys(DEFAULT_PIPELINE_SETTINGS)) if (raw[key] !== undefined) settings[key] = raw[key];
  return settings as unknown as PipelineSettings;
}

/** Input the merchant can fix. */
export class BatchInputError extends AppError {
  declare readonly httpStatus: 400 | 409 | 422;
  /** Set when the balance was short. */
  readonly needed?: number;
  readonly available?: number;
  constructor(
    message: string,
    httpStatus: 400 | 409 | 422,
    credits?: { needed: number; available: number } | null,
    merchant?: MerchantMessage | null,
  ) {
    super(message, { httpStatus, merchant });
    this.name = "BatchInputError";
    if (credits) {
      this.needed = credits.needed;
      this.available = credits.available;
    }
  }
}

const NOT_FOUND_MESSAGES = { "This image": "itemNotFound", "This batch": "batchNotFound", "This version": "versionNotFound" } as const;

/** The item or batch is not this shop's, or does not exist (routes answer 404). */
export class BatchNotFoundError extends AppError {
  declare readonly httpStatus: 404;
  constructor(what: keyof typeof NOT_FOUND_MESSAGES) {
    super(`${what} was not found.`, { httpStatus: 404, merchant: { code: NOT_FOUND_MESSAGES[what] } });
    this.name = "BatchNotFoundError";
  }
}

export interface BatchDeps {
  db: PrismaClient;
  graphql: AdminGraphql;
  queue: ImageWork;
}

export interface CreateBatchInput {
  mediaIds?: string[];
  productIds?: string[];
  pipeline: string;
  settings?: Partial<PipelineSettings>;
}

async function settingsForBatch(
  db: PrismaClient,
  shop: string,
  overrides: Partial<PipelineSettings> | undefined,
): Promise<PipelineSettings> {
  const shopRow = await db.shop.findUnique({ where: { domain: shop } });
  const base: PipelineSettings = { ...DEFAULT_PIPELINE_SETTINGS };
  if (shopRow) {
    base.backgroundColor = shopRow.backgroundColor;
    if (shopRow.outputSizePreset === "standard" || shopRow.outputSizePreset === "large") base.outputSizePreset = shopRow.outputSizePreset;
  }
  const merged = { ...base, ...(overrides ?? {}) };
  if (!/^#[0-9a-fA-F]{6}$/.test(merged.backgroundColor)) {
    throw new BatchInputError("The background colour must look like #RRGGBB.", 400);
  }
  return merged;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

/**
 * Re-reads the selection from Shopify (never trusting client URLs), skips images already in an active
 * batch, reserves the credits (3 x n), then creates the batch and its items in one transaction (giving the
 * credits back if that fails). Then enqueues one job per item; if Redis is unavailable the sweep enqueues them later.
 */
export async function createBatch(
  deps: BatchDeps,
  shop: string,
  input: CreateBatchInput,
): Promise<{ batchId: string; queued: number; skipped: Array<{ mediaId: string; reason: string }>; creditsReserved: number }> {
  if (!isPipelineId(input.pipeline)) {
    throw new BatchInputError(`"${input.pipeline}" is not a pipeline. Choose amazon, ebay or instagram.`, 400, null, {
      code: "unknownPipeline",
      params: { pipeline: input.pipeline },
    });
  }
  const pipeline: PipelineId = input.pipeline;
  const mediaIds = [...new Set(input.mediaIds ?? [])];
  const productIds = [...new Set(input.productIds ?? [])];
  if (mediaIds.length === 0 && productIds.length === 0) {
    throw new BatchInputError("Select at least one image or product.", 400, null, { code: "noSelection" });
  }
  if (mediaIds.length > MAX_IMAGES_PER_BATCH) {
    throw new BatchInputError(
      `A batch can hold up to ${MAX_IMAGES_PER_BATCH} images; you selected ${mediaIds.length}. Split the selection into smaller batches.`,
      422,
      null,
      { code: "tooManyImages", params: { max: MAX_IMAGES_PER_BATCH, selected: mediaIds.length } },
    );
  }
  const settings = await settingsForBatch(deps.db, shop, input.settings);
  await assertNothingOwed(deps.db, shop);

  const { images, missingMediaIds, searchIncomplete } = await resolveSelection(deps.graphql, { mediaIds, productIds });
  const skipped: Array<{ mediaId: string; reason: string }> = missingMediaIds.map((mediaId) => ({
    mediaId,
    reason: searchIncomplete
      ? "This image was not found on the selected products; select it again on the Images page (which names its product)."
      : "This image is no longer on any product in the store.",
  }));
  const usable: ProductImage[] = [];
  for (const image of images) {
    if (!image.url) skipped.push({ mediaId: image.mediaId, reason: "Shopify has no file for this image yet." });
    else if (image.status === "FAILED")
      skipped.push({ mediaId: image.mediaId, reason: "Shopify marked this image as failed; re-upload it first." });
    else usable.push(image);
  }
  if (usable.length > MAX_IMAGES_PER_BATCH) {
    throw new BatchInputError(
      `A batch can hold up to ${MAX_IMAGES_PER_BATCH} images; the selected products have ${usable.length}. Select fewer products.`,
      422,
      null,
      { code: "tooManyProductImages", params: { max: MAX_IMAGES_PER_BATCH, count: usable.length } },
    );
  }

  for (let attempt = 0; ; attempt++) {
    try {
      const created = await createBatchRows(deps.db, deps.queue.name, shop, pipeline, settings, usable, skipped);
      if (created.items.length > 0) {
        await deps.queue
          .enqueueItems(created.items)
          .catch((error: Error) =>
            logger.warn({ shop, batchId: created.batchId, err: error.message }, "enqueue failed; the sweep will enqueue these items"),
          );
      }
      logger.info({ shop, batchId: created.batchId, queued: created.items.length, skipped: created.skipped.length }, "batch created");
      return {
        batchId: created.batchId,
        queued: created.items.length,
        skipped: created.skipped,
        creditsReserved: created.items.length * CREDITS_PER_IMAGE,
      };
    } catch (error) {
      if (error instanceof InsufficientCreditsError) {
        throw new BatchInputError(error.message, 422, { needed: error.needed, available: error.available }, error.merchant);
      }
      // Another request queued one of these images between our check and our insert: check again.
      if (isUniqueViolation(error) && attempt < 2) continue;
      throw error;
    }
  }
}

/** A new batch item for one of the shop's product images (QUEUED by default). */
export function newItemRow(
  shop: string,
  batchId: string,
  image: Pick<ProductImage, "productId" | "productTitle" | "mediaId" | "url" | "mimeType" | "position" | "alt">,
  id: string = randomUUID(),
) {
  return {
    id,
    batchId,
    shop,
    productId: image.productId,
    productTitle: image.productTitle,
    mediaId: image.mediaId,
    sourceUrl: image.url,
    sourceMimeType: image.mimeType,
    position: image.position,
    alt: image.alt,
  };
}

/** Credits owed for a refunded or disputed payment are paid from the balance first; what remains blocks new batches. */
export async function assertNothingOwed(db: PrismaClient, shop: string): Promise<void> {
  if ((await getDebt(db, shop)) === 0) return;
  const owed = await payDebtFromAvailable(db, shop);
  if (owed > 0) {
    throw new BatchInputError(
      `A payment for credits was refunded or disputed after its credits were spent, so you owe ${owed} credits. ` +
        "Buy a credit pack on the Credits page (it pays what is owed first), then start the batch again.",
      422,
      null,
      { code: "creditsOwed", params: { owed } },
    );
  }
}

/**
 * The order a batch's images are queued in, the order the batch page lists them: product title, then the image's
 * position, then media id. Items carry no sequence of their own, so the sweep re-enqueues items Redis lost in this
 * same order (after their batch's creation time), and a shop's images keep their order across a Redis restart.
 */
export function compareQueueOrder(
  a: { productTitle: string; position: number; mediaId: string },
  b: { productTitle: string; position: number; mediaId: string },
): number {
  if (a.productTitle !== b.productTitle) return a.productTitle < b.productTitle ? -1 : 1;
  if (a.position !== b.position) return a.position - b.position;
  return a.mediaId < b.mediaId ? -1 : a.mediaId > b.mediaId ? 1 : 0;
}

async function createBatchRows(
  db: PrismaClient,
  queueName: string,
  shop: string,
  pipeline: PipelineId,
  settings: PipelineSettings,
  images: ProductImage[],
  alreadySkipped: Array<{ mediaId: string; reason: string }>,
): Promise<{ batchId: string; items: Array<{ id: string; shop: string }>; skipped: Array<{ mediaId: string; reason: string }> }> {
  const skipped = [...alreadySkipped];
  const active = await db.batchItem.findMany({
    where: { shop, mediaId: { in: images.map((i) => i.mediaId) }, state: { in: [...ACTIVE_ITEM_STATES] } },
    select: { mediaId: true, batchId: true },
  });
  const activeMedia = new Set(active.map((a) => a.mediaId));
  const toQueue = images.filter((image) => {
    if (!activeMedia.has(image.mediaId)) return true;
    skipped.push({ mediaId: image.mediaId, reason: "This image is already in a batch that has not finished." });
    return false;
  });
  if (toQueue.length === 0) {
    throw new BatchInputError(
      images.length === 0
        ? "None of the selected images could be found in the store."
        : "Every selected image is already in a batch that has not finished.",
      409,
      null,
      { code: images.length === 0 ? "noneFound" : "allAlreadyInBatch" },
    );
  }
  const batchId = randomUUID();
  const rows = toQueue.map((image) => newItemRow(shop, batchId, image)).sort(compareQueueOrder);
  const itemIds = rows.map((r) => r.id);
  // The reservation commits on its own first (a shop's account row is then locked only briefly, see
  // reserveForItems); if the batch cannot be written after it, the credits go back. A process that stops in
  // between leaves them held for items that do not exist: releaseOrphanedReservations gives those back.
  await reserveForItems(db, shop, itemIds, CREDITS_PER_IMAGE);
  try {
    await db.$transaction(async (tx) => {
      await tx.batch.create({
        // The queue name rides with the settings so a sweep only re-enqueues its own queue's items.
        data: {
          id: batchId,
          shop,
          pipeline,
          settings: { ...settings, [BATCH_QUEUE_KEY]: queueName } as unknown as Prisma.InputJsonValue,
          total: rows.length,
        },
      });
      await tx.batchItem.createMany({ data: rows });
    });
  } catch (error) {
    await releaseUnusedReservations(db, shop, itemIds, {
      text: "returned: the batch could not be created",
      message: { code: "noteReturnedBatchNotCreated", params: {} },
    }).catch((releaseError: Error) =>
      logger.error({ shop, batchId, err: releaseError.message }, "could not give back the credits of a batch that was not created"),
    );
    throw error;
  }
  return { batchId, items: rows.map((r) => ({ id: r.id, shop })), skipped };
}

// ---------------------------------------------------------------------------------------------------
// Automatic batches (the rule for new products, whole-catalogue runs)

/** Key in Batch.settings: the review choice of an automatic batch (its rule's), instead of the shop's. */
export const BATCH_REVIEW_KEY = "reviewBeforePublish";

export interface FundedItemsInput {
  batch: {
    id: string;
    origin: Exclude<BatchOrigin, "MANUAL">;
    pipeline: PipelineId;
    settings: PipelineSettings;
    reviewBeforePublish: boolean;
  };
  images: ProductImage[];
  /**
   * A budget these images count against: `spent` is read under the shop's lock, so two jobs of one shop never both
   * count the same room. null = only the balance (and the daily spend cap) limit them.
   */
  budget: { limit: number; spent: (tx: Prisma.TransactionClient) => Promise<number> } | null;
  /** Skip media the app ever had in a batch (processed, published, restored on purpose, rejected...). */
  onlyNeverProcessed: boolean;
  /**
   * These images are added as new tries of their first item in this batch (`of`: media id -> its id), each only when
   * lockImagesToTry allows it with `check`. One it refuses because another batch has its media is skipped; one it
   * refuses otherwise (tried again meanwhile) is left out, neither added nor skipped.
   */
  retry?: { of: ReadonlyMap<string, string>; check: (group: VersionGroup<BatchItem>) => WhyNoRetry | null };
  /** Runs in the same transaction once the items are written (a catalogue run records which of its images are done). */
  onWritten?: (
    tx: Prisma.TransactionClient,
    written: { items: Array<{ id: string; mediaId: string }>; skippedMediaIds: string[] },
  ) => Promise<void>;
}

export interface FundedItems {
  /** Items written and funded (3 credits held each), to enqueue. */
  items: Array<{ id: string; shop: string; mediaId: string }>;
  /** Images that fit neither the limit nor the balance; nothing was reserved for them. */
  unfunded: number;
  /** Images left out because the app already has (or had) them. */
  known: number;
  /** Credits left to spend after these items (the balance's available credits). */
  availableAfter: number;
  /** What stopped the rest: the budget, the balance, or the shop's daily spend cap (null: nothing, all were added). */
  shortOf: FundingLimit | null;
}

export const FUNDING_LIMITS = ["budget", "balance", "dailyCap"] as const;
export type FundingLimit = (typeof FUNDING_LIMITS)[number];

/**
 * Adds images to an automatic batch (created on first use), only as many as the budget, the balance and the daily
 * spend cap pay for: all three are read and the credits reserved in the transaction that writes the items, under a
 * lock on the shop's row, so two automatic jobs of one shop never count the same credits, budget or media twice.
 * The caller enqueues the items (enqueueItems).
 */
export async function addFundedItems(db: PrismaClient, queueName: string, shop: string, input: FundedItemsInput): Promise<FundedItems> {
  const { batch } = input;
  return db.$transaction(
    async (tx) => {
      const [locked] = await tx.$queryRaw<
        Array<{ uninstalledAt: Date | null }>
      >`SELECT "uninstalledAt" FROM "Shop" WHERE domain = ${shop} FOR UPDATE`;
      // Read under the lock the uninstall takes to mark the shop, before it cancels the shop's items: a job that checked
      // the install earlier adds nothing now, and items added just before the mark are cancelled with the rest.
      if (locked?.uninstalledAt) return { items: [], unfunded: 0, known: 0, shortOf: null, availableAfter: 0 };
      const { retry } = input;
      const rootOf = (image: ProductImage) => retry?.of.get(image.mediaId) ?? "";
      const tries = retry ? await lockImagesToTry(tx, shop, input.images.map(rootOf), retry.check) : null;
      const admitted = new Set(tries?.chosen.map((c) => c.first.id));
      const elsewhere = new Set(tries?.refused.filter((r) => r.why === "retryInOtherBatch").map((r) => r.rootId));
      const images = tries ? input.images.filter((image) => admitted.has(rootOf(image)) || elsewhere.has(rootOf(image))) : input.images;
      const mediaIds = images.map((i) => i.mediaId);
      const taken = tries
        ? images.filter((image) => elsewhere.has(rootOf(image)))
        : await tx.batchItem.findMany({
            where: { shop, mediaId: { in: mediaIds }, ...(input.onlyNeverProcessed ? {} : { state: { in: [...ACTIVE_ITEM_STATES] } }) },
            select: { mediaId: true },
            distinct: ["mediaId"],
          });
      const backedUp = input.onlyNeverProcessed
        ? await tx.imageBackup.findMany({ where: { shop, mediaId: { in: mediaIds } }, select: { mediaId: true } })
        : [];
      const skip = new Set([...taken, ...backedUp].map((t) => t.mediaId));
      const candidates = images.filter((image) => !skip.has(image.mediaId));
      const { available } = await getBalance(tx, shop);
      const room: Record<FundingLimit, number> = {
        // When the budget and another limit run out together, the budget is what stopped it (raising the other alone would not).
        budget: input.budget ? Math.max(0, input.budget.limit - (await input.budget.spent(tx))) : Number.POSITIVE_INFINITY,
        balance: available,
        dailyCap: (await dailyCapRoom(tx, shop))?.room ?? Number.POSITIVE_INFINITY,
      };
      const binding = FUNDING_LIMITS.reduce<FundingLimit>((least, limit) => (room[limit] < room[least] ? limit : least), "budget");
      const funded = candidates.slice(0, Math.max(0, Math.floor(room[binding] / CREDITS_PER_IMAGE)));
      const shortOf = funded.length === candidates.length ? null : binding;

      const existing = await tx.batch.findFirst({ where: { id: batch.id, shop }, select: { id: true } });
      if (!existing) {
        await tx.batch.create({
          data: {
            id: batch.id,
            shop,
            pipeline: batch.pipeline,
            origin: batch.origin,
            settings: {
              ...batch.settings,
              [BATCH_QUEUE_KEY]: queueName,
              [BATCH_REVIEW_KEY]: batch.reviewBeforePublish,
            } as unknown as Prisma.InputJsonValue,
            total: 0,
          },
        });
      }
      const rows = funded.map((image) => ({ ...newItemRow(shop, batch.id, image), retryOfId: retry?.of.get(image.mediaId) ?? null }));
      // Batch.total counts images, not tries.
      const newImages = rows.filter((r) => r.retryOfId === null).length;
      if (rows.length > 0) {
        await tx.batchItem.createMany({ data: rows });
        await reserveForItems(
          tx,
          shop,
          rows.map((r) => r.id),
          CREDITS_PER_IMAGE,
        );
        await tx.batch.update({ where: { id: batch.id }, data: { total: { increment: newImages }, status: "ACTIVE", finishedAt: null } });
      }
      await input.onWritten?.(tx, { items: rows.map((r) => ({ id: r.id, mediaId: r.mediaId })), skippedMediaIds: [...skip] });
      return {
        items: rows.map((r) => ({ id: r.id, shop, mediaId: r.mediaId })),
        unfunded: candidates.length - funded.length,
        known: skip.size,
        shortOf,
        availableAfter: available - rows.length * CREDITS_PER_IMAGE,
      };
    },
    { timeout: 30_000 },
  );
}

/** Why an image is not tried again: the image's own state (whyNoRetry), or its media in another unfinished batch. */
export type RetryRefusal = WhyNoRetry | "retryInOtherBatch";

/**
 * The one guard of every new try of an image, whoever makes it (the merchant's "Try again" and "Try the failed images
 * again", a catalogue run adding again an image Shopify's refusal of the store failed): under a lock on each image's
 * first item, an image is tried only when whyNoRetry allows it (no try of it being made, nothing put back), `check`
 * too, and no other batch has its media unfinished (the unique index allows one per media in the shop). A second
 * request waits for the locks, then finds the first one's try queued. Locks are taken in id order, so two requests for
 * overlapping images cannot deadlock; a caller holding the shop's row (addFundedItems) takes it first.
 */
export async function lockImagesToTry(
  tx: Prisma.TransactionClient,
  shop: string,
  rootIds: readonly string[],
  check: (group: VersionGroup<BatchItem>) => WhyNoRetry | null = () => null,
): Promise<{ chosen: Array<{ first: BatchItem; items: BatchItem[] }>; refused: Array<{ rootId: string; why: RetryRefusal }> }> {
  const roots = [...new Set(rootIds)].sort();
  await tx.$queryRaw`SELECT 1 FROM "BatchItem" WHERE id = ANY(${roots}::text[]) AND shop = ${shop} ORDER BY id FOR UPDATE`;
  const items = await tx.batchItem.findMany({
    where: { shop, OR: [{ id: { in: roots } }, { retryOfId: { in: roots } }] },
    orderBy: { createdAt: "asc" },
  });
  const groups = groupVersions(items);
  const ours = new Set(items.map((item) => item.id));
  const active = await tx.batchItem.findMany({
    where: { shop, mediaId: { in: groups.map((g) => g.versions[0]!.mediaId) }, state: { in: [...ACTIVE_ITEM_STATES] } },
    select: { id: true, mediaId: true },
  });
  const elsewhere = new Set(active.filter((item) => !ours.has(item.id)).map((item) => item.mediaId));
  const chosen: Array<{ first: BatchItem; items: BatchItem[] }> = [];
  const refused: Array<{ rootId: string; why: RetryRefusal }> = [];
  for (const group of groups) {
    const first = group.versions[0]!;
    const rootId = first.retryOfId ?? first.id;
    const why = whyNoRetry(group) ?? check(group) ?? (elsewhere.has(first.mediaId) ? "retryInOtherBatch" : null);
    if (why) refused.push({ rootId, why });
    else chosen.push({ first, items: items.filter((item) => (item.retryOfId ?? item.id) === rootId) });
  }
  return { chosen, refused };
}

// ---------------------------------------------------------------------------------------------------
// Reading

export interface BatchProgressItem {
  id: string;
  productId: string;
  productTitle: string;
  mediaId: string;
  sourceUrl: string;
  state: ItemState;
  reason: string | null;
  /** The reason as a merchant message, for the viewer's language (null on rows from before codes). */
  reasonMessage: MerchantMessage | null;
  compliance: unknown;
  fidelity: unknown;
  /** Edges of the original's frame that cut through the product (see app/imaging/cutoff.ts), or null. */
  framing: unknown;
  resultImageId: string | null;
  position: number;
  /** The image's alt text when the batch was made (the merchant's). */
  alt: string | null;
  /** Alt text suggested for the processed image, and what the app wrote to the product (null: nothing). */
  suggestedAlt: string | null;
  writtenAlt: string | null;
  /** Published, and its original is being put back in the background. */
  restoring: boolean;
  /** The merchant's note for this try ("Try again"), null for a first try or a try without a note. */
  instruction: string | null;
  /** Every version of this image in the batch, oldest first (one when it was never tried again). */
  versions: BatchVersion[];
}

/** One try of an image: its own result, state and note. */
export interface BatchVersion {
  id: string;
  state: ItemState;
  reason: string | null;
  reasonMessage: MerchantMessage | null;
  instruction: string | null;
  resultImageId: string | null;
  retryOfId: string | null;
  restoreRequestedAt: Date | null;
  createdAt: Date;
  /** Why the last attempt to publish this (rejected) version again failed, while no later attempt of it exists. */
  publishError: string | null;
  publishErrorMessage: MerchantMessage | null;
}

export interface BatchProgress {
  batch: {
    id: string;
    pipeline: string;
    settings: PipelineSettings;
    status: string;
    total: number;
    createdAt: Date;
    finishedAt: Date | null;
    creditsReserved: number;
    creditsUsed: number;
  };
  counts: Record<ItemState, number>;
  done: number;
  /** Published items whose original is being put back in the background. */
  restoring: number;
  total: number;
  etaSeconds: number | null;
  items: BatchProgressItem[];
}

function emptyCounts(): Record<ItemState, number> {
  return Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
}

/** The model queue as every shop shares it: images still to do per shop, and how fast the queue has drained lately. */
export interface QueueLoad {
  remainingByShop: Map<string, number>;
  /** Images finished per second over the last ten minutes, all shops together; null with too few to tell. */
  imagesPerSecond: number | null;
}

const PACE_WINDOW_MS = 10 * 60_000;
const PACE_MIN_SAMPLES = 3;

export async function getQueueLoad(db: PrismaClient, now: Date = new Date()): Promise<QueueLoad> {
  const [byShop, recent] = await Promise.all([
    db.batchItem.groupBy({ by: ["shop"], where: { state: { in: [...IN_FLIGHT_ITEM_STATES] } }, _count: { _all: true } }),
    db.batchItem.aggregate({
      where: { finishedAt: { gte: new Date(now.getTime() - PACE_WINDOW_MS), lte: now } },
      _count: { _all: true },
      _min: { finishedAt: true },
    }),
  ]);
  const finished = recent._count._all;
  const since = recent._min.finishedAt;
  const imagesPerSecond = finished >= PACE_MIN_SAMPLES && since ? finished / Math.max((now.getTime() - since.getTime()) / 1000, 60) : null;
  return { remainingByShop: new Map(byShop.map((row) => [row.shop, row._count._all])), imagesPerSecond };
}

/**
 * When a shop's remaining images will be done under the fair share (fair-share.server.ts): every shop with work
 * waiting gets one image per round, so before this shop's last image run its own remaining images and, of every
 * other shop's, as many as this shop has left (or all of theirs, if fewer). Null when nothing is left or the pace
 * is not known yet.
 */
export function fairShareEtaSeconds(shop: string, load: QueueLoad): number | null {
  const mine = load.remainingByShop.get(shop) ?? 0;
  if (mine === 0 || !load.imagesPerSecond) return null;
  let ahead = mine;
  for (const [other, theirs] of load.remainingByShop) if (other !== shop) ahead += Math.min(theirs, mine);
  return Math.ceil(ahead / load.imagesPerSecond);
}

export async function getBatchProgress(db: PrismaClient, shop: string, batchId: string): Promise<BatchProgress | null> {
  const batch = await db.batch.findFirst({
    where: { id: batchId, shop },
    include: { items: { orderBy: [{ productTitle: "asc" }, { position: "asc" }] } },
  });
  if (!batch) return null;
  // One entry per image: its current version stands for it (counts, progress), the others are listed with it.
  const images = groupVersions(batch.items);
  const current = images.map((g) => g.current);
  const counts = emptyCounts();
  for (const item of current) counts[item.state] += 1;
  const done = current.filter((i) => FINISHED_ITEM_STATES.includes(i.state) || i.state === "NEEDS_REVIEW").length;
  const restoring = current.filter((i) => i.state === "PUBLISHED" && i.restoreRequestedAt).length;
  const reservations = await db.creditReservation.findMany({
    where: { shop, batchItemId: { in: batch.items.map((i) => i.id) } },
    select: { amount: true, state: true },
  });
  return {
    batch: {
      id: batch.id,
      pipeline: batch.pipeline,
      settings: pipelineSettingsOf(batch.settings),
      status: batch.status,
      total: batch.total,
      createdAt: batch.createdAt,
      finishedAt: batch.finishedAt,
      creditsReserved: reservations.filter((r) => r.state === "HELD").reduce((sum, r) => sum + r.amount, 0),
      creditsUsed: reservations.filter((r) => r.state === "CAPTURED").reduce((sum, r) => sum + r.amount, 0),
    },
    counts,
    done,
    restoring,
    total: images.length,
    etaSeconds: counts.QUEUED + counts.PROCESSING > 0 ? fairShareEtaSeconds(shop, await getQueueLoad(db)) : null,
    items: images.map(({ current: item, versions, failedRepublish }) => ({
      id: item.id,
      productId: item.productId,
      productTitle: item.productTitle,
      mediaId: item.mediaId,
      sourceUrl: item.sourceUrl,
      state: item.state,
      reason: item.reason,
      reasonMessage: storedMessage(item.reasonMessage),
      compliance: item.compliance,
      fidelity: item.fidelity,
      framing: item.framing,
      resultImageId: item.resultImageId,
      position: item.position,
      alt: item.alt,
      suggestedAlt: item.suggestedAlt,
      writtenAlt: item.writtenAlt,
      restoring: item.state === "PUBLISHED" && item.restoreRequestedAt !== null,
      instruction: item.instruction,
      versions: versions.map((v) => ({
        id: v.id,
        state: v.state,
        reason: v.reason,
        reasonMessage: storedMessage(v.reasonMessage),
        instruction: v.instruction,
        resultImageId: v.resultImageId,
        retryOfId: v.retryOfId,
        restoreRequestedAt: v.restoreRequestedAt,
        createdAt: v.createdAt,
        publishError: failedRepublish.get(v.id)?.reason ?? null,
        publishErrorMessage: storedMessage(failedRepublish.get(v.id)?.reasonMessage),
      })),
    })),
  };
}

export async function listBatches(
  db: PrismaClient,
  shop: string,
  page: { cursor?: string; take?: number } = {},
): Promise<{
  batches: Array<{
    id: string;
    pipeline: string;
    status: string;
    origin: BatchOrigin;
    note: string | null;
    /** The note as a merchant message, for the viewer's language. */
    noteMessage: MerchantMessage | null;
    total: number;
    published: number;
    failed: number;
    creditsUsed: number;
    createdAt: Date;
    finishedAt: Date | null;
  }>;
  nextCursor: string | null;
}> {
  const take = Math.min(Math.max(page.take ?? 20, 1), 100);
  const rows = await db.batch.findMany({
    where: { shop },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: take + 1,
    ...(page.cursor ? { cursor: { id: page.cursor }, skip: 1 } : {}),
  });
  const pageRows = rows.slice(0, take);
  const ids = pageRows.map((b) => b.id);
  const grouped = ids.length
    ? await db.batchItem.groupBy({ by: ["batchId", "state"], where: { shop, batchId: { in: ids } }, _count: { _all: true } })
    : [];
  const used = ids.length
    ? await db.$queryRaw<Array<{ batchId: string; used: bigint }>>`
        SELECT i."batchId", COALESCE(SUM(r.amount), 0)::bigint AS used
        FROM "BatchItem" i JOIN "CreditReservation" r ON r."batchItemId" = i.id
        WHERE i.shop = ${shop} AND i."batchId" = ANY(${ids}) AND r.state = 'CAPTURED'
        GROUP BY i."batchId"`
    : [];
  const usedBy = new Map(used.map((u) => [u.batchId, Number(u.used)]));
  const count = (batchId: string, states: ItemState[]) =>
    grouped.filter((g) => g.batchId === batchId && states.includes(g.state)).reduce((sum, g) => sum + g._count._all, 0);
  return {
    batches: pageRows.map((b) => ({
      id: b.id,
      pipeline: b.pipeline,
      status: b.status,
      origin: b.origin,
      note: b.note,
      noteMessage: storedMessage(b.noteMessage),
      total: b.total,
      published: count(b.id, ["PUBLISHED"]),
      failed: count(b.id, ["FAILED"]),
      creditsUsed: usedBy.get(b.id) ?? 0,
      createdAt: b.createdAt,
      finishedAt: b.finishedAt,
    })),
    nextCursor: rows.length > take ? (pageRows[pageRows.length - 1]?.id ?? null) : null,
  };
}

/** The latest item per media (for the grid badges). */
export async function imageStatuses(
  db: PrismaClient,
  shop: string,
  mediaIds: string[],
): Promise<Map<string, { state: ItemState; pipeline: string; batchId: string }>> {
  const result = new Map<string, { state: ItemState; pipeline: string; batchId: string }>();
  if (mediaIds.length === 0) return result;
  const items = await db.batchItem.findMany({
    // An earlier version of an image never says what the product shows: another version, or the original, is there.
    where: { shop, mediaId: { in: mediaIds }, state: { not: "SUPERSEDED" } },
    orderBy: { createdAt: "desc" },
    distinct: ["mediaId"],
    select: { mediaId: true, state: true, batchId: true, batch: { select: { pipeline: true } } },
  });
  for (const item of items) result.set(item.mediaId, { state: item.state, pipeline: item.batch.pipeline, batchId: item.batchId });
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Review, restore, cancel

async function findItem(db: PrismaClient, shop: string, itemId: string) {
  const item = await db.batchItem.findFirst({ where: { id: itemId, shop } });
  if (!item) throw new BatchNotFoundError("This image");
  return item;
}

/** Approving a held image publishes it: the worker resumes from its checkpoint (no second Qwen call). */
export async function approveItem(deps: { db: PrismaClient; queue: ImageWork }, shop: string, itemId: string): Promise<void> {
  const item = await findItem(deps.db, shop, itemId);
  if (item.state !== "NEEDS_REVIEW") {
    if (item.state === "QUEUED" || item.state === "PROCESSING" || item.state === "PUBLISHED") return;
    throw new BatchInputError("Only images waiting for review can be approved.", 409, null, { code: "approveWrongState" });
  }
  const moved = await transition(deps.db, {
    shop,
    itemId,
    from: "NEEDS_REVIEW",
    to: "QUEUED",
    data: { reason: null, reasonMessage: Prisma.DbNull, finishedAt: null },
  });
  // Lost a race: fine if it was another approval, refused if the image was rejected meanwhile.
  if (moved === 0) return approveItem(deps, shop, itemId);
  await deps.db.batch.updateMany({ where: { id: item.batchId, shop, status: "DONE" }, data: { status: "ACTIVE", finishedAt: null } });
  await deps.queue
    .enqueueItems([{ id: itemId, shop }])
    .catch((error: Error) => logger.warn({ shop, itemId, err: error.message }, "enqueue after approve failed; the sweep will enqueue it"));
}

/** Rejecting a held image leaves the product untouched and gives the credits back. */
export async function rejectItem(deps: { db: PrismaClient }, shop: string, itemId: string): Promise<void> {
  const item = await findItem(deps.db, shop, itemId);
  if (item.state === "REJECTED") return;
  if (item.state !== "NEEDS_REVIEW")
    throw new BatchInputError("Only images waiting for review can be rejected.", 409, null, { code: "rejectWrongState" });
  const moved = await transition(deps.db, {
    shop,
    itemId,
    from: "NEEDS_REVIEW",
    to: "REJECTED",
    data: {
      reason: "Rejected by the merchant; the original image was kept.",
      reasonMessage: { code: "itemRejectedByYou" } satisfies MerchantMessage,
      finishedAt: new Date(),
    },
  });
  // Lost a race: fine if it was another rejection, refused if the image was approved meanwhile.
  if (moved === 0) return rejectItem(deps, shop, itemId);
  await releaseForItem(deps.db, shop, itemId, "rejected in review");
  await finishBatchIfDone(deps.db, shop, item.batchId);
}

export type ReviewDecision = "approve" | "reject";

/** What one image of a bulk approve/reject came to: done, or refused with the status and words a single action gives. */
export type ReviewOutcome = { id: string; ok: true } | ({ id: string; ok: false; status: 404 | 409 | 400 | 422 } & ErrorPayload);

/**
 * Approves or rejects several held images of one batch, each through the single-image action (approveItem /
 * rejectItem) and its own guard: an image another request changed meanwhile is refused (409) alone, the others go on,
 * and an image approved twice is queued (and charged, once live) once. Ids that are not this batch's are 404.
 */
export async function reviewItems(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  batchId: string,
  decision: ReviewDecision,
  itemIds: readonly string[],
): Promise<ReviewOutcome[]> {
  const batch = await deps.db.batch.findFirst({ where: { id: batchId, shop }, select: { id: true } });
  if (!batch) throw new BatchNotFoundError("This batch");
  const ids = [...new Set(itemIds)];
  if (ids.length === 0) throw new BatchInputError("Select at least one image held for review.", 400, null, { code: "reviewNoSelection" });
  if (ids.length > MAX_IMAGES_PER_BATCH) throw new BatchInputError(`Select at most ${MAX_IMAGES_PER_BATCH} images at a time.`, 400);
  const inBatch = new Set(
    (await deps.db.batchItem.findMany({ where: { shop, batchId, id: { in: ids } }, select: { id: true } })).map((item) => item.id),
  );
  const outcomes: ReviewOutcome[] = [];
  for (const id of ids) {
    if (!inBatch.has(id)) {
      outcomes.push({ id, ok: false, status: 404, ...errorPayload("This image is not in this batch.", { code: "itemNotInBatch" }) });
      continue;
    }
    try {
      if (decision === "approve") await approveItem(deps, shop, id);
      else await rejectItem(deps, shop, id);
      outcomes.push({ id, ok: true });
    } catch (error) {
      if (error instanceof BatchInputError || error instanceof BatchNotFoundError) {
        outcomes.push({ id, ok: false, status: error.httpStatus, ...errorPayload(error.merchantMessage, error.merchant) });
      } else throw error;
    }
  }
  logger.info(
    { shop, batchId, decision, done: outcomes.filter((o) => o.ok).length, refused: outcomes.filter((o) => !o.ok).length },
    "bulk review",
  );
  return outcomes;
}

/** Puts the original image back on the product (no credits). Restoring twice is harmless. */
export async function restoreItem(deps: { db: PrismaClient; graphql: AdminGraphql }, shop: string, itemId: string): Promise<void> {
  const item = await findItem(deps.db, shop, itemId);
  if (item.state === "RESTORED") return;
  if (item.state !== "PUBLISHED")
    throw new BatchInputError("Only published images can be restored.", 409, null, { code: "restoreWrongState" });
  // The backup is the media's FIRST original, so this undoes every batch that published this media, not only
  // this item's: all of them stop saying "published".
  await restoreMediaFromBackup(deps.db, deps.graphql, shop, item.mediaId, item.writtenAlt !== null ? { alt: item.alt ?? "" } : {});
  await transition(deps.db, {
    shop,
    where: { mediaId: item.mediaId },
    from: "PUBLISHED",
    to: "RESTORED",
    data: { reason: null, reasonMessage: Prisma.DbNull },
  });
}

/**
 * Asks for the originals of all the batch's published images back, and returns at once: each item is marked
 * (restoreRequestedAt) and gets a restore job, which the worker runs like any other (Shopify's rate limits, retries);
 * the batch page shows how many are still being restored. A batch of 500 would otherwise hold a web request for up
 * to 500 replacements. Items already waiting for their restore are not asked twice. Returns how many were asked.
 */
export async function restoreBatch(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  batchId: string,
): Promise<{ queued: number }> {
  const batch = await deps.db.batch.findFirst({ where: { id: batchId, shop }, select: { id: true } });
  if (!batch) throw new BatchNotFoundError("This batch");
  const items = await deps.db.$queryRaw<Array<{ id: string; shop: string }>>`
    UPDATE "BatchItem" SET "restoreRequestedAt" = now(), "reason" = NULL, "reasonMessage" = NULL, "updatedAt" = now()
    WHERE "batchId" = ${batchId} AND "shop" = ${shop} AND "state" = 'PUBLISHED' AND "restoreRequestedAt" IS NULL
    RETURNING "id", "shop"`;
  // If Redis is down, the sweep enqueues them later (it looks for marked items without a job).
  await deps.queue
    .enqueueRestores(items)
    .catch((error: Error) =>
      logger.warn({ shop, batchId, err: error.message }, "restore enqueue failed; the sweep will enqueue these items"),
    );
  logger.info({ shop, batchId, items: items.length }, "batch restore requested");
  return { queued: items.length };
}

/**
 * Uninstall: removes the shop's waiting and delayed jobs, marks its unfinished items CANCELLED and
 * releases their credits. An item a worker is processing right now sees CANCELLED and stops.
 */
export async function cancelShopWork(deps: { db: PrismaClient; queue: ImageWork }, shop: string): Promise<{ cancelled: number }> {
  // An item whose replacement was already sent is not cancelled: Shopify may be putting it on the product right now,
  // and cancelling would release its credits and leave the image live, unpaid and not restorable. The worker
  // publishes it (captured, restorable) or settles it by reading the media again.
  const cancelled = await cancelItems(
    deps,
    shop,
    ACTIVE_ITEM_STATES,
    {},
    {
      text: "Cancelled because the app was uninstalled.",
      message: { code: "itemCancelledUninstalled" },
    },
  );
  await deps.db.batch.updateMany({ where: { shop, status: "ACTIVE" }, data: { status: "CANCELLED", finishedAt: new Date() } });
  return { cancelled };
}

/**
 * Cancels the shop's items in one of `from` matching `where` whose replacement was not sent yet: each is CANCELLED
 * with `reason`, its credits released and its waiting job removed, one at a time so an item the worker takes
 * meanwhile is left to it.
 */
export async function cancelItems(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  from: readonly ItemState[],
  where: Omit<Prisma.BatchItemWhereInput, "shop" | "state">,
  reason: MerchantText,
): Promise<number> {
  const guard = { ...where, replaceSentAt: null };
  const items = await deps.db.batchItem.findMany({ where: { ...guard, shop, state: { in: [...from] } }, select: { id: true } });
  let cancelled = 0;
  for (const item of items) {
    const moved = await transition(deps.db, {
      shop,
      itemId: item.id,
      guard,
      from,
      to: "CANCELLED",
      data: { reason: reason.text, reasonMessage: reason.message, finishedAt: new Date() },
    });
    if (moved === 0) continue;
    cancelled += 1;
    await releaseForItem(deps.db, shop, item.id, "cancelled").catch((error: Error) =>
      logger.warn({ shop, itemId: item.id, err: error.message }, "release on cancel refused"),
    );
    await deps.queue.removeWaitingJob(item.id).catch(() => undefined);
  }
  return cancelled;
}

/** Marks the batch DONE once none of its items is waiting for the worker or the merchant. */
export async function finishBatchIfDone(db: PrismaClient, shop: string, batchId: string): Promise<boolean> {
  const updated = await db.$executeRaw`
    UPDATE "Batch" SET status = 'DONE', "finishedAt" = now()
    WHERE id = ${batchId} AND shop = ${shop} AND status = 'ACTIVE'
      AND NOT EXISTS (
        SELECT 1 FROM "BatchItem" i WHERE i."batchId" = ${batchId} AND i.state = ANY(${ACTIVE_ITEM_STATES}::"ItemState"[])
      )`;
  return updated > 0;
}
