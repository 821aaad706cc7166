import type { Prisma, PrismaClient, Purchase } from "@prisma/client";
import { logger } from "~/lib/logger.server";
import { grantCreditsInTransaction, LEDGER_TX_OPTIONS, reverseCreditsInTransaction } from "./credit-ledger.server";
import { packLabel } from "./packs.server";

/**
 * Money going back to the merchant after a pack was paid: refunds (Stripe, or a Shopify app charge refunded from the
 * Partner Dashboard) and card disputes. They take back the purchase's credits in proportion to the money returned
 * (rounded up), at most what the purchase credited; a dispute the merchant wins gives its share back. The purchase
 * keeps each share (refunds are cumulative, a dispute is whole), and only the difference between their sum and what
 * was already taken moves the ledger, under the purchase's row lock: replays and reordered events move it once. What
 * the balance cannot cover becomes debt (reverseCreditsInTransaction); credits given back pay debt first.
 */

export interface MoneyShare {
  amount: number;
  /** The whole the amount is part of; null: the purchase's recorded price. */
  of: number | null;
}

/** What an event says about the money returned so far: a refunded total, or the dispute's amount (null: won). */
export type ReversalChange = { refunded: MoneyShare } | { disputed: MoneyShare | null };

export type ReversalOutcome = "reversed" | "reinstated" | "already-reversed" | "ignored";

/** Moves the ledger to what `change` says the purchase is owed back. Call inside a transaction holding the purchase's row lock. */
/** What happened to the payment, in the ledger's English note. */
export type ReversalWhy = "refunded" | "disputed" | "dispute won";

export async function applyReversal(
  tx: Prisma.TransactionClient,
  purchase: Purchase,
  input: { change: ReversalChange; why: ReversalWhy; /** Names the ledger entry that gives credits back. */ eventKey: string },
): Promise<ReversalOutcome> {
  if (!purchase.grantedAt || purchase.credits === 0) {
    logger.warn({ shop: purchase.shop, purchaseId: purchase.id, why: input.why }, "payment taken back before its credits were granted");
    return "ignored";
  }
  const creditsFor = (share: MoneyShare) => {
    const of = share.of ?? purchase.amountCents;
    return of > 0 ? Math.min(purchase.credits, Math.ceil((purchase.credits * share.amount) / of)) : purchase.credits;
  };
  const { change } = input;
  const shares =
    "refunded" in change
      ? { refundedCredits: Math.max(purchase.refundedCredits, creditsFor(change.refunded)), disputedCredits: purchase.disputedCredits }
      : { refundedCredits: purchase.refundedCredits, disputedCredits: change.disputed ? creditsFor(change.disputed) : 0 };
  const target = Math.min(purchase.credits, shares.refundedCredits + shares.disputedCredits);
  await tx.purchase.update({ where: { id: purchase.id }, data: { ...shares, reversedCredits: target } });
  const label = packLabel(purchase.pack);
  // Replays are stopped by the purchase's row lock and reversedCredits; the key only has to name this one move, which
  // can recur with the same target (taken back for a dispute, given back when it is won, taken back for a refund).
  const move = `${purchase.id}:${purchase.reversedCredits}:${target}:${input.eventKey}`;
  if (target > purchase.reversedCredits) {
    const amount = target - purchase.reversedCredits;
    const { reversed } = await reverseCreditsInTransaction(tx, purchase.shop, amount, {
      idempotencyKey: `reversal:${move}`,
      purchaseId: purchase.id,
      note: `${label} pack ${input.why}: ${amount} credits taken back`,
      noteMessage: (owed) => ({
        code:
          input.why === "disputed"
            ? owed > 0
              ? "noteDisputeTakenBackOwed"
              : "noteDisputeTakenBack"
            : owed > 0
              ? "noteRefundTakenBackOwed"
              : "noteRefundTakenBack",
        params: { pack: label, count: amount, ...(owed > 0 ? { owed } : {}) },
      }),
    });
    if (!reversed) throw new Error(`reversal ${move} was already in the ledger while the purchase said otherwise`);
    return "reversed";
  }
  if (target < purchase.reversedCredits) {
    const amount = purchase.reversedCredits - target;
    const { granted } = await grantCreditsInTransaction(tx, purchase.shop, amount, {
      kind: "ADJUSTMENT",
      idempotencyKey: `reinstated:${move}`,
      purchaseId: purchase.id,
      note: `${label} pack ${input.why}: ${amount} credits given back`,
      noteMessage: { code: "noteGivenBack", params: { pack: label, count: amount } },
    });
    if (!granted) throw new Error(`reinstatement ${move} was already in the ledger while the purchase said otherwise`);
    return "reinstated";
  }
  return "already-reversed";
}

/** Runs `apply` on the purchase found by `where`, under its row lock; null when no such purchase was recorded. */
export async function withLockedPurchase<T>(
  db: PrismaClient,
  where: { paymentIntentId: string } | { externalId: string },
  apply: (tx: Prisma.TransactionClient, purchase: Purchase) => Promise<T>,
): Promise<T | null> {
  return db.$transaction(async (tx) => {
    const [locked] =
      "paymentIntentId" in where
        ? await tx.$queryRaw<Array<{ id: string }>>`
            SELECT "id" FROM "Purchase" WHERE "paymentIntentId" = ${where.paymentIntentId} AND "provider" = 'STRIPE' FOR UPDATE`
        : await tx.$queryRaw<Array<{ id: string }>>`SELECT "id" FROM "Purchase" WHERE "externalId" = ${where.externalId} FOR UPDATE`;
    if (!locked) return null;
    return apply(tx, await tx.purchase.findUniqueOrThrow({ where: { id: locked.id } }));
  }, LEDGER_TX_OPTIONS);
}
