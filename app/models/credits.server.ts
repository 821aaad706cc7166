import { Prisma, type PrismaClient } from "@prisma/client";
import { logger } from "~/lib/logger.server";
import { creditsMoved } from "~/lib/metrics.server";

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

type Db = PrismaClient | Prisma.TransactionClient;

export const CREDITS_PER_IMAGE = positiveIntFromEnv("CREDITS_PER_IMAGE", 3);

export type GrantKind = "GRANT" | "WELCOME" | "PURCHASE" | "ADJUSTMENT";

export interface Balance {
  available: number;
  reserved: number;
  total: number;
}

export interface LedgerEntry {
  id: string;
  kind: string;
  /** Change to the balance the merchant sees (available + reserved): a reserve or release is 0, a capture is negative. */
  amount: number;
  availableDelta: number;
  reservedDelta: number;
  note: string | null;
  createdAt: Date;
}

export class InsufficientCreditsError extends Error {
  readonly needed: number;
  readonly available: number;
  constructor(needed: number, available: number, message?: string) {
    super(
      message ??
        `This batch needs ${needed} credits; you have ${available}. Buy a credit pack on the Credits page, or select fewer images.`,
    );
    this.name = "InsufficientCreditsError";
    this.needed = needed;
    this.available = available;
  }
}

/** Refusal because of the shop's daily spend cap. A subclass so callers that map InsufficientCreditsError to a 4xx handle it too. */
export class DailySpendCapError extends InsufficientCreditsError {
  readonly cap: number;
  readonly spentToday: number;
  constructor(needed: number, available: number, cap: number, spentToday: number) {
    super(
      needed,
      available,
      `This batch needs ${needed} credits, but your daily spending limit is ${cap} credits and ${spentToday} ` +
        `${spentToday === 1 ? "was" : "were"} already used today. Raise the limit in Settings, select fewer images, or try again tomorrow.`,
    );
    this.name = "DailySpendCapError";
    this.cap = cap;
    this.spentToday = spentToday;
  }
}

/** A capture after a release, or a release after a capture. */
export class ReservationSettledError extends Error {
  constructor(itemId: string, state: string) {
    super(`The credits for image ${itemId} were already ${state.toLowerCase()}; they cannot be settled again.`);
    this.name = "ReservationSettledError";
  }
}

export class ReservationNotFoundError extends Error {
  constructor(itemId: string) {
    super(`No credits were reserved for image ${itemId}.`);
    this.name = "ReservationNotFoundError";
  }
}

export async function getBalance(db: Db, shop: string): Promise<Balance> {
  const account = await db.creditAccount.findUnique({ where: { shop }, select: { available: true, reserved: true } });
  const available = account?.available ?? 0;
  const reserved = account?.reserved ?? 0;
  return { available, reserved, total: available + reserved };
}

/** Adds credits once per idempotency key. `granted` is false when the key was already used. */
export async function grantCredits(
  db: PrismaClient,
  shop: string,
  amount: number,
  opts: { kind: GrantKind; idempotencyKey: string; purchaseId?: string; note?: string },
): Promise<{ granted: boolean }> {
  return db.$transaction((tx) => grantCreditsInTransaction(tx, shop, amount, opts), TX_OPTIONS);
}

