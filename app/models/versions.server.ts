/**
 * "Try again" with an optional note, and picking which version of an image is on the product.
 *
 * A try is a new BatchItem in the same batch, naming the image's first item (`retryOfId`), so it goes through the
 * queue, the worker, the ledger (its own 3-credit reservation: captured when it is published, released when it fails
 * or is rejected), review and restore exactly as a first try does. Every version keeps its processed image.
 * A version is paid once, when it first goes on the product; publishing a paid version again is free.
 */
import { randomUUID } from "node:crypto";
import { Prisma, type BatchItem, type PrismaClient } from "@prisma/client";
import type { MerchantMessage, MerchantText, MessageCode } from "~/lib/merchant-message";
import { InstructionError, sanitizeInstruction } from "~/imaging/instruction";
import { logger } from "~/lib/logger.server";
import { supersedePublishedVersions, transition } from "~/models/batch-items.server";
import {
  approveItem,
  assertNothingOwed,
  BatchInputError,
  BatchNotFoundError,
  compareQueueOrder,
  finishBatchIfDone,
  lockImagesToTry,
  newItemRow,
  type RetryRefusal,
} from "~/models/batches.server";
import { CREDITS_PER_IMAGE, InsufficientCreditsError } from "~/models/credit-ledger.server";
import { DailySpendCapError, releaseForItem, reserveForItems, ReservationSettledError } from "~/models/credit-reservations.server";
import type { ImageWork } from "~/models/work-queues.server";
import { groupVersions, isFailedToRetry, publishActionFor, type VersionGroup, type WhyNoRetry } from "./versions";

type Tx = Prisma.TransactionClient;

/** The image's items, under a lock on its first item's row: one change to an image's versions at a time. */
async function lockGroup(tx: Tx, shop: string, rootId: string) {
  await tx.$queryRaw`SELECT 1 FROM "BatchItem" WHERE id = ${rootId} AND shop = ${shop} FOR UPDATE`;
  const items = await tx.batchItem.findMany({
    where: { shop, OR: [{ id: rootId }, { retryOfId: rootId }] },
    orderBy: { createdAt: "asc" },
  });
  const [group] = groupVersions(items);
  if (!group) throw new BatchNotFoundError("This image");
  return { group, items };
}

/**
 * A held version is set aside (REJECTED) before another version is queued: the unique index allows one unfinished
 * item per media, and one version at a time waits for review. Its credits are given back after the commit
 * (releaseSetAside); if the process stops first, the sweep releases held credits of rejected items.
 */
const SET_ASIDE_FOR_TRY: MerchantText = {
  text: "Set aside for a new try; its credits were returned.",
  message: { code: "itemSetAsideForTry" },
};
const SET_ASIDE_FOR_OTHER: MerchantText = { text: "Set aside: you published another version.", message: { code: "itemSetAsideForOther" } };

async function setAsideHeld(tx: Tx, shop: string, items: Array<{ id: string; state: string }>, reason: MerchantText): Promise<string[]> {
  const held = items.filter((v) => v.state === "NEEDS_REVIEW");
  for (const version of held) {
    await transition(tx, {
      shop,
      itemId: version.id,
      from: "NEEDS_REVIEW",
      to: "REJECTED",
      data: { reason: reason.text, reasonMessage: reason.message, finishedAt: new Date() },
    });
  }
  return held.map((v) => v.id);
}

async function releaseSetAside(db: PrismaClient, shop: string, itemIds: string[], note: string): Promise<void> {
  for (const id of itemIds) {
    await releaseForItem(db, shop, id, note).catch((error: unknown) => {
      if (!(error instanceof ReservationSettledError)) throw error;
    });
  }
}

const SINGLE_REFUSAL_CODES = {
  retry: { short: "retryNeedsCredits", cap: "retryDailySpendCap" },
  publish: { short: "publishNeedsCredits", cap: "publishDailySpendCap" },
} as const;

/**
 * The ledger's refusals of one image's try or publish, in words about this action and with its message code (the
 * daily cap's own message speaks of a batch and of selecting fewer images, which one image cannot do).
 */
