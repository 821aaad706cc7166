import { Prisma, type PrismaClient } from "@prisma/client";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { AppError } from "~/lib/app-error";
import type { MerchantMessage } from "~/lib/merchant-message";

// Under load (a worker pool settling many items) waiting for a pooled connection can exceed Prisma's 2 s default.
export const LEDGER_TX_OPTIONS = { maxWait: 15_000, timeout: 15_000 };

/**
 * Append-only credit ledger.
 *
 * Every change is one CreditEntry (availableDelta, reservedDelta) plus the same change applied to the
 * shop's CreditAccount row in the same transaction, so the sum of a shop's entries always equals its
 * account row. The balance the merchant sees is available + reserved.
 *
 * Idempotency: each entry carries a key unique per shop; the entry is inserted with
 * ON CONFLICT DO NOTHING *before* the account is touched, so a repeated call changes nothing and a
 * concurrent duplicate waits for the first and then sees "already done".
 *
 * Overspending is impossible: a reservation is one conditional UPDATE ... WHERE available >= n,
 * backed by CHECK (available >= 0) in the migration.
 */

export type Db = PrismaClient | Prisma.TransactionClient;

export const CREDITS_PER_IMAGE = getConfig().CREDITS_PER_IMAGE;

export type GrantKind = "GRANT" | "WELCOME" | "PURCHASE" | "ADJUSTMENT";

export interface Balance {
  available: number;
  reserved: number;
  total: number;
}

export class InsufficientCreditsError extends AppError {
  readonly needed: number;
  readonly available: number;
  constructor(needed: number, available: number, refusal?: { message: string; merchant: MerchantMessage }) {
    super(
      refusal?.message ??
        `This batch needs ${needed} credits; you have ${available}. Buy a credit pack on the Credits page, or select fewer images.`,
      { httpStatus: 422, merchant: refusal?.merchant ?? { code: "insufficientCredits", params: { needed, available } } },
    );
    this.name = "InsufficientCreditsError";
    this.needed = needed;
    this.available = available;
  }
}

export async function getBalance(db: Db, shop: string): Promise<Balance> {
  const account = await db.creditAccount.findUnique({ where: { shop }, select: { available: true, reserved: true } });
  const available = account?.available ?? 0;
  const reserved = account?.reserved ?? 0;
  return { available, reserved, total: available + reserved };
}

/** How a grant is recorded: its key, and its note for the history (English, and as a message for the viewer's language). */
export interface GrantOptions {
  kind: GrantKind;
  idempotencyKey: string;
  purchaseId?: string;
  note?: string;
  noteMessage?: MerchantMessage;
}

/** Adds credits once per idempotency key. `granted` is false when the key was already used. */
export async function grantCredits(db: PrismaClient, shop: string, amount: number, opts: GrantOptions): Promise<{ granted: boolean }> {
  return db.$transaction((tx) => grantCreditsInTransaction(tx, shop, amount, opts), LEDGER_TX_OPTIONS);
}

/** Same as grantCredits, inside the caller's transaction (e.g. to mark a purchase granted atomically). */
export async function grantCreditsInTransaction(
  tx: Prisma.TransactionClient,
  shop: string,
  amount: number,
  opts: GrantOptions,
): Promise<{ granted: boolean }> {
  assertGrantAmount(amount, opts.kind);
  // Credits owed for a refund or dispute are paid first from what comes in (the row lock orders it with reversals).
  const [owing] =
    amount > 0
      ? await tx.$queryRaw<Array<{ debt: number }>>`
    SELECT "debt" FROM "CreditAccount" WHERE "shop" = ${shop} FOR UPDATE`
      : [];
  const paid = Math.min(owing?.debt ?? 0, Math.max(amount, 0));
  const inserted = await insertEntry(tx, {
    shop,
    kind: opts.kind,
    availableDelta: amount - paid,
    reservedDelta: 0,
    debtDelta: -paid,
    idempotencyKey: opts.idempotencyKey,
    purchaseId: opts.purchaseId ?? null,
    note: paid > 0 ? `${opts.note ?? "Credits added"} (${paid} paid what was owed)` : (opts.note ?? null),
    noteMessage: paid > 0 ? { code: "notePaidOwed", params: { count: amount, paid } } : (opts.noteMessage ?? null),
  });
  if (!inserted) return { granted: false };
  if (amount >= 0) {
    await tx.$executeRaw`
      INSERT INTO "CreditAccount" ("shop", "available", "reserved", "updatedAt")
      VALUES (${shop}, ${amount - paid}, 0, ${utcNow})
      ON CONFLICT ("shop") DO UPDATE
        SET "available" = "CreditAccount"."available" + EXCLUDED."available", "debt" = "CreditAccount"."debt" - ${paid},
          "updatedAt" = EXCLUDED."updatedAt"`;
  } else {
    // A negative adjustment may only take what is available.
    const taken = await tx.$executeRaw`
      UPDATE "CreditAccount" SET "available" = "available" + ${amount}, "updatedAt" = ${utcNow}
      WHERE "shop" = ${shop} AND "available" >= ${-amount}`;
    if (taken === 0) throw new InsufficientCreditsError(-amount, (await getBalance(tx, shop)).available);
  }
  logger.info({ shop, kind: opts.kind, amount, idempotencyKey: opts.idempotencyKey }, "credits granted");
  return { granted: true };
}

