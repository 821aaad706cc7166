/**
 * A store Shopify has frozen (HTTP 402: its Shopify bill is unpaid) or locked (423) answers every Admin API request
 * with that status (https://shopify.dev/docs/api/usage/response-codes), so none of its images can be replaced until
 * it opens again. The worker marks the shop when a job meets one of them (`Shop.unavailableAt`/`unavailableStatus`);
 * a later job of a marked shop asks Shopify once (`shop { id }`, the cheapest read) before it downloads the original
 * or pays for a model call, fails at once while the store is still refused, and clears the mark once it answers. A
 * healthy shop pays nothing for this: the mark is read with the item (`findItemWithBatch`).
 */
import type { PrismaClient } from "@prisma/client";
import { runGraphql, ShopifyApiError, type AdminGraphql } from "~/lib/admin-graphql.server";
import type { MerchantText } from "~/lib/merchant-message";

/** 402: frozen until the merchant pays Shopify's bill; 423: locked by Shopify (fraud risk, an account issue). */
export type ShopUnavailableStatus = 402 | 423;

export const SHOP_FROZEN: MerchantText = {
  text: "Shopify has frozen this store until its outstanding Shopify bill is paid, so its images cannot be changed. Your credits were returned; pay the bill in your Shopify admin, then try these images again.",
  message: { code: "itemShopFrozen" },
};
export const SHOP_LOCKED: MerchantText = {
  text: "Shopify has locked this store, so its images cannot be changed. Your credits were returned; contact Shopify support to unlock the store, then try these images again.",
  message: { code: "itemShopLocked" },
};

/** What the merchant reads for an image Shopify refused because the store is frozen or locked. */
export function unavailableReason(status: ShopUnavailableStatus): MerchantText {
  return status === 402 ? SHOP_FROZEN : SHOP_LOCKED;
}

/** Why a restore could not put an original back (it costs no credits), stored inside `itemRestoreFailed`. */
export function unavailableRestoreDetail(status: ShopUnavailableStatus): MerchantText {
  const text =
    status === 402
      ? "Shopify has frozen this store until its outstanding Shopify bill is paid; pay the bill in your Shopify admin first."
      : "Shopify has locked this store; contact Shopify support to unlock it first.";
  return { text, message: unavailableReason(status).message };
}

/** 402 or 423 when `error` is Shopify refusing the whole store, else null. */
export function shopUnavailableStatusOf(error: unknown): ShopUnavailableStatus | null {
  if (!(error instanceof ShopifyApiError)) return null;
  return error.shopifyStatus === 402 || error.shopifyStatus === 423 ? error.shopifyStatus : null;
}

/** The stored mark read back (an Int column): 402, 423, or null for anything else. */
export function storedUnavailableStatus(value: number | null | undefined): ShopUnavailableStatus | null {
  return value === 402 || value === 423 ? value : null;
}

/** Records that Shopify refused the store (one update; nothing when the shop has no row). */
export async function markShopUnavailable(db: PrismaClient, shop: string, status: ShopUnavailableStatus): Promise<void> {
  await db.shop.updateMany({ where: { domain: shop }, data: { unavailableAt: new Date(), unavailableStatus: status } });
}

const SHOP_AVAILABILITY = `#graphql
  query ShopAvailability {
    shop { id }
  }
`;

/**
 * Asks Shopify once whether a store marked unavailable answers again: a 402/423 is thrown as the ShopifyApiError it
 * is (the caller fails the item with `unavailableReason`); an answer clears the mark.
 */
export async function checkShopAvailable(db: PrismaClient, graphql: AdminGraphql, shop: string): Promise<void> {
  await runGraphql(graphql, SHOP_AVAILABILITY);
  await db.shop.updateMany({
    where: { domain: shop, unavailableAt: { not: null } },
    data: { unavailableAt: null, unavailableStatus: null },
  });
}

/**
 * Runs `work` (the caller's Admin API requests for the shop) unless Shopify refuses the store: a shop marked before
 * is asked first (checkShopAvailable, with the client `adminFor` gives), and a refusal met there or by `work` marks
 * the shop and is returned instead of thrown. `mark` is the stored status when the caller read it with its own row;
 * left out, it is read here.
 */
export async function unlessShopRefused<T>(
  db: PrismaClient,
  shop: string,
  adminFor: () => AdminGraphql | Promise<AdminGraphql>,
  work: () => Promise<T>,
  mark?: number | null,
): Promise<{ value: T } | { refused: ShopUnavailableStatus }> {
  try {
    const stored =
      mark !== undefined
        ? mark
        : (await db.shop.findUnique({ where: { domain: shop }, select: { unavailableStatus: true } }))?.unavailableStatus;
    if (storedUnavailableStatus(stored)) await checkShopAvailable(db, await adminFor(), shop);
    return { value: await work() };
  } catch (error) {
    const refused = shopUnavailableStatusOf(error);
    if (!refused) throw error;
    await markShopUnavailable(db, shop, refused);
    return { refused };
  }
}