function creditsRefusal(error: unknown, doing: string, action: keyof typeof SINGLE_REFUSAL_CODES): never {
  const codes = SINGLE_REFUSAL_CODES[action];
  if (error instanceof DailySpendCapError) {
    throw new BatchInputError(
      `${doing} costs ${CREDITS_PER_IMAGE} credits, but your daily spending limit is ${error.cap} credits and ${error.spentToday} ` +
        `${error.spentToday === 1 ? "was" : "were"} already used today. Raise the limit in Settings, or try again tomorrow.`,
      422,
      error,
      { code: codes.cap, params: { count: CREDITS_PER_IMAGE, cap: error.cap, spentToday: error.spentToday } },
    );
  }
  if (error instanceof InsufficientCreditsError) {
    throw new BatchInputError(
      `${doing} costs ${CREDITS_PER_IMAGE} credits and you have ${error.available}. Buy a credit pack on the Credits page, then try again.`,
      422,
      error,
      { code: codes.short, params: { count: CREDITS_PER_IMAGE, available: error.available } },
    );
  }
  throw error;
}

async function findItem(db: PrismaClient, shop: string, itemId: string) {
  const item = await db.batchItem.findFirst({ where: { id: itemId, shop } });
  if (!item) throw new BatchNotFoundError("This image");
  return item;
}

/** The image an existing item edits, as a new item of the same picture takes it (newItemRow). */
function imageOf(item: Pick<BatchItem, "productId" | "productTitle" | "mediaId" | "sourceUrl" | "sourceMimeType" | "position" | "alt">) {
  return {
    productId: item.productId,
    productTitle: item.productTitle,
    mediaId: item.mediaId,
    url: item.sourceUrl,
    mimeType: item.sourceMimeType,
    position: item.position,
    alt: item.alt,
  };
}

/**
 * The sources new tries edit: each first try's. Once the product image was replaced that URL may show the edit, so
 * the original's backup copy in Shopify Files is used when it is the same picture.
 */
async function retrySources(tx: Tx, shop: string, firsts: Array<{ mediaId: string; sourceUrl: string }>): Promise<string[]> {
  const backups = await tx.imageBackup.findMany({ where: { shop, mediaId: { in: firsts.map((f) => f.mediaId) } } });
  const byMedia = new Map(backups.map((b) => [b.mediaId, b]));
  return firsts.map((first) => {
    const backup = byMedia.get(first.mediaId);
    return backup?.fileUrl && backup.originalUrl === first.sourceUrl ? backup.fileUrl : first.sourceUrl;
  });
}

/** Refusals of "Try again", in English for logs and the API; the page words the code. */
const WHY_NO_RETRY = {
  retryBusy: "A new version of this image is already being made. Wait for it to finish.",
  retryRestoring: "This image's original is being put back. Wait for it to finish.",
  retryNotCurable:
    "Trying this image again would fail the same way. Do what its reason says (for example, upload another photo to the " +
    "product in Shopify), then start a new batch with it.",
  retryWrongState: "Only images that are published, waiting for review, rejected or failed can be tried again.",
  retryInOtherBatch: "This image is in another batch that has not finished. Wait for that batch to finish, then try again.",
} as const satisfies Record<RetryRefusal, string>;

/** Long enough for a batch's worth of images under their locks; the ledger's own wait is shorter. */
const TRIES_TX_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

/**
 * New tries of images named by their first items, in one transaction: each image under its lock, `check`ed there
 * (lockImagesToTry, the guard a catalogue run's new tries go through too), every try's credits reserved together
 * (all or nothing: the ledger's error is thrown with nothing reserved), a held
 * version set aside (its credits given back after the commit), the new items created; then enqueued. An image the
 * check refuses is left as it is and returned with why.
 */
