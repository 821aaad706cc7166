import { Prisma, type PrismaClient } from "@prisma/client";
import type pg from "pg";
import { logger } from "~/lib/logger.server";
import { Combiner } from "~/lib/combiner";
import { creditsMoved } from "~/lib/metrics.server";
import type { MerchantText } from "~/lib/merchant-message";
import { isPgUniqueViolation, ledgerPool } from "~/models/ledger-pool.server";
import { type Db, getBalance, InsufficientCreditsError, LEDGER_TX_OPTIONS, newEntryId, utcNow } from "~/models/credit-ledger.server";

/** Refusal because of the shop's daily spend cap. A subclass so callers that map InsufficientCreditsError to a 4xx handle it too. */
export class DailySpendCapError extends InsufficientCreditsError {
  readonly cap: number;
  readonly spentToday: number;
  constructor(needed: number, available: number, cap: number, spentToday: number) {
    super(needed, available, {
      message:
        `This batch needs ${needed} credits, but your daily spending limit is ${cap} credits and ${spentToday} ` +
        `${spentToday === 1 ? "was" : "were"} already used today. Raise the limit in Settings, select fewer images, or try again tomorrow.`,
      merchant: { code: "dailySpendCap", params: { needed, cap, spentToday } },
    });
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

class ReservationNotFoundError extends Error {
  constructor(itemId: string) {
    super(`No credits were reserved for image ${itemId}.`);
    this.name = "ReservationNotFoundError";
  }
}

/**
 * Holds `perItem` credits for each item, all or nothing (keys `item:<id>:reserve`). Items that already hold a
 * reservation are skipped (idempotent). Throws InsufficientCreditsError (or its subclass DailySpendCapError)
 * having written nothing.
 *
 * Given the PrismaClient, the reservation commits on its own, on the ledger's pool for DATABASE_URL
 * (ledger-pool.server.ts; the client serves the rare daily-cap path). Why: every reservation of a shop updates
 * the shop's account row, which stays locked until commit, so how long that lock is held bounds a busy shop's
 * reservations per second. As one autocommit statement it is held for the statement and its WAL flush only,
 * not across round trips to this process; and the shop's reservations that arrive while one is running go
 * together in the next statement (one lock, one flush), each still all or nothing and answered on its own,
 * exactly as if they had run one after another.
 * Given a transaction client, it joins the caller's transaction instead (the row then stays locked until the
 * caller commits).
 */
export async function reserveForItems(db: Db, shop: string, itemIds: string[], perItem: number): Promise<void> {
  if (!Number.isInteger(perItem) || perItem <= 0) throw new Error(`perItem must be a positive integer, got ${perItem}`);
  const request: ReservationRequest = { itemIds: [...new Set(itemIds)], perItem };
  if (request.itemIds.length === 0) return;
  const reserved = isTransaction(db) ? await reserveInTransaction(db, shop, request) : await reserveOnItsOwn(db, shop, request);
  if (reserved > 0) creditsMoved.inc({ kind: "reserved" }, reserved);
}

/**
 * Gives back, in one statement, the held credits of items that were never created (e.g. their batch could not
 * be written after the reservation). Items not holding credits are skipped. Returns the credits given back.
 */
export async function releaseUnusedReservations(db: PrismaClient, shop: string, itemIds: string[], note: MerchantText): Promise<number> {
  const uniqueIds = [...new Set(itemIds)];
  if (uniqueIds.length === 0) return 0;
  const [row] = await db.$queryRaw<Array<{ amount: number }>>`
    WITH settled AS (
      UPDATE "CreditReservation" SET "state" = 'RELEASED'::"ReservationState", "settledAt" = ${utcNow}
      WHERE "shop" = ${shop} AND "batchItemId" = ANY(${uniqueIds}::text[]) AND "state" = 'HELD'
      RETURNING "id", "amount", "batchItemId"
    ), total AS (
      SELECT COALESCE(sum("amount"), 0)::int AS amount FROM settled
    ), account AS (
      UPDATE "CreditAccount" a
      SET "reserved" = a."reserved" - total.amount, "available" = a."available" + total.amount, "updatedAt" = ${utcNow}
      FROM total WHERE a."shop" = ${shop} AND total.amount > 0
      RETURNING 1
    ), entries AS (
      INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "idempotencyKey", "reservationId", "note", "noteMessage", "createdAt")
      SELECT ${newEntryId}, ${shop}, 'RELEASE'::"CreditKind", s."amount", -s."amount",
        'item:' || s."batchItemId" || ':release', s."id", ${note.text}, jsonb_set(${JSON.stringify(note.message)}::jsonb, '{params,count}', to_jsonb(s."amount")), ${utcNow}
      FROM settled s
      RETURNING 1
    )
    SELECT total.amount FROM total`;
  const amount = row?.amount ?? 0;
  if (amount > 0) creditsMoved.inc({ kind: "released" }, amount);
  return amount;
}

/** How old a held reservation without an item must be before releaseOrphanedReservations gives its credits back. */
export const ORPHANED_RESERVATION_AGE_MS = 10 * 60_000;

/**
 * Gives back the credits of the shop's held reservations whose item does not exist and that are older than
 * `olderThanMs`: left by a process that stopped between reserving and writing its batch (see createBatch).
 * The age keeps it away from batches still being written. Returns the credits given back.
 */
export async function releaseOrphanedReservations(
  db: PrismaClient,
  shop: string,
  olderThanMs = ORPHANED_RESERVATION_AGE_MS,
): Promise<number> {
  const orphans = await db.$queryRaw<Array<{ itemId: string }>>`
    SELECT r."batchItemId" AS "itemId" FROM "CreditReservation" r
    WHERE r."shop" = ${shop} AND ${orphanedReservation(olderThanMs)}`;
  if (orphans.length === 0) return 0;
  const amount = await releaseUnusedReservations(
    db,
    shop,
    orphans.map((o) => o.itemId),
    {
      text: "returned: the batch was never created",
      message: { code: "noteReturnedBatchNeverCreated", params: {} },
    },
  );
  logger.warn({ shop, items: orphans.length, amount }, "gave back credits held for items that were never created");
  return amount;
}

/** releaseOrphanedReservations for every shop that has such reservations (the sweep); returns the credits given back. */
export async function releaseAllOrphanedReservations(db: PrismaClient, olderThanMs = ORPHANED_RESERVATION_AGE_MS): Promise<number> {
  const shops = await db.$queryRaw<Array<{ shop: string }>>`
    SELECT DISTINCT r."shop" FROM "CreditReservation" r WHERE ${orphanedReservation(olderThanMs)} LIMIT 100`;
  let amount = 0;
  for (const { shop } of shops) amount += await releaseOrphanedReservations(db, shop, olderThanMs);
  return amount;
}

/** A held reservation (alias r) for an item that does not exist, older than `olderThanMs`. */
function orphanedReservation(olderThanMs: number): Prisma.Sql {
  return Prisma.sql`r."state" = 'HELD' AND r."batchItemId" IS NOT NULL
    AND r."createdAt" < ${utcNow} - make_interval(secs => ${olderThanMs / 1000})
    AND NOT EXISTS (SELECT 1 FROM "BatchItem" i WHERE i."id" = r."batchItemId")`;
}

interface ReservationRequest {
  itemIds: string[];
  perItem: number;
}

interface ReservationOutcome {
  /** Credits the request's not yet reserved items need (0: all of them already hold a reservation). */
  needed: number;
  /** Whether those credits were moved (always false while the shop has a daily cap and the cap was not checked). */
  granted: boolean;
  cap: number | null;
}

function isTransaction(db: Db): db is Prisma.TransactionClient {
  return !("$transaction" in db);
}

/** Returns the credits reserved. */
async function reserveOnItsOwn(db: PrismaClient, shop: string, request: ReservationRequest): Promise<number> {
  let orphansChecked = false;
  for (;;) {
    const { needed, granted, cap } = await combinerFor(ledgerPool()).submit(shop, request);
    if (needed === 0) return 0;
    if (cap !== null) return db.$transaction((tx) => reserveUnderCap(tx, shop, request, cap), LEDGER_TX_OPTIONS);
    if (granted) return needed;
    // Short: first give back credits stranded by a crash between reserving and writing a batch (the sweep may
    // have just done so, too), then try once more.
    if (!orphansChecked) {
      orphansChecked = true;
      await releaseOrphanedReservations(db, shop);
      continue;
    }
    throw new InsufficientCreditsError(needed, (await getBalance(db, shop)).available);
  }
}

/** Returns the credits reserved. */
async function reserveInTransaction(tx: Prisma.TransactionClient, shop: string, request: ReservationRequest): Promise<number> {
  const outcome = await reserveStatement(tx, shop, request, false);
  if (outcome.needed === 0) return 0;
  if (outcome.cap !== null) return reserveUnderCap(tx, shop, request, outcome.cap);
  if (!outcome.granted) throw new InsufficientCreditsError(outcome.needed, (await getBalance(tx, shop)).available);
  return outcome.needed;
}

/** Credits held or spent today (UTC), what the daily spend cap limits. */
async function spentToday(tx: Pick<PrismaClient, "$queryRaw">, shop: string): Promise<number> {
  const [row] = await tx.$queryRaw<Array<{ spent: number }>>`
    SELECT COALESCE(SUM("amount"), 0)::int AS spent FROM "CreditReservation"
    WHERE "shop" = ${shop} AND "state" IN ('HELD', 'CAPTURED') AND "createdAt" >= date_trunc('day', ${utcNow})`;
  return row?.spent ?? 0;
}

/** What the shop's daily spend cap still allows today; null without a cap. */
export async function dailyCapRoom(
  tx: Pick<PrismaClient, "$queryRaw" | "shop">,
  shop: string,
): Promise<{ cap: number; room: number } | null> {
  const row = await tx.shop.findUnique({ where: { domain: shop }, select: { dailySpendCap: true } });
  if (row?.dailySpendCap == null) return null;
  return { cap: row.dailySpendCap, room: Math.max(0, row.dailySpendCap - (await spentToday(tx, shop))) };
}

/**
 * Capped shop: lock the account first so concurrent batches are checked against the cap one at a time, and
 * measure what the request needs under that lock. Returns the credits reserved.
 */
async function reserveUnderCap(tx: Prisma.TransactionClient, shop: string, request: ReservationRequest, cap: number): Promise<number> {
  await tx.$queryRaw`SELECT 1 FROM "CreditAccount" WHERE "shop" = ${shop} FOR UPDATE`;
  const [row] = await tx.$queryRaw<Array<{ needed: number }>>`
    SELECT (count(*) * ${request.perItem})::int AS needed FROM unnest(${request.itemIds}::text[]) AS item_id
    WHERE NOT EXISTS (SELECT 1 FROM "CreditReservation" r WHERE r."batchItemId" = item_id)`;
  const spent = await spentToday(tx, shop);
  const needed = row?.needed ?? 0;
  if (needed === 0) return 0;
  if (spent + needed > cap) throw new DailySpendCapError(needed, (await getBalance(tx, shop)).available, cap, spent);
  const outcome = await reserveStatement(tx, shop, request, true);
  if (!outcome.granted) throw new InsufficientCreditsError(outcome.needed, (await getBalance(tx, shop)).available);
  return outcome.needed;
}

// A combined statement's size bound: a group takes further requests while it names at most this many items.
const MAX_ITEMS_PER_STATEMENT = 2_000;

const combiners = new WeakMap<pg.Pool, Combiner<string, ReservationRequest, ReservationOutcome>>();

/** One combiner per pool (a group's statement runs on that pool), keyed by shop. */
function combinerFor(pool: pg.Pool): Combiner<string, ReservationRequest, ReservationOutcome> {
  let combiner = combiners.get(pool);
  if (!combiner) {
    combiner = new Combiner((shop, group) => reserveGroupOnItsOwn(pool, shop, group), fitsInGroup);
    combiners.set(pool, combiner);
  }
  return combiner;
}

/**
 * A request joins a group only if it names none of the group's items: whether a shared item still needs credits
 * would depend on whether the earlier request was granted. It waits for the next group instead.
 */
function fitsInGroup(group: ReservationRequest[], next: ReservationRequest): boolean {
  const items = new Set(group.flatMap((request) => request.itemIds));
  return items.size + next.itemIds.length <= MAX_ITEMS_PER_STATEMENT && !next.itemIds.some((itemId) => items.has(itemId));
}

async function reserveGroupOnItsOwn(pool: pg.Pool, shop: string, group: ReservationRequest[]): Promise<ReservationOutcome[]> {
  const statement = reserveSql(shop, group, false);
  for (let attempt = 0; ; attempt++) {
    try {
      const { rows } = await pool.query<ReservationOutcome>({ name: "credits-reserve", text: statement.text, values: statement.values });
      return answersFor(group, rows);
    } catch (error) {
      // Another process reserved one of these items first: the statement wrote nothing, and the next attempt
      // skips the items that now hold a reservation.
      if (isPgUniqueViolation(error) && attempt < 3) continue;
      throw error;
    }
  }
}

async function reserveStatement(
  tx: Prisma.TransactionClient,
  shop: string,
  request: ReservationRequest,
  capChecked: boolean,
): Promise<ReservationOutcome> {
  const rows = await tx.$queryRaw<ReservationOutcome[]>(reserveSql(shop, [request], capChecked));
  return answersFor([request], rows)[0]!;
}

function answersFor(requests: ReservationRequest[], rows: ReservationOutcome[]): ReservationOutcome[] {
  if (rows.length !== requests.length) throw new Error(`reservation statement answered ${rows.length} of ${requests.length} requests`);
  return rows.map(({ needed, granted, cap }) => ({ needed, granted, cap }));
}

/**
 * One statement for a group of requests of one shop (no item named twice), answered per request, in order. It
 * locks the account row, then grants the requests one after another while what is left covers them (a request
 * that does not fit is refused and the next is still tried, as if each had run alone in this order), moves the
 * granted total and writes their reservations and entries. Nothing is written for a refused request. Without ON CONFLICT: an
 * item reserved concurrently elsewhere aborts the whole statement (unique violation), so the account is never
 * debited for a reservation that was not written. The text is always the same, so it is prepared once per
 * connection.
 */
function reserveSql(shop: string, requests: ReservationRequest[], capChecked: boolean): Prisma.Sql {
  const requestOfItem: number[] = [];
  const items: string[] = [];
  const amounts: number[] = [];
  requests.forEach((request, index) => {
    for (const itemId of request.itemIds) {
      requestOfItem.push(index + 1);
      items.push(itemId);
      amounts.push(request.perItem);
    }
  });
  return Prisma.sql`
    WITH RECURSIVE settings AS (
      SELECT (SELECT s."dailySpendCap" FROM "Shop" s WHERE s."domain" = ${shop}) AS cap
    ), new_items AS (
      SELECT input.req, input.item_id, input.amount
      FROM unnest(${requestOfItem}::int[], ${items}::text[], ${amounts}::int[]) AS input(req, item_id, amount)
      WHERE NOT EXISTS (SELECT 1 FROM "CreditReservation" r WHERE r."batchItemId" = input.item_id)
    ), need AS (
      SELECT g.req, COALESCE(sum(n.amount), 0)::int AS needed
      FROM generate_series(1, ${requests.length}::int) AS g(req) LEFT JOIN new_items n ON n.req = g.req
      GROUP BY g.req
    ), locked AS (
      SELECT a."available" FROM "CreditAccount" a, settings
      WHERE a."shop" = ${shop} AND (settings.cap IS NULL OR ${capChecked})
      FOR UPDATE OF a
    ), greedy (req, remaining, granted) AS (
      SELECT 0, locked."available", true FROM locked
      UNION ALL
      SELECT need.req, greedy.remaining - CASE WHEN greedy.remaining >= need.needed THEN need.needed ELSE 0 END,
        greedy.remaining >= need.needed
      FROM greedy JOIN need ON need.req = greedy.req + 1
    ), granted AS (
      SELECT need.req, need.needed FROM need JOIN greedy ON greedy.req = need.req WHERE greedy.granted AND need.needed > 0
    ), account AS (
      UPDATE "CreditAccount" a
      SET "available" = a."available" - total.amount, "reserved" = a."reserved" + total.amount, "updatedAt" = ${utcNow}
      FROM (SELECT sum(needed)::int AS amount FROM granted) AS total
      WHERE a."shop" = ${shop} AND total.amount > 0 AND a."available" >= total.amount
      RETURNING 1
    ), reservations AS (
      INSERT INTO "CreditReservation" ("id", "shop", "amount", "state", "batchItemId", "createdAt")
      SELECT gen_random_uuid()::text, ${shop}, n.amount, 'HELD'::"ReservationState", n.item_id, ${utcNow}
      FROM new_items n JOIN granted ON granted.req = n.req
      WHERE EXISTS (SELECT 1 FROM account)
      RETURNING "id", "batchItemId", "amount"
    ), entries AS (
      INSERT INTO "CreditEntry" ("id", "shop", "kind", "availableDelta", "reservedDelta", "idempotencyKey", "reservationId", "note", "noteMessage", "createdAt")
      SELECT ${newEntryId}, ${shop}, 'RESERVE'::"CreditKind", -r."amount", r."amount",
        'item:' || r."batchItemId" || ':reserve', r."id", r."amount" || ' credits held for an image',
        jsonb_build_object('code', 'noteHeldForImage', 'params', jsonb_build_object('count', r."amount")), ${utcNow}
      FROM reservations r
      RETURNING 1
    )
    SELECT need.req, need.needed, (need.needed = 0 OR (granted.req IS NOT NULL AND EXISTS (SELECT 1 FROM account))) AS granted, settings.cap
    FROM need CROSS JOIN settings LEFT JOIN granted ON granted.req = need.req
    ORDER BY need.req`;
}

/** Spends an item's held credits. Repeating it is a no-op ("already"); after a release it throws ReservationSettledError. */
export async function captureForItem(db: PrismaClient, shop: string, itemId: string): Promise<"captured" | "already"> {
  return settle(db, shop, itemId, "CAPTURED");
}

/** Gives an item's held credits back. Repeating it is a no-op ("already"); after a capture it throws ReservationSettledError. */
export async function releaseForItem(db: PrismaClient, shop: string, itemId: string, note?: string): Promise<"released" | "already"> {
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