/**
 * Takes back `amount` credits (a refunded or disputed purchase), once per idempotency key: as much as is available,
 * and the rest is recorded as debt, which blocks new batches until a grant (or credits returned later) pays it.
 * Held credits are left alone: their images are already being worked on. Returns what was taken and what is owed.
 */
export async function reverseCreditsInTransaction(
  tx: Prisma.TransactionClient,
  shop: string,
  amount: number,
  opts: { idempotencyKey: string; purchaseId?: string; note: string; noteMessage: (owed: number) => MerchantMessage },
): Promise<{ reversed: boolean; taken: number; owed: number }> {
  if (!Number.isInteger(amount) || amount <= 0) throw new Error(`A reversal must be a positive whole number, got ${amount}`);
  await tx.$executeRaw`
    INSERT INTO "CreditAccount" ("shop", "available", "reserved", "updatedAt") VALUES (${shop}, 0, 0, ${utcNow})
    ON CONFLICT ("shop") DO NOTHING`;
  const [account] = await tx.$queryRaw<Array<{ available: number }>>`
    SELECT "available" FROM "CreditAccount" WHERE "shop" = ${shop} FOR UPDATE`;
  const taken = Math.min(account?.available ?? 0, amount);
  const owed = amount - taken;
  const inserted = await insertEntry(tx, {
    shop,
    kind: "ADJUSTMENT",
    availableDelta: -taken,
    reservedDelta: 0,
    debtDelta: owed,
    idempotencyKey: opts.idempotencyKey,
    purchaseId: opts.purchaseId ?? null,
    note: owed > 0 ? `${opts.note} (${owed} owed)` : opts.note,
    noteMessage: opts.noteMessage(owed),
  });
  if (!inserted) return { reversed: false, taken: 0, owed: 0 };
  await tx.$executeRaw`
    UPDATE "CreditAccount" SET "available" = "available" - ${taken}, "debt" = "debt" + ${owed}, "updatedAt" = ${utcNow}
    WHERE "shop" = ${shop}`;
  logger.warn({ shop, amount, taken, owed, idempotencyKey: opts.idempotencyKey }, "credits taken back");
  return { reversed: true, taken, owed };
}

/** Pays what the shop owes from its available credits (e.g. credits returned by failed images); returns what is still owed. */
export async function payDebtFromAvailable(db: PrismaClient, shop: string): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ debt: number }>>`
    WITH account AS (
      SELECT "shop", "available", "debt", LEAST("available", "debt") AS pay FROM "CreditAccount" WHERE "shop" = ${shop} FOR UPDATE
    ), paid AS (
      UPDATE "CreditAccount" a SET "available" = a."available" - account.pay, "debt" = a."debt" - account.pay, "updatedAt" = ${utcNow}
      FROM account WHERE a."shop" = account."shop" AND account.pay > 0
      RETURNING a."debt"
    ), entry AS (
      INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "debtDelta", "idempotencyKey", "note", "noteMessage", "createdAt")
      SELECT ${newEntryId}, ${shop}, 'ADJUSTMENT'::"CreditKind", -account.pay, 0, -account.pay, 'debt-paid:' || gen_random_uuid()::text,
        account.pay || ' credits paid what was owed', jsonb_build_object('code', 'noteDebtPaid', 'params', jsonb_build_object('count', account.pay)), ${utcNow}
      FROM account WHERE account.pay > 0
      RETURNING 1
    )
    SELECT COALESCE((SELECT "debt" FROM paid), (SELECT "debt" FROM account), 0)::int AS debt`;
  return row?.debt ?? 0;
}

export async function getDebt(db: Db, shop: string): Promise<number> {
  const account = await db.creditAccount.findUnique({ where: { shop }, select: { debt: true } });
  return account?.debt ?? 0;
}

export const WELCOME_CREDITS = getConfig().WELCOME_CREDITS;

/**
 * Credits a development store may get for nothing over its life (DEV_STORE_TEST_CREDITS, default 30 = ten images):
 * its welcome credits and its test charges together. A partner can try the app on real edits, which we pay for,
 * but neither buys them without limit for nothing nor gets more by creating development stores than this each.
 */
export function devStoreTestCredits(): number {
  return getConfig().DEV_STORE_TEST_CREDITS;
}

/**
 * Locks the shop's row, which serializes its free grants (two at once cannot both fit under the cap), and returns
 * whether it is a development store (null: its plan was never read) and the credits it got for nothing so far:
 * welcome credits and paid test charges (less what was taken back).
 */