async function queueTries(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  rootIds: readonly string[],
  instruction: string | null,
  check: (group: VersionGroup<BatchItem>) => WhyNoRetry | null,
): Promise<{ queued: Array<{ itemId: string; rootId: string }>; refused: Array<{ rootId: string; why: RetryRefusal }> }> {
  const roots = [...new Set(rootIds)].sort();
  const refused: Array<{ rootId: string; why: RetryRefusal }> = [];
  let rows: Array<ReturnType<typeof newItemRow> & { retryOfId: string; instruction: string | null }> = [];
  let setAside: string[] = [];
  try {
    await deps.db.$transaction(async (tx) => {
      const tries = await lockImagesToTry(tx, shop, roots, check);
      refused.push(...tries.refused);
      const { chosen } = tries;
      if (chosen.length === 0) return;
      const sources = await retrySources(
        tx,
        shop,
        chosen.map((c) => c.first),
      );
      rows = chosen
        .map(({ first }, i) => ({
          ...newItemRow(shop, first.batchId, { ...imageOf(first), url: sources[i]! }),
          retryOfId: first.retryOfId ?? first.id,
          instruction,
        }))
        .sort(compareQueueOrder);
      await reserveForItems(
        tx,
        shop,
        rows.map((row) => row.id),
        CREDITS_PER_IMAGE,
      );
      setAside = await setAsideHeld(
        tx,
        shop,
        chosen.flatMap((c) => c.items),
        SET_ASIDE_FOR_TRY,
      );
      await tx.batchItem.createMany({ data: rows });
      // Batch.total counts images, not tries: only the batch's status changes.
      await tx.batch.updateMany({
        where: { id: { in: [...new Set(rows.map((row) => row.batchId))] }, shop },
        data: { status: "ACTIVE", finishedAt: null },
      });
    }, TRIES_TX_OPTIONS);
  } catch (error) {
    // Another batch took one of these images between the check and the insert: nothing was written.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new BatchInputError(WHY_NO_RETRY.retryInOtherBatch, 409, null, { code: "retryInOtherBatch" });
    }
    throw error;
  }
  await releaseSetAside(deps.db, shop, setAside, "set aside for a new try");
  if (rows.length > 0) {
    await deps.queue
      .enqueueItems(rows.map((row) => ({ id: row.id, shop })))
      .catch((error: Error) =>
        logger.warn({ shop, items: rows.length, err: error.message }, "enqueue of new tries failed; the sweep will enqueue them"),
      );
  }
  return { queued: rows.map((row) => ({ itemId: row.id, rootId: row.retryOfId })), refused };
}

/**
 * Queues a new try of an image (held, rejected, published, or failed in a way a new try may cure) with the
 * merchant's note. Reserves 3 credits (refused, with nothing reserved, when the balance is short). A held version is
 * set aside (rejected, its credits given back), so one version at a time waits for review. Returns the new item.
 */
export async function retryItem(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  itemId: string,
  rawInstruction: string | null | undefined,
): Promise<{ itemId: string; creditsReserved: number; instruction: string | null }> {
  let instruction: string | null;
  try {
    instruction = sanitizeInstruction(rawInstruction);
  } catch (error) {
    if (error instanceof InstructionError) throw new BatchInputError(error.message, 400);
    throw error;
  }
  const item = await findItem(deps.db, shop, itemId);
  const rootId = item.retryOfId ?? item.id;
  await assertNothingOwed(deps.db, shop);
  let tries: Awaited<ReturnType<typeof queueTries>>;
  try {
    tries = await queueTries(deps, shop, [rootId], instruction, () => null);
  } catch (error) {
    creditsRefusal(error, "Trying again", "retry");
  }
  const refusal = tries.refused[0];
  if (refusal) throw new BatchInputError(WHY_NO_RETRY[refusal.why], 409, null, { code: refusal.why });
  const queued = tries.queued[0];
  if (!queued) throw new BatchNotFoundError("This image");
  logger.info({ shop, itemId: queued.itemId, retryOf: rootId, withNote: instruction !== null }, "retry queued");
  return { itemId: queued.itemId, creditsReserved: CREDITS_PER_IMAGE, instruction };
}

/**
 * "Try the failed images again": a new try of every image of the batch whose current version failed in a way a new
 * try may cure, as "Try again" makes one (without a note), all in one transaction. Their credits (3 each) are
 * reserved together: when the balance cannot cover them all, nothing is reserved and the refusal says how many
 * credits are needed. An image a concurrent request already tried again is left alone, so a double submit queues
 * each image once.
 */
