import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "~/db.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { reserveForItems } from "~/models/credit-reservations.server";
import { createRedisConnection } from "~/lib/redis.server";
import { openImageQueue } from "~/queue/queue.server";
import { sweepOnce } from "~/queue/sweep.server";
import { testDatabaseUrl } from "../../setup/urls";
import { uniqueShopDomain } from "../../factories";

const db = createPrismaClient(testDatabaseUrl(), 2);
const queue = openImageQueue(`test-${randomUUID()}`, createRedisConnection());

afterAll(async () => {
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await db.$disconnect();
});

describe("sweep: credits held for a batch that was never written", () => {
  it("gives them back once no batch can still be being written, once, and leaves recent holds alone", async () => {
    const shop = uniqueShopDomain("orphan");
    await grantCredits(db, shop, 12, { kind: "GRANT", idempotencyKey: "seed" });
    // A crash between reserving and writing the batch: reservations whose items do not exist.
    const [old1, old2, recent] = [randomUUID(), randomUUID(), randomUUID()];
    await reserveForItems(db, shop, [old1, old2], 3);
    await reserveForItems(db, shop, [recent], 3);
    await db.creditReservation.updateMany({
      where: { shop, batchItemId: { in: [old1, old2] } },
      data: { createdAt: new Date(Date.now() - 11 * 60_000) },
    });
    expect(await getBalance(db, shop)).toEqual({ available: 3, reserved: 9, total: 12 });

    // (Another test file's sweeper shares this database and may be the one that gives them back.)
    await sweepOnce({ db, queue });
    expect(await getBalance(db, shop)).toEqual({ available: 9, reserved: 3, total: 12 });

    await sweepOnce({ db, queue });
    expect(await getBalance(db, shop)).toEqual({ available: 9, reserved: 3, total: 12 });
    const released = await db.creditEntry.count({ where: { shop, kind: "RELEASE" } });
    expect(released).toBe(2);
  });
});

describe("sweep: records of handled webhook deliveries", () => {
  it("forgets deliveries too old to be redelivered and keeps recent ones, which still stop a redelivery", async () => {
    const old = {
      id: `old-${randomUUID()}`,
      source: "shopify",
      topic: "products/update",
      receivedAt: new Date(Date.now() - 8 * 24 * 3600_000),
    };
    const recent = {
      id: `recent-${randomUUID()}`,
      source: "stripe",
      topic: "charge.refunded",
      receivedAt: new Date(Date.now() - 4 * 24 * 3600_000),
    };
    await db.webhookEvent.createMany({ data: [old, recent] });
    const result = await sweepOnce({ db, queue });
    expect(result.webhookRecordsForgotten).toBeGreaterThanOrEqual(1);
    expect(await db.webhookEvent.findUnique({ where: { id: old.id } })).toBeNull();
    expect(await db.webhookEvent.findUnique({ where: { id: recent.id } })).not.toBeNull();
  });
});
