import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import db from "~/db.server";
import { DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { autoRuleSpentThisMonth } from "~/models/auto-rule.server";
import { addFundedItems } from "~/models/batches.server";
import type { ProductImage } from "~/models/catalog.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { createShop, uniqueShopDomain } from "../../factories";

const QUEUE = "funded-items-test";

function images(n: number): ProductImage[] {
  const productId = `gid://shopify/Product/${randomUUID().slice(0, 8)}`;
  return Array.from({ length: n }, (_, i) => ({
    productId,
    productTitle: "Linen shirt",
    productHandle: "linen-shirt",
    mediaId: `gid://shopify/MediaImage/${randomUUID().slice(0, 8)}`,
    url: `https://cdn.shopify.com/s/files/${i}.jpg`,
    alt: null,
    width: null,
    height: null,
    mimeType: "image/jpeg",
    position: i + 1,
    status: "READY",
  }));
}

const newProductsBatch = () => ({
  id: randomUUID(),
  origin: "NEW_PRODUCTS" as const,
  pipeline: "amazon" as const,
  settings: DEFAULT_PIPELINE_SETTINGS,
  reviewBeforePublish: false,
});

describe("images added to automatic batches", () => {
  it("never spends past a monthly budget when two products arrive at once", async () => {
    const shop = uniqueShopDomain();
    await createShop(db, { domain: shop });
    await grantCredits(db, shop, 60, { kind: "GRANT", idempotencyKey: "seed" });
    const budget = { limit: 9, spent: (tx: Parameters<typeof autoRuleSpentThisMonth>[0]) => autoRuleSpentThisMonth(tx, shop) };
    const results = await Promise.all(
      [0, 1].map(() => addFundedItems(db, QUEUE, shop, { batch: newProductsBatch(), images: images(2), budget, onlyNeverProcessed: true })),
    );
    expect(results.reduce((n, r) => n + r.items.length, 0)).toBe(3);
    expect(results.map((r) => r.shortOf)).toContain("budget");
    expect(await autoRuleSpentThisMonth(db, shop)).toBe(9);
    expect(await getBalance(db, shop)).toEqual({ available: 51, reserved: 9, total: 60 });
  });

  it("stops at the daily spend cap and says so, instead of calling it an empty balance", async () => {
    const shop = uniqueShopDomain();
    await createShop(db, { domain: shop, dailySpendCap: 6 });
    await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: "seed" });
    const funded = await addFundedItems(db, QUEUE, shop, {
      batch: newProductsBatch(),
      images: images(4),
      budget: null,
      onlyNeverProcessed: true,
    });
    expect(funded).toMatchObject({ unfunded: 2, shortOf: "dailyCap" });
    expect(funded.items).toHaveLength(2);
    expect(await getBalance(db, shop)).toEqual({ available: 24, reserved: 6, total: 30 });
  });
});
