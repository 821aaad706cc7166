import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import type { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch } from "~/models/batches.server";
import { getBalance, grantCredits, sumEntries } from "~/models/credits.server";
import type { ImageJobData } from "~/queue/jobs";
import type { ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { installShop, offlineAdmin, startBatchTestEnv, type BatchTestEnv } from "./shop-setup";

// Batch items of shops named like this cannot be written: the step of createBatch after the reservation fails.
const FAILING_SHOP_PREFIX = "batch-write-fails-";
const TRIGGER = `fail_batch_items_${randomUUID().slice(0, 8)}`;

let shopify: ShopifyEmulator;
let db: PrismaClient;
let queue: Queue<ImageJobData>;
let env: BatchTestEnv | undefined;

beforeAll(async () => {
  env = await startBatchTestEnv();
  ({ shopify, db, queue } = env);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION ${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW."shop" LIKE '${FAILING_SHOP_PREFIX}%' THEN RAISE EXCEPTION 'simulated failure writing batch items'; END IF;
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
    const shop = `${FAILING_SHOP_PREFIX}${randomUUID().slice(0, 8)}.myshopify.com`;
    shopify.addShop(shop, { products: 3, imagesPerProduct: 2 });
    await installShop(db, shopify, shop);
    await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: "seed" });
    const graphql = await offlineAdmin(shop);
    const mediaIds = shopify.products(shop).flatMap((p) => p.media.map((m) => m.id)).slice(0, 5);

    await expect(createBatch({ db, graphql, queue }, shop, { mediaIds, pipeline: "amazon" })).rejects.toThrow(/simulated failure writing batch items/);

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
});
