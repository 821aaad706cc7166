import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveItem, createBatch, rejectItem } from "~/models/batches.server";
import { getBalance, getDebt, grantCredits, reverseCreditsInTransaction, sumEntries } from "~/models/credit-ledger.server";
import { reserveForItems } from "~/models/credit-reservations.server";
import type { ImageQueue } from "~/queue/queue.server";
import type { ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { installShop, offlineAdmin, startBatchTestEnv, type BatchTestEnv } from "./shop-setup";
import { createBatch as createBatchRow, createItems, uniqueShopDomain } from "../../factories";

// Batch items of shops named like this cannot be written: the step of createBatch after the reservation fails.
const FAILING_SHOP_PREFIX = "batch-write-fails";
const TRIGGER = `fail_batch_items_${randomUUID().slice(0, 8)}`;

let shopify: ShopifyEmulator;
let db: PrismaClient;
let queue: ImageQueue;
let env: BatchTestEnv | undefined;

beforeAll(async () => {
  env = await startBatchTestEnv();
  ({ shopify, db, queue } = env);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION ${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW."shop" LIKE '${FAILING_SHOP_PREFIX}-%' THEN RAISE EXCEPTION 'simulated failure writing batch items'; END IF;
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER ${TRIGGER} BEFORE INSERT ON "BatchItem" FOR EACH ROW EXECUTE FUNCTION ${TRIGGER}()`);
});

afterAll(async () => {
  await db?.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${TRIGGER} ON "BatchItem"`);
  await db?.$executeRawUnsafe(`DROP FUNCTION IF EXISTS ${TRIGGER}()`);
  await env?.close();
});

describe("createBatch and credits", () => {
  it("gives the reserved credits back when the batch cannot be written after the reservation", async () => {
    const shop = uniqueShopDomain(FAILING_SHOP_PREFIX);
    shopify.addShop(shop, { products: 3, imagesPerProduct: 2 });
    await installShop(db, shopify, shop);
    await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: "seed" });
    const graphql = await offlineAdmin(shop);
    const mediaIds = shopify
      .products(shop)
      .flatMap((p) => p.media.map((m) => m.id))
      .slice(0, 5);

    await expect(createBatch({ db, graphql, queue }, shop, { mediaIds, pipeline: "amazon" })).rejects.toThrow(
      /simulated failure writing batch items/,
    );

    expect(await db.batch.count({ where: { shop } })).toBe(0);
    expect(await db.batchItem.count({ where: { shop } })).toBe(0);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    const reservations = await db.creditReservation.findMany({ where: { shop }, select: { state: true } });
    expect(reservations).toHaveLength(5);
    expect(reservations.every((r) => r.state === "RELEASED")).toBe(true);
    const entries = await db.creditEntry.findMany({ where: { shop } });
    expect(sumEntries(entries)).toEqual(await getBalance(db, shop));
    expect(await queue.count()).toBe(0);
  });

  it("refuses new batches while credits are owed for a refund, and accepts them once a grant paid it", async () => {
    const shop = uniqueShopDomain("owing");
    shopify.addShop(shop, { products: 2, imagesPerProduct: 1 });
    await installShop(db, shopify, shop);
    await grantCredits(db, shop, 6, { kind: "GRANT", idempotencyKey: "seed" });
    await db.$transaction((tx) =>
      reverseCreditsInTransaction(tx, shop, 15, {
        idempotencyKey: "refund-1",
        note: "Starter pack refunded",
        noteMessage: () => ({ code: "noteRefundTakenBack", params: { pack: "Starter", count: 15 } }),
      }),
    );
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await getDebt(db, shop)).toBe(9);
    const graphql = await offlineAdmin(shop);
    const mediaIds = shopify.products(shop).flatMap((p) => p.media.map((m) => m.id));

    await expect(createBatch({ db, graphql, queue }, shop, { mediaIds, pipeline: "amazon" })).rejects.toMatchObject({
      httpStatus: 422,
      message: expect.stringMatching(/you owe 9 credits.*Buy a credit pack/),
    });
    expect(await db.batch.count({ where: { shop } })).toBe(0);

    await grantCredits(db, shop, 12, { kind: "GRANT", idempotencyKey: "top-up" });
    expect(await getDebt(db, shop)).toBe(0);
    const created = await createBatch({ db, graphql, queue }, shop, { mediaIds: mediaIds.slice(0, 1), pipeline: "amazon" });
    expect(created.queued).toBe(1);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 3, total: 3 });
  });

  it("pays what is owed from credits returned since, then lets the batch through", async () => {
    const shop = uniqueShopDomain("owing");
    shopify.addShop(shop, { products: 1, imagesPerProduct: 1 });
    await installShop(db, shopify, shop);
    await db.$transaction((tx) =>
      reverseCreditsInTransaction(tx, shop, 3, {
        idempotencyKey: "refund-1",
        note: "refunded",
        noteMessage: () => ({ code: "noteRefundTakenBack", params: { pack: "Starter", count: 3 } }),
      }),
    );
    // Credits that came back without a grant (an image that failed) are available, not yet paid in.
    await db.creditAccount.update({ where: { shop }, data: { available: 6 } });
    await db.creditEntry.create({
      data: { shop, kind: "RELEASE", availableDelta: 6, reservedDelta: 0, idempotencyKey: "released", note: "returned" },
    });
    const created = await createBatch({ db, graphql: await offlineAdmin(shop), queue }, shop, {
      mediaIds: shopify.products(shop).flatMap((p) => p.media.map((m) => m.id)),
      pipeline: "amazon",
    });
    expect(created.queued).toBe(1);
    expect(await getDebt(db, shop)).toBe(0);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 3, total: 3 });
  });
});

describe("reviewing an image held for review", () => {
  it("never tells the merchant both Approved and Rejected when both are clicked at once", async () => {
    const shop = uniqueShopDomain("review");
    await grantCredits(db, shop, 60, { kind: "GRANT", idempotencyKey: "seed" });
    const batch = await createBatchRow(db, shop, { total: 20 });
    const ids = Array.from({ length: 20 }, () => randomUUID());
    await reserveForItems(db, shop, ids, 3);
    await createItems(
      db,
      batch,
      ids.map((id) => ({ id, state: "NEEDS_REVIEW", reason: "Waiting for your review." })),
    );
    const settle = (p: Promise<void>) =>
      p.then(
        () => "ok" as const,
        (error: { httpStatus?: number }) => error.httpStatus ?? error,
      );
    const outcomes = await Promise.all(
      ids.map((id) => Promise.all([settle(approveItem({ db, queue }, shop, id)), settle(rejectItem({ db }, shop, id))])),
    );
    const items = await db.batchItem.findMany({ where: { shop }, select: { id: true, state: true } });
    for (const [index, [approved, rejected]] of outcomes.entries()) {
      const state = items.find((i) => i.id === ids[index])!.state;
      // Exactly one click wins, and it is the one the item shows; the other is told it lost (409).
      expect([approved, rejected].sort()).toEqual([409, "ok"]);
      expect(state).toBe(approved === "ok" ? "QUEUED" : "REJECTED");
    }
    const rejectedCount = items.filter((i) => i.state === "REJECTED").length;
    expect(await getBalance(db, shop)).toEqual({ available: rejectedCount * 3, reserved: 60 - rejectedCount * 3, total: 60 });
    await queue.drain(true);
  });
});
