import { createCookie } from "@remix-run/node";
import { RemixI18Next } from "remix-i18next/server";
import { DEFAULT_LOCALE, SUPPORTED_LOCALES, supportedLocaleOf, type Locale } from "./locales";

/**
 * Remembers the admin's language for requests that do not carry Shopify's `locale` parameter (client-side
 * navigations, a reload inside the frame). The app runs in admin's iframe, so on https it is a partitioned
 * (CHIPS) SameSite=None cookie; a browser that refuses it falls back to Accept-Language, and the page keeps the
 * language it was opened in anyway (app.tsx).
 */
const localeCookie = createCookie("app_locale", { path: "/", httpOnly: true, maxAge: 60 * 60 * 24 * 365 });

const detector = new RemixI18Next({
  detection: {
    supportedLanguages: [...SUPPORTED_LOCALES],
    fallbackLanguage: DEFAULT_LOCALE,
    cookie: localeCookie,
    order: ["custom", "cookie", "header"],
    // Shopify admin's own `locale` parameter wins over everything; an admin language the app does not speak
    // means English, not the browser's other preferences.
    findLocale: async (request) => {
      const fromAdmin = adminLocaleParam(request);
      return fromAdmin === undefined ? null : (supportedLocaleOf(fromAdmin) ?? DEFAULT_LOCALE);
    },
  },
});

/** The `locale` parameter Shopify admin adds when it opens the app, or undefined when this request has none. */
function adminLocaleParam(request: Request): string | undefined {
  return new URL(request.url).searchParams.get("locale") ?? undefined;
}

export interface DetectedLocale {
  locale: Locale;
  /** True when Shopify admin named the language on this request (authoritative, and worth remembering). */
  fromAdmin: boolean;
  /** Set-Cookie header that remembers an admin-named language, or null. */
  setCookie: string | null;
}

/** The merchant's language: admin's `locale` parameter, else the remembered one, else Accept-Language, else English. */
export async function detectLocale(request: Request): Promise<DetectedLocale> {
  const locale = supportedLocaleOf(await detector.getLocale(request)) ?? DEFAULT_LOCALE;
  const fromAdmin = adminLocaleParam(request) !== undefined;
  if (!fromAdmin) return { locale, fromAdmin, setCookie: null };
  const secure = new URL(request.url).protocol === "https:";
  const setCookie = await localeCookie.serialize(locale, secure ? { secure, sameSite: "none", partitioned: true } : { sameSite: "lax" });
  return { locale, fromAdmin, setCookie };
}
