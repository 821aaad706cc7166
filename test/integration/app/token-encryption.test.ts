// Shopify tokens in the Session table are encrypted when SESSION_TOKEN_KEYS is set, on every path that writes them.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { createTokenCipher } from "~/lib/token-cipher.server";
import { offlineSessionId, reencryptSessionTokens } from "~/models/offline-sessions.server";
import { installShop, shopifyStandInForFile } from "../batches/shop-setup";
import { uniqueShopDomain } from "../../factories";

const firstKey = randomBytes(32);
process.env.SESSION_TOKEN_KEYS = firstKey.toString("base64");
const { offlineSessions, sessionStorage } = await import("~/shopify.server");

const emulator = shopifyStandInForFile();

async function installedShop(opts: { expiring: boolean }): Promise<string> {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, { products: 1, imagesPerProduct: 1 });
  await installShop(prisma, emulator, shop, opts);
  return shop;
}

const row = (shop: string) => prisma.session.findUniqueOrThrow({ where: { id: offlineSessionId(shop) } });

describe("token encryption at rest", () => {
  it("writes a renewed pair encrypted, and the app still calls Shopify with it", async () => {
    const shop = await installedShop({ expiring: false });
    const session = await offlineSessions.validSession(shop);

    const stored = await row(shop);
    expect(stored.accessToken).toMatch(/^enc:v1:/);
    expect(stored.refreshToken).toMatch(/^enc:v1:/);
    expect(stored.accessToken).not.toContain(session.accessToken!);
    expect(stored.refreshToken).not.toContain(session.refreshToken!);
    expect(session.accessToken).toBe(emulator.accessToken(shop));
    const response = await offlineSessions.adminGraphql(shop)("query ShopName { shop { name } }");
    expect(((await response.json()) as { data: { shop: { name: string } } }).data.shop.name).toBeTruthy();
  });

  it("encrypts what shopify-app-remix stores and decrypts what it loads", async () => {
    const shop = await installedShop({ expiring: true });
    const loaded = (await sessionStorage.loadSession(offlineSessionId(shop)))!;
    expect(loaded.accessToken).toBe(emulator.accessToken(shop));
    await sessionStorage.storeSession(loaded);
    const stored = await row(shop);
    expect(stored.accessToken).toMatch(/^enc:v1:/);
    expect((await sessionStorage.loadSession(offlineSessionId(shop)))!.accessToken).toBe(emulator.accessToken(shop));
  });

  it("re-encrypts every row under a new key, after which the old key can go", async () => {
    const shop = await installedShop({ expiring: true });
    await offlineSessions.validSession(shop);
    const plain = (await offlineSessions.validSession(shop)).accessToken;
    const secondKey = randomBytes(32);
    const rotating = createTokenCipher([secondKey, firstKey]);

    // Scoped to this shop: other test files share the database and do not hold these keys.
    expect(await reencryptSessionTokens(prisma, rotating, { shop })).toBe(1);
    const stored = await row(shop);
    expect(createTokenCipher([secondKey]).decrypt(stored.accessToken)).toBe(plain);
    expect(await reencryptSessionTokens(prisma, rotating, { shop })).toBe(0);
  });
});
