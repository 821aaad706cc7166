/**
 * Issue 18: the embedded app's layout picks the merchant's language from Shopify admin's `locale` parameter,
 * remembers it for the requests that do not carry it, and English otherwise.
 */
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { loader } from "~/routes/app";
import { bearerRequest, call } from "./helpers";
import { createOfflineSession, uniqueShopDomain } from "../../factories";

interface LayoutData {
  locale: string;
  localeFromAdmin: boolean;
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
