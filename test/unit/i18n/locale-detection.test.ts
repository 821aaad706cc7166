import { describe, expect, it } from "vitest";
import { detectLocale } from "~/i18n/locale.server";

function request(path: string, headers: Record<string, string> = {}): Request {
  return new Request(new URL(path, "https://app.example.com"), { headers });
}

describe("the merchant's language", () => {
  it("is the one Shopify admin names in `locale`, any Spanish variant being Spanish, and is remembered in a cookie", async () => {
    const detected = await detectLocale(request("/app?embedded=1&locale=es-ES", { "Accept-Language": "en-US,en;q=0.9" }));
    expect(detected).toMatchObject({ locale: "es", fromAdmin: true });
    expect(detected.setCookie).toMatch(/^app_locale=/);
    expect(detected.setCookie).toMatch(/SameSite=None/);
    expect(detected.setCookie).toMatch(/Partitioned/);

    const cookie = detected.setCookie!.split(";")[0]!;
    const later = await detectLocale(request("/app/batches", { Cookie: cookie, "Accept-Language": "en-US" }));
    expect(later).toEqual({ locale: "es", fromAdmin: false, setCookie: null });
  });

  it("is English when admin runs in a language the app does not speak, whatever the browser prefers", async () => {
    expect((await detectLocale(request("/app?locale=fr", { "Accept-Language": "es-ES,es" }))).locale).toBe("en");
  });

  it("falls back to the browser's first language (Accept-Language) without the parameter or a cookie, then to English", async () => {
    expect((await detectLocale(request("/app", { "Accept-Language": "es-MX,es;q=0.9,en;q=0.5" }))).locale).toBe("es");
    expect((await detectLocale(request("/app", { "Accept-Language": "de-DE,es;q=0.8" }))).locale).toBe("en");
    expect((await detectLocale(request("/app"))).locale).toBe("en");
  });
});
