// The offline Admin client holds the session it read first (one read per job, not per call). What changes meanwhile in
// the Session table reaches it through Shopify's 401: a reinstall's new token is picked up, an uninstall is noticed.
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { NOT_INSTALLED, offlineSessionId, ShopAccessLostError } from "~/models/offline-sessions.server";
import { installShop, shopifyStandInForFile } from "../batches/shop-setup";
import { uniqueShopDomain } from "../../factories";

const { offlineSessions } = await import("~/shopify.server");

const emulator = shopifyStandInForFile();

async function installedShop(): Promise<string> {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, { products: 1, imagesPerProduct: 1 });
  await installShop(prisma, emulator, shop, { expiring: true });
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
    await installShop(prisma, emulator, shop, { expiring: true });

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
