import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "~/db.server";
import { creditActivity } from "~/models/credit-history.server";
import {
  DailySpendCapError,
  ReservationSettledError,
  captureForItem,
  releaseForItem,
  releaseUnusedReservations,
  reserveForItems,
} from "~/models/credit-reservations.server";
import { InsufficientCreditsError, getBalance, grantCredits, grantWelcomeCredits, sumEntries } from "~/models/credit-ledger.server";
import { grantWelcomeCreditsOnce } from "~/models/shops.server";
import { createShop, uniqueShopDomain } from "../../factories";

const db = createPrismaClient(undefined, 4);
afterAll(() => db.$disconnect());

async function reserve(client: PrismaClient, shop: string, itemIds: string[], perItem = 3): Promise<void> {
  // Generous maxWait: 1,000 transactions queue for a few dozen connections.
  await client.$transaction((tx) => reserveForItems(tx, shop, itemIds, perItem), { maxWait: 60_000, timeout: 60_000 });
}

/** Reservation statements of this database waiting for a lock (the account row or an item's unique key). */
async function reservationsWaitingForALock(): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ waiting: number }>>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%"CreditReservation"%'`;
  return row?.waiting ?? 0;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectLedgerMatchesAccount(shop: string): Promise<void> {
  const entries = await db.creditEntry.findMany({ where: { shop } });
  const balance = await getBalance(db, shop);
  expect(sumEntries(entries)).toEqual(balance);
}

const NOT_CREATED = { text: "batch not created", message: { code: "noteReturnedBatchNotCreated" as const, params: {} } };

