import { randomUUID } from "node:crypto";
import type { ItemState } from "@prisma/client";
import { afterAll, describe, expect, it } from "vitest";
import { createPrismaClient } from "~/db.server";
import { ITEM_STATES } from "~/models/batch-item-states";
import { ItemTransitionError, transition } from "~/models/batch-items.server";

const db = createPrismaClient(undefined, 4);
afterAll(() => db.$disconnect());

async function itemIn(state: ItemState, shop = `shop-${randomUUID().slice(0, 8)}.myshopify.com`): Promise<{ shop: string; id: string }> {
  const batch = await db.batch.create({ data: { shop, pipeline: "amazon", settings: {}, total: 1 } });
  const item = await db.batchItem.create({
    data: {
      batchId: batch.id,
      shop,
      productId: "gid://shopify/Product/1",
      productTitle: "Mug",
      mediaId: `gid://shopify/MediaImage/${randomUUID()}`,
      sourceUrl: "https://cdn.shopify.com/a.jpg",
      position: 1,
      state,
    },
  });
  return { shop, id: item.id };
}

const stateOf = async (id: string) => (await db.batchItem.findUniqueOrThrow({ where: { id } })).state;

describe("BatchItem transitions", () => {
  it("refuses a move the table does not allow, and leaves the item as it was", async () => {
    const item = await itemIn("PUBLISHED");
    await expect(transition(db, { shop: item.shop, itemId: item.id, from: "PUBLISHED", to: "QUEUED" })).rejects.toThrow(
      ItemTransitionError,
    );
    await expect(transition(db, { shop: item.shop, itemId: item.id, from: ["NEEDS_REVIEW", "PUBLISHED"], to: "QUEUED" })).rejects.toThrow(
      "A BatchItem cannot move from PUBLISHED to QUEUED.",
    );
    expect(await stateOf(item.id)).toBe("PUBLISHED");
  });

  it("moves only an item still in a state it may leave, and only the shop's own", async () => {
    const published = await itemIn("PUBLISHED");
    expect(await transition(db, { shop: published.shop, itemId: published.id, from: ["QUEUED", "PROCESSING"], to: "FAILED" })).toBe(0);
    expect(await stateOf(published.id)).toBe("PUBLISHED");

    const queued = await itemIn("QUEUED");
    expect(await transition(db, { shop: "other-shop.myshopify.com", itemId: queued.id, from: "QUEUED", to: "CANCELLED" })).toBe(0);
    expect(
      await transition(db, { shop: queued.shop, itemId: queued.id, from: "QUEUED", to: "CANCELLED", data: { reason: "Stopped." } }),
    ).toBe(1);
    expect(await db.batchItem.findUniqueOrThrow({ where: { id: queued.id } })).toMatchObject({ state: "CANCELLED", reason: "Stopped." });
  });

  it("lets one of two racing moves win: an image approved and rejected at once ends one way", async () => {
    for (let round = 0; round < 10; round += 1) {
      const held = await itemIn("NEEDS_REVIEW");
      const moved = await Promise.all([
        transition(db, { shop: held.shop, itemId: held.id, from: "NEEDS_REVIEW", to: "QUEUED" }),
        transition(db, { shop: held.shop, itemId: held.id, from: "NEEDS_REVIEW", to: "REJECTED" }),
      ]);
      expect(moved.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await stateOf(held.id)).toBe(moved[0] === 1 ? "QUEUED" : "REJECTED");
    }
  });

  it("names every state of the database's enum, in its order", async () => {
    const [row] = await db.$queryRaw<Array<{ states: string[] }>>`SELECT enum_range(NULL::"ItemState")::text[] AS states`;
    expect([...ITEM_STATES]).toEqual(row?.states);
  });
});
