// The offline Admin client holds the session it read first (one read per job, not per call). What changes meanwhile in
// the Session table reaches it through Shopify's 401: a reinstall's new token is picked up, an uninstall is noticed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { NOT_INSTALLED, offlineSessionId, ShopAccessLostError } from "~/models/offline-sessions.server";
import { installShopOffline } from "../../../emulators/shopify-admin/install";
import { startShopifyEmulator, type ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { uniqueShopDomain } from "../../factories";

const { offlineSessions } = await import("~/shopify.server");

let emulator: ShopifyEmulator;
const app = { apiKey: process.env.SHOPIFY_API_KEY!, apiSecret: process.env.SHOPIFY_API_SECRET! };

beforeAll(async () => {
  emulator = await startShopifyEmulator(app);
  process.env.SHOPIFY_EMULATOR_URL = emulator.url;
});
afterAll(async () => {
  await emulator.close();
});

async function installedShop(): Promise<string> {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, { products: 1, imagesPerProduct: 1 });
  await installShopOffline(prisma, emulator.url, shop, app, { expiring: true });
  return shop;
}

async function shopName(graphql: ReturnType<typeof offlineSessions.adminGraphql>): Promise<string> {
  const response = await graphql("query ShopName { shop { name } }");
  return ((await response.json()) as { data: { shop: { name: string } } }).data.shop.name;
}

describe("an offline Admin client in use while the shop's access changes", () => {
  it("goes on with the new token when the app was reinstalled after it read the session", async () => {
    const shop = await installedShop();
    const graphql = offlineSessions.adminGraphql(shop);
    const name = await shopName(graphql);

    emulator.uninstallApp(shop);
    await installShopOffline(prisma, emulator.url, shop, app, { expiring: true });

    expect(await shopName(graphql)).toBe(name);
    expect(emulator.tokenStats(shop).refreshes).toBe(0);
  });

  it("stops with 'not installed' when the app was uninstalled after it read the session", async () => {
    const shop = await installedShop();
    const graphql = offlineSessions.adminGraphql(shop);
    await shopName(graphql);

    emulator.uninstallApp(shop);
    await prisma.session.deleteMany({ where: { id: offlineSessionId(shop) } });

    const error = await shopName(graphql).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopAccessLostError);
    expect((error as ShopAccessLostError).lost).toEqual(NOT_INSTALLED);
  });
});
