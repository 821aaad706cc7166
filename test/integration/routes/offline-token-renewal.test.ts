// The web app's own Admin calls (shopify-app-remix's authenticate.admin) with an offline token about to expire:
// it is renewed through the same locked path as the worker's, and a revoked one is replaced by the token
// exchange the merchant's visit makes.
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { loader } from "~/routes/app._index/route";
import { installShop, shopifyStandInForFile } from "../batches/shop-setup";
import { bearerRequest, body, call, status } from "./helpers";
import { uniqueShopDomain } from "../../factories";

const emulator = shopifyStandInForFile();

/** An install whose offline token has one minute left, inside the library's own 5-minute refresh window. */
async function shopWithTokenAboutToExpire(): Promise<string> {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, { products: 3, imagesPerProduct: 1 });
  await installShop(prisma, emulator, shop);
  await prisma.session.update({ where: { id: `offline_${shop}` }, data: { expires: new Date(Date.now() + 60_000) } });
  return shop;
}

async function imagesShown(shop: string): Promise<number> {
  const result = await call(loader, await bearerRequest(shop, "/app"));
  expect(status(result)).toBe(200);
  return (await body<{ images: unknown[] }>(result)).images.length;
}

describe("offline token renewal on the web app's paths", () => {
  it("refreshes a token about to expire once, even for five pages loading at once", async () => {
    const shop = await shopWithTokenAboutToExpire();
    const before = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });

    expect(await Promise.all(Array.from({ length: 5 }, () => imagesShown(shop)))).toEqual([3, 3, 3, 3, 3]);

    expect(emulator.tokenStats(shop)).toMatchObject({ refreshes: 1, refreshTokenReuses: 0 });
    const after = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.accessToken).toBe(emulator.accessToken(shop));
    expect(after.expires!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  });

  it("reconnects by token exchange when the merchant opens the app after the refresh token was revoked", async () => {
    const shop = await shopWithTokenAboutToExpire();
    emulator.revokeRefreshTokens(shop);

    expect(await imagesShown(shop)).toBe(3);

    expect(emulator.tokenStats(shop).refreshes).toBe(0);
    const after = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    expect(after.accessToken).toBe(emulator.accessToken(shop));
    expect(after.refreshToken).toMatch(/^shprt_/);
    expect(after.expires!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  });
});
