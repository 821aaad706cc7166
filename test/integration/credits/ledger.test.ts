import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "~/db.server";
import {
  DailySpendCapError,
  InsufficientCreditsError,
  ReservationSettledError,
  captureForItem,
  getBalance,
  grantCredits,
  grantWelcomeCredits,
  history,
  releaseForItem,
  reserveForItems,
  sumEntries,
} from "~/models/credits.server";
import { recordInstall } from "~/models/shops.server";

const db = createPrismaClient(undefined, 4);
afterAll(() => db.$disconnect());

const newShop = () => `shop-${randomUUID().slice(0, 8)}.myshopify.com`;

async function reserve(client: PrismaClient, shop: string, itemIds: string[], perItem = 3): Promise<void> {
  // Generous maxWait: 1,000 transactions queue for a few dozen connections.
  await client.$transaction((tx) => reserveForItems(tx, shop, itemIds, perItem), { maxWait: 60_000, timeout: 60_000 });
}

async function expectLedgerMatchesAccount(shop: string): Promise<void> {
  const entries = await db.creditEntry.findMany({ where: { shop } });
  const balance = await getBalance(db, shop);
  expect(sumEntries(entries)).toEqual(balance);
}

describe("credit ledger", () => {
  it("grants a key once however often it is replayed, concurrently or not", async () => {
    const shop = newShop();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => grantCredits(db, shop, 30, { kind: "PURCHASE", idempotencyKey: "shopify-purchase:gid-1" })),
    );
    expect(results.filter((r) => r.granted)).toHaveLength(1);
    expect(await grantCredits(db, shop, 30, { kind: "PURCHASE", idempotencyKey: "shopify-purchase:gid-1" })).toEqual({ granted: false });
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    await expectLedgerMatchesAccount(shop);
  });

  it("lets exactly 100 of 1,000 concurrent 3-credit reservations through a balance of 300", async () => {
    const shop = newShop();
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

  it("refuses a batch the balance cannot cover, all or nothing, with a message the merchant can act on", async () => {
    const shop = newShop();
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
    const shop = newShop();
    await grantCredits(db, shop, 3, { kind: "GRANT", idempotencyKey: "seed" });
    await expect(
      db.$transaction(async (tx) => {
        await tx.shop.create({ data: { domain: shop } });
        await reserveForItems(tx, shop, [randomUUID(), randomUUID()], 3);
      }),
    ).rejects.toBeInstanceOf(InsufficientCreditsError);
    expect(await db.shop.findUnique({ where: { domain: shop } })).toBeNull();
  });

  it("does not reserve twice for an item already holding a reservation", async () => {
    const shop = newShop();
    await grantCredits(db, shop, 9, { kind: "GRANT", idempotencyKey: "seed" });
    const item = randomUUID();
    await reserve(db, shop, [item]);
    await reserve(db, shop, [item, item]);
    expect(await getBalance(db, shop)).toEqual({ available: 6, reserved: 3, total: 9 });
    await expectLedgerMatchesAccount(shop);
  });

  it("spends the credits of a published image once and returns those of a failed one once", async () => {
    const shop = newShop();
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
    const shop = newShop();
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
    const shop = newShop();
    await grantCredits(db, shop, 3, { kind: "GRANT", idempotencyKey: "seed" });
    const item = randomUUID();
    await reserve(db, shop, [item]);
    await expect(captureForItem(db, newShop(), item)).rejects.toThrow(/No credits were reserved/);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 3, total: 3 });
  });

  it("enforces the shop's daily spend cap", async () => {
    const shop = newShop();
    await db.shop.create({ data: { domain: shop, dailySpendCap: 10 } });
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
    const shop = newShop();
    await recordInstall(db, shop, "read_products");
    await db.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });
    await recordInstall(db, shop, "read_products");
    expect(await grantWelcomeCredits(db, shop)).toEqual({ granted: false });
    expect(await getBalance(db, shop)).toEqual({ available: 9, reserved: 0, total: 9 });
  });

  it("pages through the history newest first", async () => {
    const shop = newShop();
    for (let i = 0; i < 5; i++) await grantCredits(db, shop, i + 1, { kind: "GRANT", idempotencyKey: `g${i}` });
    const first = await history(db, shop, { take: 2 });
    expect(first.entries.map((e) => e.amount)).toEqual([5, 4]);
    const second = await history(db, shop, { take: 2, cursor: first.nextCursor! });
    expect(second.entries.map((e) => e.amount)).toEqual([3, 2]);
    const third = await history(db, shop, { take: 2, cursor: second.nextCursor! });
    expect(third.entries.map((e) => e.amount)).toEqual([1]);
    expect(third.nextCursor).toBeNull();
    expect((await history(db, newShop(), {})).entries).toEqual([]);
  });

  it("refuses a negative adjustment larger than what is available", async () => {
    const shop = newShop();
    await grantCredits(db, shop, 5, { kind: "GRANT", idempotencyKey: "seed" });
    await expect(grantCredits(db, shop, -6, { kind: "ADJUSTMENT", idempotencyKey: "adj" })).rejects.toBeInstanceOf(
      InsufficientCreditsError,
    );
    expect(await grantCredits(db, shop, -5, { kind: "ADJUSTMENT", idempotencyKey: "adj" })).toEqual({ granted: true });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    await expectLedgerMatchesAccount(shop);
  });
});