/** Same as grantCredits, inside the caller's transaction (e.g. to mark a purchase granted atomically). */
export async function grantCreditsInTransaction(
  tx: Prisma.TransactionClient,
  shop: string,
  amount: number,
  opts: { kind: GrantKind; idempotencyKey: string; purchaseId?: string; note?: string },
): Promise<{ granted: boolean }> {
  assertGrantAmount(amount, opts.kind);
  const inserted = await insertEntry(tx, {
    shop,
    kind: opts.kind,
    availableDelta: amount,
    reservedDelta: 0,
    idempotencyKey: opts.idempotencyKey,
    purchaseId: opts.purchaseId ?? null,
    note: opts.note ?? null,
  });
  if (!inserted) return { granted: false };
  if (amount >= 0) {
    await tx.$executeRaw`
      INSERT INTO "CreditAccount" ("shop", "available", "reserved", "updatedAt")
      VALUES (${shop}, ${amount}, 0, ${utcNow})
      ON CONFLICT ("shop") DO UPDATE
        SET "available" = "CreditAccount"."available" + EXCLUDED."available", "updatedAt" = EXCLUDED."updatedAt"`;
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

export const WELCOME_CREDITS = nonNegativeIntFromEnv("WELCOME_CREDITS", 9);

/** Welcome credits, once per shop for its whole life (the key survives uninstalls and reinstalls). */
export async function grantWelcomeCredits(db: PrismaClient, shop: string): Promise<{ granted: boolean }> {
  if (WELCOME_CREDITS === 0) return { granted: false };
  return grantCredits(db, shop, WELCOME_CREDITS, {
    kind: "WELCOME",
    idempotencyKey: "welcome",
    note: `Welcome: ${WELCOME_CREDITS} free credits`,
  });
}

/**
 * Holds `perItem` credits for each item, all or nothing, inside the caller's transaction (keys
 * `item:<id>:reserve`). Items that already hold a reservation are skipped (idempotent). Throws
 * InsufficientCreditsError (or its subclass DailySpendCapError) having written nothing. Also makes the
 * caller's transaction commit asynchronously: see `asyncCommit` below.
 */
export async function reserveForItems(
  tx: Prisma.TransactionClient,
  shop: string,
  itemIds: string[],
  perItem: number,
): Promise<void> {
  if (!Number.isInteger(perItem) || perItem <= 0) throw new Error(`perItem must be a positive integer, got ${perItem}`);
  const uniqueIds = [...new Set(itemIds)];
  if (uniqueIds.length === 0) return;

  // Common case (no daily cap): one statement. It skips items already reserved, moves the credits with a
  // conditional UPDATE (which takes the account row lock and re-checks `available` after any concurrent
  // writer commits), and writes reservations and entries only if that UPDATE matched. Nothing is written
  // when credits are short, so a refusal leaves the caller's transaction clean.
  const first = await reserveStatement(tx, shop, uniqueIds, perItem, false);
  if (first.needed === 0) return;
  if (first.cap !== null) {
    // Capped shop: lock the account first so concurrent batches are checked against the cap one at a time.
    await tx.$queryRaw`SELECT 1 FROM "CreditAccount" WHERE "shop" = ${shop} FOR UPDATE`;
    const [today] = await tx.$queryRaw<Array<{ spent: number }>>`
      SELECT COALESCE(SUM("amount"), 0)::int AS spent FROM "CreditReservation"
      WHERE "shop" = ${shop} AND "state" IN ('HELD', 'CAPTURED') AND "createdAt" >= date_trunc('day', ${utcNow})`;
    const spent = today?.spent ?? 0;
    if (spent + first.needed > first.cap) {
      throw new DailySpendCapError(first.needed, (await getBalance(tx, shop)).available, first.cap, spent);
    }
    const second = await reserveStatement(tx, shop, uniqueIds, perItem, true);
    return finishReservation(tx, shop, perItem, second);
  }
  return finishReservation(tx, shop, perItem, first);
}

interface ReserveOutcome {
  needed: number;
  moved: number;
  created: number;
  cap: number | null;
}

async function reserveStatement(
  tx: Prisma.TransactionClient,
  shop: string,
  itemIds: string[],
  perItem: number,
  capChecked: boolean,
): Promise<ReserveOutcome> {
  const [row] = await tx.$queryRaw<ReserveOutcome[]>`
    WITH settings AS (
      SELECT (SELECT s."dailySpendCap" FROM "Shop" s WHERE s."domain" = ${shop}) AS cap,
        ${asyncCommit ? Prisma.sql`set_config('synchronous_commit', 'off', true)` : Prisma.sql`NULL`} AS commit_mode
    ), new_items AS (
      SELECT item_id FROM unnest(${itemIds}::text[]) AS item_id
      WHERE NOT EXISTS (SELECT 1 FROM "CreditReservation" r WHERE r."batchItemId" = item_id)
    ), need AS (
      SELECT (count(*) * ${perItem})::int AS needed FROM new_items
    ), account AS (
      UPDATE "CreditAccount" a
      SET "available" = a."available" - need.needed, "reserved" = a."reserved" + need.needed, "updatedAt" = ${utcNow}
      FROM need, settings
      WHERE a."shop" = ${shop} AND need.needed > 0 AND a."available" >= need.needed
        AND (settings.cap IS NULL OR ${capChecked})
      RETURNING a."shop"
    ), reservations AS (
      INSERT INTO "CreditReservation" ("id", "shop", "amount", "state", "batchItemId", "createdAt")
      SELECT gen_random_uuid()::text, ${shop}, ${perItem}, 'HELD'::"ReservationState", n.item_id, ${utcNow}
      FROM new_items n, account
      ON CONFLICT ("batchItemId") DO NOTHING
      RETURNING "id", "batchItemId"
    ), entries AS (
      INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "idempotencyKey", "reservationId", "note", "createdAt")
      SELECT ${newEntryId}, ${shop}, 'RESERVE'::"CreditKind", ${-perItem}, ${perItem},
        'item:' || r."batchItemId" || ':reserve', r."id", ${`${perItem} credits held for an image`}, ${utcNow}
      FROM reservations r
      RETURNING 1
    )
    SELECT need.needed, (SELECT count(*) FROM account)::int AS moved,
      (SELECT count(*) FROM entries)::int AS created, settings.cap
    FROM need, settings`;
  if (!row) throw new Error("reservation statement returned no row");
  return row;
}

async function finishReservation(tx: Prisma.TransactionClient, shop: string, perItem: number, outcome: ReserveOutcome): Promise<void> {
  if (outcome.needed === 0) return;
  if (outcome.moved === 0) throw new InsufficientCreditsError(outcome.needed, (await getBalance(tx, shop)).available);
  if (outcome.created * perItem !== outcome.needed) {
    // Another transaction reserved one of these items at the same instant: refuse; the caller's transaction rolls back.
    throw new Error("Some of these images were reserved by another batch at the same moment; try again.");
  }
  const needed = outcome.needed;
  creditsMoved.inc({ kind: "reserved" }, needed);
}

/** Spends an item's held credits. Repeating it is a no-op ("already"); after a release it throws ReservationSettledError. */
export async function captureForItem(db: PrismaClient, shop: string, itemId: string): Promise<"captured" | "already"> {
  return settle(db, shop, itemId, "CAPTURED");
}

/** Gives an item's held credits back. Repeating it is a no-op ("already"); after a capture it throws ReservationSettledError. */
export async function releaseForItem(
  db: PrismaClient,
  shop: string,
  itemId: string,
  note?: string,
): Promise<"released" | "already"> {
  return settle(db, shop, itemId, "RELEASED", note);
}

async function settle(db: PrismaClient, shop: string, itemId: string, to: "CAPTURED", note?: string): Promise<"captured" | "already">;
async function settle(db: PrismaClient, shop: string, itemId: string, to: "RELEASED", note?: string): Promise<"released" | "already">;
async function settle(
  db: PrismaClient,
  shop: string,
  itemId: string,
  to: "CAPTURED" | "RELEASED",
  note?: string,
): Promise<"captured" | "released" | "already"> {
  const released = to === "RELEASED";
  const kind = released ? "RELEASE" : "CAPTURE";
  const key = `item:${itemId}:${released ? "release" : "capture"}`;
  const defaultNote = released ? " credits returned" : " credits spent on an image";
  // One atomic statement (no interactive transaction): the reservation moves out of HELD only if it still is
  // HELD (of two concurrent settlements one matches; the other waits and then matches nothing), and the
  // account and the entry change with it. A duplicate entry key aborts the whole statement.
  const [row] = await db.$queryRaw<Array<{ amount: number | null }>>`
    WITH settled AS (
      UPDATE "CreditReservation" SET "state" = ${to}::"ReservationState", "settledAt" = ${utcNow}
      WHERE "shop" = ${shop} AND "batchItemId" = ${itemId} AND "state" = 'HELD'
      RETURNING "id", "amount"
    ), account AS (
      UPDATE "CreditAccount" a
      SET "reserved" = a."reserved" - s."amount", "available" = a."available" + CASE WHEN ${released} THEN s."amount" ELSE 0 END,
        "updatedAt" = ${utcNow}
      FROM settled s WHERE a."shop" = ${shop}
      RETURNING a."shop"
    ), entry AS (
      INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "idempotencyKey", "reservationId", "note", "createdAt")
      SELECT ${newEntryId}, ${shop}, ${kind}::"CreditKind", CASE WHEN ${released} THEN s."amount" ELSE 0 END, -s."amount",
        ${key}, s."id", COALESCE(${note ?? null}::text, s."amount" || ${defaultNote}), ${utcNow}
      FROM settled s
      RETURNING 1
    )
    SELECT (SELECT "amount" FROM settled) AS amount, (SELECT count(*) FROM account)::int AS accounts, (SELECT count(*) FROM entry)::int AS entries`;
  if (row?.amount != null) {
    creditsMoved.inc({ kind: released ? "released" : "captured" }, row.amount);
    return released ? "released" : "captured";
  }
  const existing = await db.creditReservation.findFirst({ where: { shop, batchItemId: itemId }, select: { state: true } });
  if (!existing) throw new ReservationNotFoundError(itemId);
  if (existing.state === to) return "already";
  throw new ReservationSettledError(itemId, existing.state);
}

/** Newest first, cursor-paginated. */
export async function history(
  db: PrismaClient,
  shop: string,
  page: { cursor?: string; take?: number },
): Promise<{ entries: LedgerEntry[]; nextCursor: string | null }> {
  const take = Math.min(Math.max(Math.trunc(page.take ?? 20), 1), 100);
  const cursorRow = page.cursor
    ? await db.creditEntry.findFirst({ where: { id: page.cursor, shop }, select: { id: true, createdAt: true } })
    : null;
  const rows = await db.creditEntry.findMany({
    where: {
      shop,
      ...(cursorRow
        ? { OR: [{ createdAt: { lt: cursorRow.createdAt } }, { createdAt: cursorRow.createdAt, id: { lt: cursorRow.id } }] }
        : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: take + 1,
    select: { id: true, kind: true, availableDelta: true, reservedDelta: true, note: true, createdAt: true },
  });
  const entries = rows.slice(0, take).map((row) => ({ ...row, amount: row.availableDelta + row.reservedDelta }));
  return { entries, nextCursor: rows.length > take ? (entries.at(-1)?.id ?? null) : null };
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

// Under load (a worker pool settling many items) waiting for a pooled connection can exceed Prisma's 2 s default.
const TX_OPTIONS = { maxWait: 15_000, timeout: 15_000 };

/**
 * Opt-in (LEDGER_RESERVE_ASYNC_COMMIT=true): reservations commit without waiting for the WAL flush (SET LOCAL synchronous_commit = off, for the
 * caller's transaction only). Why: every reservation of a shop updates the same account row, and the row
 * lock is held until commit, so with a synchronous commit a shop's reservations are serialized on disk
 * flushes (a few hundred per second at best). What it risks: only if PostgreSQL itself crashes, batches
 * created in the last fraction of a second before the crash are lost whole (batch, items, reservation and
 * the account change together: consistent, no credit lost or double-spent), unless a later synchronous
 * commit (any worker update, capture, grant) already flushed them. Grants, purchases, captures and
 * releases always commit synchronously. Off by default: a batch the merchant was told about is durable.
 */
const asyncCommit = process.env.LEDGER_RESERVE_ASYNC_COMMIT?.trim().toLowerCase() === "true";

// Timestamps written by raw SQL match Prisma's (UTC in "timestamp without time zone" columns).
const utcNow = Prisma.sql`(now() AT TIME ZONE 'UTC')`;

// Entry ids sort by creation time (microsecond hex prefix), so history pages keep a stable order even
// when several entries share a millisecond.
const newEntryId = Prisma.sql`(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || '-' || gen_random_uuid()::text)`;

async function insertEntry(
  tx: Prisma.TransactionClient,
  entry: {
    shop: string;
    kind: "GRANT" | "WELCOME" | "PURCHASE" | "RESERVE" | "CAPTURE" | "RELEASE" | "ADJUSTMENT";
    availableDelta: number;
    reservedDelta: number;
    idempotencyKey: string;
    reservationId?: string | null;
    purchaseId?: string | null;
    note: string | null;
  },
): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "idempotencyKey", "reservationId", "purchaseId", "note", "createdAt")
    VALUES (${newEntryId}, ${entry.shop}, ${entry.kind}::"CreditKind", ${entry.availableDelta}, ${entry.reservedDelta},
      ${entry.idempotencyKey}, ${entry.reservationId ?? null}, ${entry.purchaseId ?? null}, ${entry.note}, ${utcNow})
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

function positiveIntFromEnv(name: string, fallback: number): number {
  const value = nonNegativeIntFromEnv(name, fallback);
  if (value === 0) throw new Error(`${name} must be a positive whole number`);
  return value;
}

function nonNegativeIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number >= 0, got "${raw}"`);
  return value;
}