export async function lockFreeCreditsOfShop(
  tx: Prisma.TransactionClient,
  shop: string,
): Promise<{ partnerDevelopment: boolean | null; granted: number }> {
  const [row] = await tx.$queryRaw<Array<{ partnerDevelopment: boolean | null }>>`
    SELECT "partnerDevelopment" FROM "Shop" WHERE "domain" = ${shop} FOR UPDATE`;
  const [sum] = await tx.$queryRaw<Array<{ granted: number }>>`
    SELECT COALESCE(sum(e."availableDelta" - e."debtDelta"), 0)::int AS granted
    FROM "CreditEntry" e LEFT JOIN "Purchase" p ON p."id" = e."purchaseId"
    WHERE e."shop" = ${shop}
      AND (e."kind" = 'WELCOME' OR (e."kind" = 'PURCHASE' AND p."provider" = 'SHOPIFY' AND p."test"))`;
  return { partnerDevelopment: row?.partnerDevelopment ?? null, granted: sum?.granted ?? 0 };
}

/**
 * Welcome credits, once per shop for its whole life (the key survives uninstalls and reinstalls). They wait until
 * the shop's plan is known: a development store's count against devStoreTestCredits() with its test charges, so it
 * gets what is left under that cap (none once its test charges used it).
 */
export async function grantWelcomeCredits(db: PrismaClient, shop: string): Promise<{ granted: boolean }> {
  if (WELCOME_CREDITS === 0) return { granted: false };
  return db.$transaction(async (tx) => {
    const store = await lockFreeCreditsOfShop(tx, shop);
    if (store.partnerDevelopment == null) {
      logger.warn({ shop }, "welcome credits wait: the shop's plan is not known yet");
      return { granted: false };
    }
    const amount = store.partnerDevelopment
      ? Math.min(WELCOME_CREDITS, Math.max(0, devStoreTestCredits() - store.granted))
      : WELCOME_CREDITS;
    if (amount === 0) return { granted: false };
    return grantCreditsInTransaction(tx, shop, amount, {
      kind: "WELCOME",
      idempotencyKey: "welcome",
      ...(amount < WELCOME_CREDITS
        ? {
            note: `Welcome: ${amount} free credits (development stores get up to ${devStoreTestCredits()} free credits)`,
            noteMessage: { code: "noteWelcomeDevStore", params: { count: amount, limit: devStoreTestCredits() } },
          }
        : { note: `Welcome: ${amount} free credits`, noteMessage: { code: "noteWelcome", params: { count: amount } } }),
    });
  }, LEDGER_TX_OPTIONS);
}

/** Pure: the balance implied by a list of entries (used to check the cached row against the ledger). */
export function sumEntries(entries: Array<{ availableDelta: number; reservedDelta: number }>): Balance {
  let available = 0;
  let reserved = 0;
  for (const entry of entries) {
    available += entry.availableDelta;
    reserved += entry.reservedDelta;
  }
  return { available, reserved, total: available + reserved };
}

// --- internals ---

// Timestamps written by raw SQL match Prisma's (UTC in "timestamp without time zone" columns).
export const utcNow = Prisma.sql`(now() AT TIME ZONE 'UTC')`;

// Entry ids sort by creation time (microsecond hex prefix), so history pages keep a stable order even
// when several entries share a millisecond.
export const newEntryId = Prisma.sql`(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || '-' || gen_random_uuid()::text)`;

async function insertEntry(
  tx: Prisma.TransactionClient,
  entry: {
    shop: string;
    kind: "GRANT" | "WELCOME" | "PURCHASE" | "RESERVE" | "CAPTURE" | "RELEASE" | "ADJUSTMENT";
    availableDelta: number;
    reservedDelta: number;
    debtDelta?: number;
    idempotencyKey: string;
    reservationId?: string | null;
    purchaseId?: string | null;
    note: string | null;
    noteMessage: MerchantMessage | null;
  },
): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "debtDelta", "idempotencyKey", "reservationId", "purchaseId", "note", "noteMessage", "createdAt")
    VALUES (${newEntryId}, ${entry.shop}, ${entry.kind}::"CreditKind", ${entry.availableDelta}, ${entry.reservedDelta}, ${entry.debtDelta ?? 0},
      ${entry.idempotencyKey}, ${entry.reservationId ?? null}, ${entry.purchaseId ?? null}, ${entry.note},
      ${entry.noteMessage ? JSON.stringify(entry.noteMessage) : null}::jsonb, ${utcNow})
    ON CONFLICT ("shop", "idempotencyKey") DO NOTHING
    RETURNING "id"`;
  return rows.length > 0;
}

function assertGrantAmount(amount: number, kind: GrantKind): void {
  if (!Number.isInteger(amount)) throw new Error(`Credit amounts are whole numbers, got ${amount}`);
  if (kind === "ADJUSTMENT" ? amount === 0 : amount <= 0) {
    throw new Error(`A ${kind.toLowerCase()} must ${kind === "ADJUSTMENT" ? "not be zero" : "be positive"}, got ${amount}`);
  }
}
