import { getJwt } from "@shopify/shopify-api/test-helpers";
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { devStoreTestCredits, getBalance, WELCOME_CREDITS } from "~/models/credit-ledger.server";
import { findCreditPack, priceDecimal, shopifyChargeName } from "~/models/packs.server";
import { applyShopifyPurchaseUpdate } from "~/models/shopify-purchases.server";
import { redactShop } from "~/models/lifecycle.server";
import { loader as appLoader } from "~/routes/app";
import { shopifyStandInForFile } from "../batches/shop-setup";
import { createShop, uniqueShopDomain } from "../../factories";

const API_KEY = process.env.SHOPIFY_API_KEY!;
const API_SECRET = process.env.SHOPIFY_API_SECRET!;

const emulator = shopifyStandInForFile();

/** A store on a paid plan unless `partnerDevelopment: true` (a development store, which Shopify never charges). */
function newShop(opts: { partnerDevelopment?: boolean } = {}): string {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, { products: 1, partnerDevelopment: opts.partnerDevelopment ?? false });
  return shop;
}

/** A test charge for the pack of 30 credits, approved, as Shopify's app_purchases_one_time/update reports it. */
async function approveTestCharge(shop: string): Promise<number> {
  const pack = findCreditPack("starter")!;
  const gid = `gid://shopify/AppPurchaseOneTime/${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  await applyShopifyPurchaseUpdate(prisma, {
    shop,
    gid,
    status: "ACTIVE",
    name: shopifyChargeName(pack),
    test: true,
    price: { amount: priceDecimal(pack.priceCents), currencyCode: pack.currency },
  });
  return (await getBalance(prisma, shop)).available;
}

/** The document request Shopify admin makes when it opens the embedded app. */
async function openApp(shop: string, overrides: Record<string, unknown> = {}, tamper = false): Promise<Request> {
  let { token } = await getJwt(shop.replace(".myshopify.com", ""), API_KEY, API_SECRET, overrides);
  if (tamper) token = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
  const host = Buffer.from(`admin.shopify.com/store/${shop.replace(".myshopify.com", "")}`).toString("base64url");
  const url = new URL(`${process.env.SHOPIFY_APP_URL}/app`);
  url.search = new URLSearchParams({ embedded: "1", shop, host, id_token: token }).toString();
  return new Request(url);
}

async function callLoader(request: Request): Promise<Response | unknown> {
  try {
    // The layout answers JSON (with the language cookie's header); its data is what the page gets.
    const answer: unknown = await appLoader({ request, params: {}, context: {} });
    return answer instanceof Response ? await answer.json() : answer;
  } catch (thrown) {
    return thrown; // Remix loaders throw Responses for auth failures and redirects
  }
}

describe("installing the app from Shopify admin", () => {
  it("exchanges the id token for an offline session, stores it in PostgreSQL and records the shop", async () => {
    const shop = newShop();
    const result = await callLoader(await openApp(shop));
    expect(result).toMatchObject({ apiKey: API_KEY });

    const session = await prisma.session.findUnique({ where: { id: `offline_${shop}` } });
    expect(session?.accessToken).toBe(emulator.accessToken(shop));
    expect(session?.isOnline).toBe(false);
    const shopRow = await prisma.shop.findUnique({ where: { domain: shop } });
    expect(shopRow?.installedAt).toBeInstanceOf(Date);
    expect(shopRow?.uninstalledAt).toBeNull();
  });

  it("reuses the stored session on the next load instead of exchanging again", async () => {
    const shop = newShop();
    await callLoader(await openApp(shop));
    const first = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    const result = await callLoader(await openApp(shop));
    expect(result).toMatchObject({ apiKey: API_KEY });
    const second = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    expect(second.accessToken).toBe(first.accessToken);
    expect(await prisma.session.count({ where: { shop } })).toBe(1);
  });

  it("grants the welcome credits once, and not again to a shop that returns after its data was erased", async () => {
    const shop = newShop();
    await callLoader(await openApp(shop));
    const welcome = (await getBalance(prisma, shop)).available;
    expect(welcome).toBeGreaterThan(0);
    await callLoader(await openApp(shop));
    expect((await getBalance(prisma, shop)).available).toBe(welcome);

    await prisma.session.deleteMany({ where: { shop } });
    await prisma.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });
    expect(await redactShop({ db: prisma }, shop)).toMatchObject({ erased: true });
    await callLoader(await openApp(shop));
    expect(await prisma.session.count({ where: { shop } })).toBe(1);
    expect((await getBalance(prisma, shop)).available).toBe(0);
  });

  it("gives a store on a paid plan its welcome credits at install", async () => {
    const shop = newShop();
    await callLoader(await openApp(shop));
    expect(await getBalance(prisma, shop)).toMatchObject({ available: WELCOME_CREDITS });
    expect(await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ partnerDevelopment: false });
  });

  it("counts a development store's welcome credits against its cap of free credits, so test charges add only the rest", async () => {
    const shop = newShop({ partnerDevelopment: true });
    await callLoader(await openApp(shop));
    expect(await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ partnerDevelopment: true });
    expect((await getBalance(prisma, shop)).available).toBe(WELCOME_CREDITS);
    // Two packs of 30 bought with test charges: the store ends with the cap (30), welcome included, not 9 + 30.
    await approveTestCharge(shop);
    expect(await approveTestCharge(shop)).toBe(devStoreTestCredits());
  });

  it("gives a development store no welcome credits once its test charges used the cap, even after a reinstall", async () => {
    const shop = newShop({ partnerDevelopment: true });
    await createShop(prisma, { domain: shop, partnerDevelopment: true });
    await approveTestCharge(shop);
    await approveTestCharge(shop);
    await callLoader(await openApp(shop));
    expect(await getBalance(prisma, shop)).toMatchObject({ available: devStoreTestCredits() });
    expect(await prisma.creditEntry.count({ where: { shop, kind: "WELCOME" } })).toBe(0);
  });

  it("gives development stores no welcome credits when their cap is 0", async () => {
    process.env.DEV_STORE_TEST_CREDITS = "0";
    try {
      const shop = newShop({ partnerDevelopment: true });
      await callLoader(await openApp(shop));
      expect(await prisma.session.count({ where: { shop } })).toBe(1);
      expect((await getBalance(prisma, shop)).available).toBe(0);
    } finally {
      delete process.env.DEV_STORE_TEST_CREDITS;
    }
  });

  it("refuses a tampered id token and stores nothing", async () => {
    const shop = newShop();
    const result = await callLoader(await openApp(shop, {}, true));
    expect(result).toBeInstanceOf(Response);
    expect([401, 302]).toContain((result as Response).status);
    expect(await prisma.session.count({ where: { shop } })).toBe(0);
    expect(await prisma.shop.count({ where: { domain: shop } })).toBe(0);
  });

  it("refuses an expired id token and stores nothing", async () => {
    const shop = newShop();
    const past = Math.floor(Date.now() / 1000) - 600;
    const result = await callLoader(await openApp(shop, { exp: past, nbf: past - 3600, iat: past - 3600 }));
    expect(result).toBeInstanceOf(Response);
    expect([401, 302]).toContain((result as Response).status);
    expect(await prisma.session.count({ where: { shop } })).toBe(0);
  });

  it("refuses an id token minted for another app", async () => {
    const shop = newShop();
    const result = await callLoader(await openApp(shop, { aud: "someone-elses-app" }));
    expect(result).toBeInstanceOf(Response);
    expect(await prisma.session.count({ where: { shop } })).toBe(0);
  });
});
