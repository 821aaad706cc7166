import i18next, { type i18n } from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./locales/en.json";
import es from "./locales/es.json";

/**
 * The languages the admin UI speaks. Shopify admin opens the app in the staff member's language (`locale`, a BCP 47
 * tag such as `es-ES`); any regional variant of a supported language maps to it, anything else to English.
 * Adding a language: a `locales/<code>.json` with every key of `en.json`, its entry here and in `POLARIS_TRANSLATIONS` (polaris.ts).
 */
export const SUPPORTED_LOCALES = ["en", "es"] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

export const RESOURCES = { en, es } as const satisfies Record<Locale, typeof en>;

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** `es`, `es-ES`, `es_MX` -> `es`; an unsupported or empty tag -> null. */
export function supportedLocaleOf(tag: string | null | undefined): Locale | null {
  const language = tag?.trim().split(/[-_]/)[0]?.toLowerCase();
  return isLocale(language) ? language : null;
}

const instances = new Map<Locale, i18n>();

/**
 * One i18next instance per language, initialised synchronously from the bundled strings (no extra request, so the
 * first paint is already in the merchant's language). Each instance stays on its language and is shared by every
 * request in that language: nothing ever calls `changeLanguage` on it.
 */
export function i18nFor(locale: Locale): i18n {
  let instance = instances.get(locale);
  if (!instance) {
    instance = i18next.createInstance();
    // The English instance is also react-i18next's default, so a component rendered outside the provider reads English.
    if (locale === DEFAULT_LOCALE) instance.use(initReactI18next);
    void instance.init({
      lng: locale,
      fallbackLng: DEFAULT_LOCALE,
      supportedLngs: [...SUPPORTED_LOCALES],
      resources: Object.fromEntries(SUPPORTED_LOCALES.map((l) => [l, { translation: RESOURCES[l] }])),
      initImmediate: false,
      returnNull: false,
      // React escapes what it renders; i18next escaping on top would show "&#x2F;" in dates.
      interpolation: { escapeValue: false },
    });
    instances.set(locale, instance);
  }
  return instance;
}
