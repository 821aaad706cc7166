import { Prisma, type Purchase, type PurchaseStatus } from "@prisma/client";
import { logger } from "~/lib/logger.server";
import { purchases as purchaseMetric } from "~/lib/metrics.server";
import { devStoreTestCredits, grantCreditsInTransaction, lockFreeCreditsOfShop } from "./credit-ledger.server";
import { type CreditPack, findCreditPack, formatPrice, getCreditPacks, packLabel } from "./packs.server";
import { AppError } from "~/lib/app-error";
import { storedMessage, type MerchantMessage, type MerchantText } from "~/lib/merchant-message";

/**
 * Credit packs bought once, through Shopify's Billing API (App Store installs) or Stripe Checkout
 * (custom-distribution installs). A purchase is recorded PENDING before the merchant is sent to pay;
 * it is granted exactly once, keyed in the ledger on the provider's id (`shopify-purchase:<gid>`,
 * `stripe-session:<id>`), whichever notification (webhook, return URL, second event) arrives first.
 */

/** Input the merchant can fix (unknown pack, provider not configured). Routes answer 400 with the message. */
export class PurchaseInputError extends AppError {
  constructor(message: string, merchant: MerchantMessage | null = null) {
    super(message, { httpStatus: 400, merchant });
    this.name = "PurchaseInputError";
  }
}

/** The payment provider refused or failed; the message is safe to show. Routes answer 502. */
export class PurchaseProviderError extends AppError {
  constructor(message: string, options?: { cause?: unknown; merchant?: MerchantMessage }) {
    super(message, { httpStatus: 502, merchant: options?.merchant ?? null, cause: options?.cause });
    this.name = "PurchaseProviderError";
  }
}

// ---------------------------------------------------------------------------------------------
// Shared settlement
// ---------------------------------------------------------------------------------------------

export async function lockPurchase(tx: Prisma.TransactionClient, externalId: string): Promise<Purchase> {
  // Serializes the webhook, the return URL and a second event for the same purchase.
  await tx.$queryRaw`SELECT "id" FROM "Purchase" WHERE "externalId" = ${externalId} FOR UPDATE`;
  return tx.purchase.findUniqueOrThrow({ where: { externalId } });
}

export async function settlePurchase(
  tx: Prisma.TransactionClient,
  purchase: Purchase,
  status: PurchaseStatus,
  idempotencyKey: string,
  /** What the provider says was paid, when it says it: must be the recorded price. */
  paid?: { amountCents: number; currency: string },
): Promise<{ purchase: Purchase; granted: boolean }> {
  // A granted purchase stays ACTIVE whatever arrives later (a stale or reordered notification).
  if (purchase.status === "ACTIVE" || purchase.grantedAt) return { purchase, granted: false };
  if (status === "PENDING" || status === purchase.status) return { purchase, granted: false };
  const allowance = status === "ACTIVE" ? await creditsAllowedFor(tx, purchase, paid) : null;
  if (status === "ACTIVE" && allowance === null) return { purchase, granted: false };
  purchaseMetric.inc({ provider: purchase.provider.toLowerCase(), pack: purchase.pack, status: status.toLowerCase() });
  if (status !== "ACTIVE" || !allowance) {
    const updated = await tx.purchase.update({ where: { id: purchase.id }, data: { status } });
    logger.info({ shop: purchase.shop, purchaseId: purchase.id, status }, "purchase not paid");
    return { purchase: updated, granted: false };
  }
  let granted = false;
  if (allowance.credits > 0) {
    ({ granted } = await grantCreditsInTransaction(tx, purchase.shop, allowance.credits, {
      kind: "PURCHASE",
      idempotencyKey,
      purchaseId: purchase.id,
      note: `${packLabel(purchase.pack)} pack: ${allowance.credits} credits${purchase.test ? " (test charge)" : ""}`,
      noteMessage: {
        code: purchase.test ? "notePackGrantedTest" : "notePackGranted",
        params: { pack: packLabel(purchase.pack), count: allowance.credits },
      },
    }));
  }
  if (allowance.note)
    logger.warn(
      { shop: purchase.shop, purchaseId: purchase.id, credits: allowance.credits, note: allowance.note.text },
      "purchase credited in part",
    );
  const updated = await tx.purchase.update({
    where: { id: purchase.id },
    data: {
      status: "ACTIVE",
      grantedAt: allowance.credits > 0 ? new Date() : null,
      note: allowance.note?.text ?? null,
      noteMessage: allowance.note?.message ?? Prisma.DbNull,
    },
  });
  return { purchase: updated, granted };
}

