/**
 * Issue 18: the embedded app's layout picks the merchant's language from Shopify admin's `locale` parameter,
 * remembers it for the requests that do not carry it, and English otherwise. It also says, on every page, when
 * Shopify has frozen or locked the store (the worker's mark, read with the shop's row).
 */
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { loader } from "~/routes/app";
import { bearerRequest, call } from "./helpers";
import { createOfflineSession, uniqueShopDomain } from "../../factories";

interface LayoutData {
  locale: string;
  localeFromAdmin: boolean;
  shopUnavailable: { status: number; since: string } | null;
}

async function layout(
  shop: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ data: LayoutData; setCookie: string | null }> {
  const result = await call(loader, await bearerRequest(shop, path, { headers }));
  if (!(result instanceof Response)) throw new Error("the layout answers a Response");
  expect(result.status).toBe(200);
  return { data: (await result.json()) as LayoutData, setCookie: result.headers.get("Set-Cookie") };
}

describe("the layout's language", () => {
  it("is Spanish when admin opens the app in any Spanish, and stays Spanish on later requests through its cookie", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const opened = await layout(shop, "/app?embedded=1&locale=es-MX", { "Accept-Language": "en-US,en" });
    expect(opened.data).toMatchObject({ locale: "es", localeFromAdmin: true });
    expect(opened.setCookie).toMatch(/^app_locale=/);

    const later = await layout(shop, "/app/credits", { Cookie: opened.setCookie!.split(";")[0]!, "Accept-Language": "en-US,en" });
    expect(later.data).toMatchObject({ locale: "es", localeFromAdmin: false });
    expect(later.setCookie).toBeNull();
  });

  it("is English for an admin language the app does not speak, and for a request that names none", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    expect((await layout(shop, "/app?locale=ja-JP", { "Accept-Language": "es-ES" })).data.locale).toBe("en");
    expect((await layout(shop, "/app")).data.locale).toBe("en");
  });
});

describe("the layout's frozen or locked store banner", () => {
  it("tells a frozen and a locked store when Shopify last refused it, a healthy one nothing, each only about itself", async () => {
    const [frozen, locked, healthy] = [uniqueShopDomain("frozen"), uniqueShopDomain("locked"), uniqueShopDomain("healthy")];
    for (const shop of [frozen, locked, healthy]) await createOfflineSession(prisma, shop);
    const since = new Date("2026-12-06T08:30:00.000Z");
    await prisma.shop.update({ where: { domain: frozen }, data: { unavailableAt: since, unavailableStatus: 402 } });
    await prisma.shop.update({ where: { domain: locked }, data: { unavailableAt: since, unavailableStatus: 423 } });

    const shown = async (shop: string) => (await layout(shop, "/app")).data.shopUnavailable;
    expect(await shown(frozen)).toEqual({ status: 402, since: since.toISOString() });
    expect(await shown(locked)).toEqual({ status: 423, since: since.toISOString() });
    expect(await shown(healthy)).toBeNull();

    // Once a job finds the store answering again the mark is cleared, and so is the banner.
    await prisma.shop.update({ where: { domain: frozen }, data: { unavailableAt: null, unavailableStatus: null } });
    expect(await shown(frozen)).toBeNull();
  });
});