export async function retryFailedImages(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  batchId: string,
): Promise<{ queued: number; creditsReserved: number }> {
  const batch = await deps.db.batch.findFirst({ where: { id: batchId, shop }, select: { id: true } });
  if (!batch) throw new BatchNotFoundError("This batch");
  const groups = groupVersions(await deps.db.batchItem.findMany({ where: { shop, batchId }, orderBy: { createdAt: "asc" } }));
  const roots = groups.filter(isFailedToRetry).map((g) => g.versions[0]!.retryOfId ?? g.versions[0]!.id);
  if (roots.length === 0) return { queued: 0, creditsReserved: 0 };
  await assertNothingOwed(deps.db, shop);
  let tries: Awaited<ReturnType<typeof queueTries>>;
  try {
    // Under the locks the image must still be a failed one: one tried again (by anyone) meanwhile is not taken.
    tries = await queueTries(deps, shop, roots, null, (group) => (isFailedToRetry(group) ? null : "retryWrongState"));
  } catch (error) {
    failedCreditsRefusal(error);
  }
  const queued = tries.queued.length;
  logger.info({ shop, batchId, queued, refused: tries.refused.length }, "failed images tried again");
  return { queued, creditsReserved: queued * CREDITS_PER_IMAGE };
}

/** The ledger's refusals of "Try the failed images again": how many credits all of them need, nothing reserved. */
function failedCreditsRefusal(error: unknown): never {
  if (error instanceof DailySpendCapError) {
    throw new BatchInputError(error.message.replace("This batch", "Trying these images again"), 422, error, error.merchant);
  }
  if (error instanceof InsufficientCreditsError) {
    const count = Math.ceil(error.needed / CREDITS_PER_IMAGE);
    throw new BatchInputError(
      `Trying the ${count} failed image${count === 1 ? "" : "s"} again needs ${error.needed} credits and you have ${error.available}, ` +
        "so nothing was reserved. Buy a credit pack on the Credits page, then try again.",
      422,
      error,
      { code: "retryFailedNeedsCredits", params: { count, needed: error.needed, available: error.available } },
    );
  }
  throw error;
}

/** Why a version cannot be published, in English for logs and the API; the page words the code. */
const WHY_NOT_PUBLISHED = {
  versionOnProduct: "This version is on the product now.",
  versionBusy: "Another version of this image is being made or published. Wait for it to finish.",
  versionNoImage: "This version has no finished image to publish. Try again for a new version.",
  versionNotPublishable: "This version cannot be published. Try again for a new version.",
  versionImageExpired: "This version's image was deleted after the retention period. Try again for a new version.",
  versionNeverPublished: "This version was never published, so it cannot be published again. Try again for a new version.",
} as const satisfies Partial<Record<MessageCode, string>>;

/**
 * Puts one version of an image on the product. A held version is approved (its credits are spent when it is live); a
 * version that was live before (superseded by another, or restored) is published again from its stored image with no
 * new charge; a rejected version (its credits were given back) is published through a new item of the same picture
 * that reserves 3 credits, as approving it would have cost. No model call in any case. The version live until then
 * becomes SUPERSEDED once the new one is on the product (the worker); a held version is set aside first.
 */
