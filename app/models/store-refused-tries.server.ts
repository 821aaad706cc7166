/**
 * Images the worker failed because Shopify refused the store (frozen or locked, see shop-availability.server.ts) were
 * never processed, and their credits went back. Once the store answers, whatever queued them adds each again as a new
 * try of its failed item: a catalogue run (catalog-runs.server.ts) and the automatic rule (auto-rule.server.ts). Both
 * pick the images here and add them through addFundedItems with `storeRefusedRetry`, so lockImagesToTry keeps each
 * image to one try at a time, the merchant's "Try again" included, and each try is charged once.
 */
import type { BatchItem, Prisma, PrismaClient } from "@prisma/client";
import { storedMessage, type MessageCode } from "~/lib/merchant-message";
import type { FundedItemsInput } from "~/models/batches.server";
import { groupVersions, type VersionGroup, type WhyNoRetry } from "~/models/versions";

/** The reasons of an item the worker failed because Shopify refused the store: its image was never processed. */
const STORE_REFUSED_ITEM_CODES = ["itemShopFrozen", "itemShopLocked"] as const satisfies readonly MessageCode[];

const storeRefusedItemFilter = {
  state: "FAILED",
  OR: STORE_REFUSED_ITEM_CODES.map((code) => ({ reasonMessage: { path: ["code"], equals: code } })),
} satisfies Prisma.BatchItemWhereInput;

const refusedByStore = (item: Pick<BatchItem, "state" | "reasonMessage">): boolean =>
  item.state === "FAILED" && STORE_REFUSED_ITEM_CODES.some((code) => code === storedMessage(item.reasonMessage)?.code);

/** An image is added again at most this many times: a store refusing only some requests must not loop on model calls. */
const STORE_REFUSED_TRIES = 3;

/**
 * Whether an image is added again (the pick below, and lockImagesToTry's check under the image's lock): its current
 * version failed because Shopify refused the store, fewer than STORE_REFUSED_TRIES times. An image the merchant tried
 * again meanwhile ("Try again", "Try the failed images again") is left to that try.
 */
function storeRefusedToAddAgain(group: VersionGroup<BatchItem>): WhyNoRetry | null {
  if (!refusedByStore(group.current)) return "retryWrongState";
  return group.versions.filter(refusedByStore).length < STORE_REFUSED_TRIES ? null : "retryWrongState";
}

/** addFundedItems' `retry` for these images (`of`: media id -> the image's first item). */
export function storeRefusedRetry(of: ReadonlyMap<string, string>): NonNullable<FundedItemsInput["retry"]> {
  return { of, check: storeRefusedToAddAgain };
}

export interface StoreRefusedImages {
  /** Each version's id -> its image's first item. */
  rootOf: Map<string, string>;
  /** The images to add again (their first items), each with its versions, oldest first. */
  again: Array<{ rootId: string; versions: BatchItem[] }>;
}

/**
 * Among the images of the shop's items `where` selects that failed because Shopify refused the store, those to add
 * again now (storeRefusedToAddAgain). Without such failures, one query.
 */
export async function storeRefusedImages(
  db: Pick<PrismaClient, "batchItem">,
  shop: string,
  where: Prisma.BatchItemWhereInput,
): Promise<StoreRefusedImages> {
  const failed = await db.batchItem.findMany({
    where: { ...where, shop, ...storeRefusedItemFilter },
    select: { id: true, retryOfId: true },
  });
  if (failed.length === 0) return { rootOf: new Map(), again: [] };
  const roots = [...new Set(failed.map((item) => item.retryOfId ?? item.id))];
  const items = await db.batchItem.findMany({
    where: { shop, OR: [{ id: { in: roots } }, { retryOfId: { in: roots } }] },
    orderBy: { createdAt: "asc" },
  });
  return {
    rootOf: new Map(items.map((item) => [item.id, item.retryOfId ?? item.id])),
    again: groupVersions(items)
      .filter((group) => storeRefusedToAddAgain(group) === null)
      .map((group) => ({ rootId: group.versions[0]!.retryOfId ?? group.versions[0]!.id, versions: group.versions })),
  };
}