/**
 * What a paid purchase may credit. A Shopify test charge is paid by nobody: it credits only a development store,
 * and only up to devStoreTestCredits() over the store's life (its welcome credits included); on any other store it credits nothing (a deployment
 * left in test mode must not give edits away). null: whether the store is a development store is not known yet
 * (the purchase waits for the return URL, which reads the plan).
 */
async function creditsAllowedFor(
  tx: Prisma.TransactionClient,
  purchase: Purchase,
  paid?: { amountCents: number; currency: string },
): Promise<{ credits: number; note: MerchantText | null } | null> {
  if (paid && (paid.amountCents !== purchase.amountCents || paid.currency.toUpperCase() !== purchase.currency)) {
    logger.error(
      { shop: purchase.shop, purchaseId: purchase.id, paid, expected: purchase.amountCents },
      "amount paid is not the pack's price: no credits",
    );
    const amounts = {
      paid: formatPrice(paid.amountCents, paid.currency.toUpperCase() || purchase.currency),
      price: formatPrice(purchase.amountCents, purchase.currency),
    };
    return {
      credits: 0,
      note: {
        text: `The amount paid (${amounts.paid}) is not the pack's price (${amounts.price}), so no credits were added. Contact support to have it settled.`,
        message: { code: "noteAmountNotPrice", params: amounts },
      },
    };
  }
  if (purchase.provider !== "SHOPIFY" || !purchase.test) return { credits: purchase.credits, note: null };
  const shop = await lockFreeCreditsOfShop(tx, purchase.shop);
  if (shop.partnerDevelopment == null) {
    logger.warn(
      { shop: purchase.shop, purchaseId: purchase.id },
      "test charge for a store whose plan is unknown: waiting for the return URL",
    );
    return null;
  }
  if (!shop.partnerDevelopment) {
    logger.error({ shop: purchase.shop, purchaseId: purchase.id }, "test charge on a store that pays: no credits");
    return {
      credits: 0,
      note: {
        text: "This was a test charge, so no credits were added. Test charges give credits on development stores only.",
        message: { code: "noteTestChargeNoCredits" },
      },
    };
  }
  const limit = devStoreTestCredits();
  const credits = Math.max(0, Math.min(purchase.credits, limit - shop.granted));
  return {
    credits,
    note:
      credits < purchase.credits
        ? {
            text: `Test charge on a development store: ${credits} of ${purchase.credits} credits added (development stores get up to ${limit} free credits, welcome credits included).`,
            message: { code: "noteTestChargePartial", params: { count: credits, packCredits: purchase.credits, limit } },
          }
        : null,
  };
}

export function requirePack(packId: string): CreditPack {
  const pack = findCreditPack(packId);
  if (!pack) {
    const packs = getCreditPacks()
      .map((p) => p.name)
      .join(", ");
    throw new PurchaseInputError(`There is no credit pack called "${packId}". Choose one of: ${packs}.`, {
      code: "unknownPack",
      params: { packId, packs },
    });
  }
  return pack;
}

// ---------------------------------------------------------------------------------------------
// How a purchase is shown
// ---------------------------------------------------------------------------------------------

export interface PurchaseSummary {
  id: string;
  provider: "SHOPIFY" | "STRIPE";
  pack: string;
  packName: string;
  credits: number;
  price: string;
  /** The price as numbers, for the UI to format in the merchant's language. */
  amountCents: number;
  currency: string;
  status: PurchaseStatus;
  test: boolean;
  /** Why fewer credits than the pack's were added, when they were. */
  note: string | null;
  noteMessage: MerchantMessage | null;
  createdAt: Date;
}

export function summarize(purchase: Purchase): PurchaseSummary {
  return {
    id: purchase.id,
    provider: purchase.provider,
    pack: purchase.pack,
    packName: packLabel(purchase.pack),
    credits: purchase.credits,
    price: formatPrice(purchase.amountCents, purchase.currency),
    amountCents: purchase.amountCents,
    currency: purchase.currency,
    status: purchase.status,
    test: purchase.test,
    note: purchase.note,
    noteMessage: storedMessage(purchase.noteMessage),
    createdAt: purchase.createdAt,
  };
}
