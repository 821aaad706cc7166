import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import db from "~/db.server";
import { parseEnv } from "~/lib/config.server";
import { captureForItem, reserveForItems } from "~/models/credit-reservations.server";
import { getBalance, getDebt, sumEntries } from "~/models/credit-ledger.server";
import { PartnerApiError, partnerApiConfigFromEnv, reconcileShopifyRefunds } from "~/models/shopify-refunds.server";
import { startShopifyRefundReconciler } from "~/queue/refund-reconciler.server";
import { createRedisConnection } from "~/lib/redis.server";
import { type PartnerEmulator, startPartnerEmulator } from "../../../emulators/shopify-partners/server";
import { buyCredits } from "../lifecycle/helpers";
import { uniqueShopDomain } from "../../factories";

let partners: PartnerEmulator;
const config = () =>
  partnerApiConfigFromEnv(
    parseEnv({
      NODE_ENV: "test",
      SHOPIFY_PARTNER_API_URL: partners.url,
      SHOPIFY_PARTNER_ORG_ID: partners.organizationId,
      SHOPIFY_PARTNER_API_TOKEN: partners.accessToken,
      SHOPIFY_PARTNER_APP_ID: partners.appId,
    }),
  )!;

beforeAll(async () => {
  partners = await startPartnerEmulator();
});
afterAll(() => partners.close());

/** A Shopify one-time charge of $9.99 for 30 credits, granted. */
async function paidShopifyCharge() {
  const shop = uniqueShopDomain();
  const purchaseId = await buyCredits(shop, 30);
  const purchase = await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  return { shop, purchase };
}

describe("refunds of Shopify app charges (Partner Dashboard)", () => {
  it("takes a refunded charge's credits back once, reconciled 10 times at once", async () => {
    const { shop, purchase } = await paidShopifyCharge();
    partners.refundCharge({ chargeId: purchase.externalId, shop, amount: "9.99" });
    await Promise.all(Array.from({ length: 10 }, () => reconcileShopifyRefunds(db, config())));
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.creditEntry.count({ where: { shop, kind: "ADJUSTMENT", purchaseId: purchase.id } })).toBe(1);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ reversedCredits: 30, refundedCredits: 30 });
  });

  it("adds partial refunds of one charge up, and owes what was already spent", async () => {
    const { shop, purchase } = await paidShopifyCharge();
    partners.refundCharge({ chargeId: purchase.externalId, shop, amount: "5.00" });
    await reconcileShopifyRefunds(db, config());
    expect(await getBalance(db, shop)).toMatchObject({ available: 30 - Math.ceil((30 * 500) / 999) });
    // 4 images edited (12 credits) before the rest of the charge is refunded.
    const items = Array.from({ length: 4 }, () => randomUUID());
    await reserveForItems(db, shop, items, 3);
    for (const item of items) await captureForItem(db, shop, item);
    partners.refundCharge({ chargeId: purchase.externalId, shop, amount: "4.99" });
    await reconcileShopifyRefunds(db, config());
    await reconcileShopifyRefunds(db, config());
    expect(await getBalance(db, shop)).toMatchObject({ available: 0 });
    expect(await getDebt(db, shop)).toBe(12);
    expect(sumEntries(await db.creditEntry.findMany({ where: { shop } }))).toEqual(await getBalance(db, shop));
  });

  it("leaves everything alone for a charge it did not record, and fails clearly on a wrong token", async () => {
    const { shop } = await paidShopifyCharge();
    partners.refundCharge({ chargeId: `gid://shopify/AppPurchaseOneTime/${Date.now()}`, shop, amount: "9.99" });
    const result = await reconcileShopifyRefunds(db, config());
    expect(result.unmatched).toBeGreaterThanOrEqual(1);
    expect(await getBalance(db, shop)).toMatchObject({ available: 30 });
    await expect(reconcileShopifyRefunds(db, { ...config(), accessToken: "prtapi_wrong" })).rejects.toBeInstanceOf(PartnerApiError);
  });

  it("runs in the worker's reconciler, one pass at a time across processes", async () => {
    const { shop, purchase } = await paidShopifyCharge();
    partners.refundCharge({ chargeId: purchase.externalId, shop, amount: "9.99" });
    const redis = createRedisConnection({ forWorker: true });
    const reconcilers = [0, 1].map(() => startShopifyRefundReconciler({ db, redis, config: config() }, { intervalMs: 60_000 }));
    try {
      const passes = await Promise.all(reconcilers.map((r) => r.runNow()));
      expect(passes.filter((p) => p !== null)).toHaveLength(1);
      expect(await getBalance(db, shop)).toMatchObject({ available: 0 });
    } finally {
      await Promise.all(reconcilers.map((r) => r.stop()));
      await redis.del("{imgapp}:shopify-refunds-lock");
      redis.disconnect();
    }
  });
});
