import polarisEn from "@shopify/polaris/locales/en.json";
import polarisEs from "@shopify/polaris/locales/es.json";
import type { Locale } from "./locales";

/** Polaris's own strings (pagination, clear buttons, loading labels) in the same language as ours. */
export const POLARIS_TRANSLATIONS: Record<Locale, typeof polarisEn> = { en: polarisEn, es: polarisEs };