export async function publishVersion(
  deps: { db: PrismaClient; queue: ImageWork },
  shop: string,
  itemId: string,
): Promise<"approved" | "queued" | "queued-paid" | "already"> {
  const item = await findItem(deps.db, shop, itemId);
  const rootId = item.retryOfId ?? item.id;
  await assertNothingOwed(deps.db, shop);
  let setAside: string[] = [];
  let outcome: { kind: "already" } | { kind: "approve" } | { kind: "queued"; enqueue: string } | { kind: "queued-paid"; enqueue: string };
  try {
    outcome = await deps.db.$transaction(async (tx) => {
      const { group, items } = await lockGroup(tx, shop, rootId);
      const version = items.find((v) => v.id === itemId);
      if (!version) throw new BatchNotFoundError("This version");
      if (version.state === "PUBLISHED") return { kind: "already" as const };
      const action = publishActionFor(version, group);
      if (action.kind === "approve") return { kind: "approve" as const };
      if (action.kind === "none") {
        const why = action.why ?? { code: "versionBusy" as const };
        throw new BatchInputError(WHY_NOT_PUBLISHED[why.code], 409, null, why);
      }
      const stored = await tx.storedImage.findFirst({ where: { id: version.resultImageId!, shop }, select: { expiredAt: true } });
      if (!stored || stored.expiredAt) {
        throw new BatchInputError(WHY_NOT_PUBLISHED.versionImageExpired, 409, null, { code: "versionImageExpired" });
      }
      if (action.kind === "republish") {
        const reservation = await tx.creditReservation.findFirst({ where: { shop, batchItemId: itemId }, select: { state: true } });
        if (reservation && reservation.state !== "CAPTURED") {
          throw new BatchInputError(WHY_NOT_PUBLISHED.versionNeverPublished, 409, null, { code: "versionNeverPublished" });
        }
        setAside = await setAsideHeld(tx, shop, items, SET_ASIDE_FOR_OTHER);
        // Under the image's lock, so the version is still in the state read above.
        await transition(tx, {
          shop,
          itemId,
          from: version.state,
          to: "QUEUED",
          data: {
            pickedAt: new Date(),
            reason: null,
            reasonMessage: Prisma.DbNull,
            finishedAt: null,
            replaceSentAt: null,
            replaceFromUrl: null,
            restoreRequestedAt: null,
          },
        });
        await tx.batch.updateMany({ where: { id: version.batchId, shop }, data: { status: "ACTIVE", finishedAt: null } });
        return { kind: "queued" as const, enqueue: itemId };
      }
      // A rejected version: the same picture on a new item with its own reservation; the worker publishes it from the
      // stored image (resultImageId is set, so no model call) and captures its credits once it is live.
      const newId = randomUUID();
      await reserveForItems(tx, shop, [newId], CREDITS_PER_IMAGE);
      setAside = await setAsideHeld(tx, shop, items, SET_ASIDE_FOR_OTHER);
      await tx.batchItem.create({
        data: {
          ...newItemRow(shop, version.batchId, imageOf(version), newId),
          retryOfId: rootId,
          instruction: version.instruction,
          suggestedAlt: version.suggestedAlt,
          contentHash: version.contentHash,
          resultImageId: version.resultImageId,
          compliance: version.compliance ?? undefined,
          fidelity: version.fidelity ?? undefined,
        },
      });
      await tx.batch.updateMany({ where: { id: version.batchId, shop }, data: { status: "ACTIVE", finishedAt: null } });
      return { kind: "queued-paid" as const, enqueue: newId };
    });
  } catch (error) {
    creditsRefusal(error, "Publishing this version", "publish");
  }
  await releaseSetAside(deps.db, shop, setAside, "set aside: another version was published");
  if (outcome.kind === "already") return "already";
  if (outcome.kind === "approve") {
    await approveItem(deps, shop, itemId);
    return "approved";
  }
  const enqueue = outcome.enqueue;
  await deps.queue
    .enqueueItems([{ id: enqueue, shop }])
    .catch((error: Error) =>
      logger.warn({ shop, itemId: enqueue, err: error.message }, "enqueue of a picked version failed; the sweep will enqueue it"),
    );
  return outcome.kind;
}

/** Once `item` is live, the other version of its image that was live (PUBLISHED) is not any more; `item`'s batch is finished if done. */
export async function supersedeOtherVersions(
  db: PrismaClient,
  item: { id: string; shop: string; batchId: string; retryOfId: string | null },
): Promise<void> {
  await supersedePublishedVersions(
    db,
    item.shop,
    { rootId: item.retryOfId ?? item.id, liveId: item.id },
    {
      text: "Another version of this image was published after it.",
      message: { code: "itemSupersededByLater" } satisfies MerchantMessage,
    },
  );
  await finishBatchIfDone(db, item.shop, item.batchId);
}
