/**
 * A BatchItem's states and the moves between them. Every write of `BatchItem.state` goes through `transition()` (or,
 * for the worker's one move of a set, `supersedePublishedVersions`): one conditional update (WHERE state IN from AND
 * shop = ...) that moves only the rows still in a state it may leave, so two workers, a sweep and a merchant's click
 * racing on one item never both move it. The caller reads the count: 0
 * means another writer got there first. The groups of states (in flight, active, finished, paid) are plain data in
 * `batch-item-states.ts`, shared with the batch page.
 */
import type { Batch, BatchItem, ItemState, Prisma } from "@prisma/client";
import { updatedIfMatched } from "~/lib/guarded-update.server";

/** Where each state may go. A state with no move is final. */
const ITEM_TRANSITIONS: Readonly<Record<ItemState, readonly ItemState[]>> = {
  QUEUED: ["PROCESSING", "NEEDS_REVIEW", "PUBLISHED", "FAILED", "SUPERSEDED", "CANCELLED"],
  // A re-run (stalled job, retry, sweep) takes a PROCESSING item again.
  PROCESSING: ["PROCESSING", "NEEDS_REVIEW", "PUBLISHED", "FAILED", "SUPERSEDED", "CANCELLED"],
  NEEDS_REVIEW: ["QUEUED", "REJECTED", "CANCELLED"],
  PUBLISHED: ["RESTORED", "SUPERSEDED"],
  FAILED: [],
  // A version that was on the product (paid) is picked to go on it again.
  RESTORED: ["QUEUED"],
  CANCELLED: [],
  REJECTED: [],
  SUPERSEDED: ["QUEUED"],
};

/** A move the table does not allow: a defect in the caller, never the merchant's doing. */
export class ItemTransitionError extends Error {
  constructor(from: ItemState, to: ItemState) {
    super(`A BatchItem cannot move from ${from} to ${to}.`);
    this.name = "ItemTransitionError";
  }
}

function canTransition(from: ItemState, to: ItemState): boolean {
  return ITEM_TRANSITIONS[from].includes(to);
}

type Which =
  | { itemId: string; itemIds?: never; where?: never }
  | { itemIds: readonly string[]; itemId?: never; where?: never }
  /** A set of items (all the versions of one image, one media's items); `shop` and `state` are added. */
  | { where: Omit<Prisma.BatchItemWhereInput, "shop" | "state">; itemId?: never; itemIds?: never };

export type Transition = Which & {
  shop: string;
  /** The states the items may be moved from; each must be allowed to move to `to`. */
  from: ItemState | readonly ItemState[];
  to: ItemState;
  /** Further columns written with the move. */
  data?: Omit<Prisma.BatchItemUpdateManyMutationInput, "state">;
  /** Further conditions an item must meet to move (e.g. its replacement not sent yet), with `itemId`/`itemIds`. */
  guard?: Omit<Prisma.BatchItemWhereInput, "shop" | "state">;
};

/**
 * Moves the shop's selected items that are in one of `from` to `to`, in one conditional update, and returns how
 * many moved. Throws ItemTransitionError, before touching the database, for a move the table does not allow.
 */
export async function transition(db: Prisma.TransactionClient, move: Transition): Promise<number> {
  const from: readonly ItemState[] = typeof move.from === "string" ? [move.from] : move.from;
  if (from.length === 0) throw new Error("transition() needs at least one state to move from.");
  for (const state of from) if (!canTransition(state, move.to)) throw new ItemTransitionError(state, move.to);
  if (move.itemId !== undefined) {
    const moved = await updatedIfMatched(
      db.batchItem.update({
        where: { id: move.itemId, AND: [move.guard ?? {}], shop: move.shop, state: { in: [...from] } },
        data: { ...move.data, state: move.to },
        select: { id: true },
      }),
    );
    return moved ? 1 : 0;
  }
  const selected: Prisma.BatchItemWhereInput = move.itemIds !== undefined ? { id: { in: [...move.itemIds] } } : move.where;
  const updated = await db.batchItem.updateMany({
    where: { AND: [selected, move.guard ?? {}], shop: move.shop, state: { in: [...from] } },
    data: { ...move.data, state: move.to },
  });
  return updated.count;
}

/**
 * Moves the PUBLISHED versions of one image (the root item and its retries) other than `liveId` to SUPERSEDED (a move
 * the table allows), with the reason; returns how many moved.
 */
export async function supersedePublishedVersions(
  db: Prisma.TransactionClient,
  shop: string,
  versions: { rootId: string; liveId: string },
  reason: { text: string; message: Prisma.InputJsonValue },
): Promise<number> {
  if (!canTransition("PUBLISHED", "SUPERSEDED")) throw new ItemTransitionError("PUBLISHED", "SUPERSEDED");
  // Raw: a set of rows, which Prisma's updateMany would wrap in a transaction of its own (three statements per image).
  return db.$executeRaw`
    UPDATE "BatchItem"
    SET "state" = 'SUPERSEDED', "reason" = ${reason.text}, "reasonMessage" = ${JSON.stringify(reason.message)}::jsonb,
      "restoreRequestedAt" = NULL, "updatedAt" = (now() AT TIME ZONE 'UTC')
    WHERE "shop" = ${shop} AND ("id" = ${versions.rootId} OR "retryOfId" = ${versions.rootId}) AND "id" <> ${versions.liveId}
      AND "state" = 'PUBLISHED'`;
}

/**
 * The shop's item with its batch's pipeline and settings, and whether Shopify was last seen refusing the shop (frozen
 * or locked: `Shop.unavailableStatus`), in one statement (Prisma's `include` reads the batch with a second query);
 * null when there is no such item.
 */
export async function findItemWithBatch(
  db: Prisma.TransactionClient,
  shop: string,
  itemId: string,
): Promise<(BatchItem & { batch: Pick<Batch, "pipeline" | "settings">; shopUnavailableStatus: number | null }) | null> {
  const [row] = await db.$queryRaw<
    Array<BatchItem & { batchPipeline: Batch["pipeline"]; batchSettings: Batch["settings"]; shopUnavailableStatus: number | null }>
  >`
    SELECT i.*, b."pipeline" AS "batchPipeline", b."settings" AS "batchSettings", s."unavailableStatus" AS "shopUnavailableStatus"
    FROM "BatchItem" i JOIN "Batch" b ON b."id" = i."batchId" LEFT JOIN "Shop" s ON s."domain" = i."shop"
    WHERE i."id" = ${itemId} AND i."shop" = ${shop}`;
  if (!row) return null;
  const { batchPipeline, batchSettings, shopUnavailableStatus, ...item } = row;
  return { ...item, batch: { pipeline: batchPipeline, settings: batchSettings }, shopUnavailableStatus };
}