describe("credit ledger", () => {
  it("grants a key once however often it is replayed, concurrently or not", async () => {
    const shop = uniqueShopDomain();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => grantCredits(db, shop, 30, { kind: "PURCHASE", idempotencyKey: "shopify-purchase:gid-1" })),
    );
    expect(results.filter((r) => r.granted)).toHaveLength(1);
    expect(await grantCredits(db, shop, 30, { kind: "PURCHASE", idempotencyKey: "shopify-purchase:gid-1" })).toEqual({ granted: false });
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    await expectLedgerMatchesAccount(shop);
  });

  it("lets exactly 100 of 1,000 concurrent 3-credit reservations through a balance of 300", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 300, { kind: "GRANT", idempotencyKey: "seed" });
    const clients = Array.from({ length: 4 }, () => createPrismaClient(undefined, 8));
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 1000 }, (_, i) => reserve(clients[i % clients.length]!, shop, [randomUUID()])),
      );
      const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
      expect(outcomes.length - failures.length).toBe(100);
      for (const failure of failures) expect(failure.reason, String(failure.reason)).toBeInstanceOf(InsufficientCreditsError);
    } finally {
      await Promise.all(clients.map((c) => c.$disconnect()));
    }
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 300, total: 300 });
    expect(await db.creditReservation.count({ where: { shop, state: "HELD" } })).toBe(100);
    await expectLedgerMatchesAccount(shop);
  });

  it("lets exactly 100 of 1,000 concurrent 3-credit reservations through a balance of 300 when each commits on its own", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 300, { kind: "GRANT", idempotencyKey: "seed" });
    const outcomes = await Promise.allSettled(Array.from({ length: 1000 }, () => reserveForItems(db, shop, [randomUUID()], 3)));
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(outcomes.length - failures.length).toBe(100);
    for (const failure of failures) expect(failure.reason, String(failure.reason)).toBeInstanceOf(InsufficientCreditsError);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 300, total: 300 });
    expect(await db.creditReservation.count({ where: { shop, state: "HELD" } })).toBe(100);
    await expectLedgerMatchesAccount(shop);
  });

  it("answers each of a shop's combined reservations exactly as if they had run one after another", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 7, { kind: "GRANT", idempotencyKey: "seed" });
    // The first runs alone; the three submitted while it runs go together in one statement, in this order.
    const first = reserveForItems(db, shop, [randomUUID()], 3);
    const grouped = [
      reserveForItems(db, shop, [randomUUID(), randomUUID()], 3),
      reserveForItems(db, shop, [randomUUID()], 3),
      reserveForItems(db, shop, [randomUUID()], 3),
    ];
    await first;
    const outcomes = await Promise.allSettled(grouped);
    // 4 left: 6 does not fit and is refused, the next 3 fits, the last 3 does not.
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled", "rejected"]);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toBeInstanceOf(InsufficientCreditsError);
    expect(((outcomes[0] as PromiseRejectedResult).reason as InsufficientCreditsError).needed).toBe(6);
    expect(await getBalance(db, shop)).toEqual({ available: 1, reserved: 6, total: 7 });
    expect(await db.creditReservation.count({ where: { shop } })).toBe(2);
    await expectLedgerMatchesAccount(shop);
  });

  it("reserves an item named by two concurrent requests once", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 9, { kind: "GRANT", idempotencyKey: "seed" });
    const [shared, own] = [randomUUID(), randomUUID()];
    const first = reserveForItems(db, shop, [randomUUID()], 3);
    const waiting = [reserveForItems(db, shop, [shared, own], 3), reserveForItems(db, shop, [shared], 3)];
    await first;
    await Promise.all(waiting);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 9, total: 9 });
    expect(await db.creditReservation.count({ where: { shop, batchItemId: { in: [shared, own] } } })).toBe(2);
    await expectLedgerMatchesAccount(shop);
  });

  it("still reserves an item for a later request when an earlier concurrent request naming it was refused", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 6, { kind: "GRANT", idempotencyKey: "seed" });
    const shared = randomUUID();
    const first = reserveForItems(db, shop, [randomUUID()], 3);
    // 3 left: the first of these needs 6 and is refused; the second then needs 3 for the shared item.
    const waiting = [reserveForItems(db, shop, [shared, randomUUID()], 3), reserveForItems(db, shop, [shared], 3)];
    await first;
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled"]);
    expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(InsufficientCreditsError);
    expect(await db.creditReservation.findFirst({ where: { shop, batchItemId: shared }, select: { state: true } })).toEqual({
      state: "HELD",
    });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 6, total: 6 });
    await expectLedgerMatchesAccount(shop);
  });

  it("waits for another transaction reserving the same item, then skips the item instead of debiting it twice", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 9, { kind: "GRANT", idempotencyKey: "seed" });
    const item = randomUUID();
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let reservedInTransaction!: () => void;
    const reserved = new Promise<void>((resolve) => (reservedInTransaction = resolve));
    const other = createPrismaClient(undefined, 1);
    try {
      const transaction = other.$transaction(
        async (tx) => {
          await reserveForItems(tx, shop, [item], 3);
          reservedInTransaction();
          await held;
        },
        { timeout: 30_000 },
      );
      await reserved;
      const mine = reserveForItems(db, shop, [item], 3);
      await waitFor(async () => (await reservationsWaitingForALock()) > 0);
      commit();
      await transaction;
      await mine;
    } finally {
      await other.$disconnect();
    }
    expect(await getBalance(db, shop)).toEqual({ available: 6, reserved: 3, total: 9 });
    expect(await db.creditReservation.count({ where: { shop } })).toBe(1);
    await expectLedgerMatchesAccount(shop);
  });

  it("enforces the daily spend cap on concurrent reservations that commit on their own", async () => {
    const shop = uniqueShopDomain();
    await createShop(db, { domain: shop, dailySpendCap: 10 });
    await grantCredits(db, shop, 100, { kind: "GRANT", idempotencyKey: "seed" });
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => reserveForItems(db, shop, [randomUUID()], 3)));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toBeInstanceOf(DailySpendCapError);
    expect(await getBalance(db, shop)).toEqual({ available: 91, reserved: 9, total: 100 });
    await expectLedgerMatchesAccount(shop);
  });

  it("gives back the held credits of items never created, once, leaving settled reservations alone", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 9, { kind: "GRANT", idempotencyKey: "seed" });
    const [captured, unused, other] = [randomUUID(), randomUUID(), randomUUID()];
    await reserveForItems(db, shop, [captured, unused, other], 3);
    await captureForItem(db, shop, captured);
    expect(await releaseUnusedReservations(db, shop, [captured, unused, other, randomUUID()], NOT_CREATED)).toBe(6);
    expect(await releaseUnusedReservations(db, shop, [captured, unused, other], NOT_CREATED)).toBe(0);
    expect(await getBalance(db, shop)).toEqual({ available: 6, reserved: 0, total: 6 });
    expect(await releaseForItem(db, shop, unused)).toBe("already");
    await expectLedgerMatchesAccount(shop);
  });

  it("gives back credits stranded by a crash between reserving and writing a batch when the shop runs short", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 3, { kind: "GRANT", idempotencyKey: "seed" });
    const stranded = randomUUID();
    await reserveForItems(db, shop, [stranded], 3);
    // Too recent to be an orphan: its batch may still be being written.
    await expect(reserveForItems(db, shop, [randomUUID()], 3)).rejects.toBeInstanceOf(InsufficientCreditsError);
    await db.creditReservation.updateMany({
      where: { shop, batchItemId: stranded },
      data: { createdAt: new Date(Date.now() - 11 * 60_000) },
    });
    const next = randomUUID();
    await reserveForItems(db, shop, [next], 3);
    expect(
      await db.creditReservation.findMany({ where: { shop }, select: { batchItemId: true, state: true }, orderBy: { createdAt: "asc" } }),
    ).toEqual([
      { batchItemId: stranded, state: "RELEASED" },
      { batchItemId: next, state: "HELD" },
    ]);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 3, total: 3 });
    await expectLedgerMatchesAccount(shop);
  });

  it("refuses a batch the balance cannot cover, all or nothing, with a message the merchant can act on", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: "seed" });
    const items = Array.from({ length: 12 }, () => randomUUID());
    const error = await reserve(db, shop, items).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientCreditsError);
    expect((error as Error).message).toBe(
      "This batch needs 36 credits; you have 30. Buy a credit pack on the Credits page, or select fewer images.",
    );
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await db.creditReservation.count({ where: { shop } })).toBe(0);
    expect(await db.creditEntry.count({ where: { shop, kind: "RESERVE" } })).toBe(0);
  });

  it("rolls back the caller's own writes when a reservation inside its transaction is refused", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 3, { kind: "GRANT", idempotencyKey: "seed" });
    await expect(
      db.$transaction(async (tx) => {
        await createShop(tx, { domain: shop });
        await reserveForItems(tx, shop, [randomUUID(), randomUUID()], 3);
      }),
    ).rejects.toBeInstanceOf(InsufficientCreditsError);
    expect(await db.shop.findUnique({ where: { domain: shop } })).toBeNull();
  });

  it("does not reserve twice for an item already holding a reservation", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 9, { kind: "GRANT", idempotencyKey: "seed" });
    const item = randomUUID();
    await reserve(db, shop, [item]);
    await reserve(db, shop, [item, item]);
    expect(await getBalance(db, shop)).toEqual({ available: 6, reserved: 3, total: 9 });
    await expectLedgerMatchesAccount(shop);
  });

  it("spends the credits of a published image once and returns those of a failed one once", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: "seed" });
    const [published, failed] = [randomUUID(), randomUUID()];
    await reserve(db, shop, [published, failed]);
    expect(await getBalance(db, shop)).toEqual({ available: 24, reserved: 6, total: 30 });

    expect(await captureForItem(db, shop, published)).toBe("captured");
    expect(await captureForItem(db, shop, published)).toBe("already");
    expect(await releaseForItem(db, shop, failed, "The image could not be processed")).toBe("released");
    expect(await releaseForItem(db, shop, failed)).toBe("already");

    expect(await getBalance(db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
    await expect(releaseForItem(db, shop, published)).rejects.toBeInstanceOf(ReservationSettledError);
    await expect(captureForItem(db, shop, failed)).rejects.toBeInstanceOf(ReservationSettledError);
    expect(await getBalance(db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
    await expectLedgerMatchesAccount(shop);
  });

  it("settles a reservation once when capture and release race", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 3, { kind: "GRANT", idempotencyKey: "seed" });
    const item = randomUUID();
    await reserve(db, shop, [item]);
    const outcomes = await Promise.allSettled([
      captureForItem(db, shop, item),
      releaseForItem(db, shop, item),
      captureForItem(db, shop, item),
      releaseForItem(db, shop, item),
    ]);
    const settled = outcomes.filter((o) => o.status === "fulfilled" && (o.value === "captured" || o.value === "released"));
    expect(settled).toHaveLength(1);
    const balance = await getBalance(db, shop);
    expect(balance.reserved).toBe(0);
    expect([0, 3]).toContain(balance.available);
    await expectLedgerMatchesAccount(shop);
  });

  it("does not let another shop settle a reservation", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 3, { kind: "GRANT", idempotencyKey: "seed" });
    const item = randomUUID();
    await reserve(db, shop, [item]);
    await expect(captureForItem(db, uniqueShopDomain(), item)).rejects.toThrow(/No credits were reserved/);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 3, total: 3 });
  });

  it("enforces the shop's daily spend cap", async () => {
    const shop = uniqueShopDomain();
    await createShop(db, { domain: shop, dailySpendCap: 10 });
    await grantCredits(db, shop, 100, { kind: "GRANT", idempotencyKey: "seed" });
    await reserve(db, shop, [randomUUID(), randomUUID()]);
    const error = await reserve(db, shop, [randomUUID(), randomUUID()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DailySpendCapError);
    expect((error as Error).message).toMatch(/daily spending limit is 10 credits and 6 were already used today/);
    // Released credits were not spent, so they do not count against the cap.
    const [first] = await db.creditReservation.findMany({ where: { shop }, take: 1 });
    await releaseForItem(db, shop, first!.batchItemId!);
    await reserve(db, shop, [randomUUID()]);
    expect(await getBalance(db, shop)).toEqual({ available: 94, reserved: 6, total: 100 });
  });

  it("gives welcome credits once per shop, even across reinstalls", async () => {
    const shop = uniqueShopDomain();
    await createShop(db, { domain: shop, partnerDevelopment: false, planCheckedAt: new Date() });
    await grantWelcomeCreditsOnce(db, shop);
    await db.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });
    await grantWelcomeCreditsOnce(db, shop);
    expect(await grantWelcomeCredits(db, shop)).toEqual({ granted: false });
    expect(await getBalance(db, shop)).toEqual({ available: 9, reserved: 0, total: 9 });
  });

  it("pages through the history newest first", async () => {
    const shop = uniqueShopDomain();
    for (let i = 0; i < 5; i++) await grantCredits(db, shop, i + 1, { kind: "GRANT", idempotencyKey: `g${i}` });
    const first = await creditActivity(db, shop, { take: 2 });
    expect(first.lines.map((e) => e.available)).toEqual([5, 4]);
    const second = await creditActivity(db, shop, { take: 2, cursor: first.nextCursor! });
    expect(second.lines.map((e) => e.available)).toEqual([3, 2]);
    const third = await creditActivity(db, shop, { take: 2, cursor: second.nextCursor! });
    expect(third.lines.map((e) => e.available)).toEqual([1]);
    expect(third.nextCursor).toBeNull();
    expect((await creditActivity(db, uniqueShopDomain(), {})).lines).toEqual([]);
  });

  it("refuses a negative adjustment larger than what is available", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 5, { kind: "GRANT", idempotencyKey: "seed" });
    await expect(grantCredits(db, shop, -6, { kind: "ADJUSTMENT", idempotencyKey: "adj" })).rejects.toBeInstanceOf(
      InsufficientCreditsError,
    );
    expect(await grantCredits(db, shop, -5, { kind: "ADJUSTMENT", idempotencyKey: "adj" })).toEqual({ granted: true });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    await expectLedgerMatchesAccount(shop);
  });
});
