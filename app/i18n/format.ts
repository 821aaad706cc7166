import { useTranslation } from "react-i18next";

/**
 * Numbers, money and dates in the merchant's language (Intl): "1,250 credits" / "1250 créditos",
 * "$29.99" / "29,99 US$", "Dec 5, 2026, 9:04 PM" / "5 dic 2026, 21:04".
 */
function formatters(locale: string) {
  const number = new Intl.NumberFormat(locale);
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
  return {
    number: (value: number) => number.format(value),
    currency: (amount: number | string, currencyCode: string) =>
      new Intl.NumberFormat(locale, { style: "currency", currency: currencyCode }).format(Number(amount)),
    percent: (fraction: number, digits = 0) =>
      new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: digits }).format(fraction),
    dateTime: (value: Date | string) => dateTime.format(new Date(value)),
    date: (value: Date | string) => date.format(new Date(value)),
  };
}

export type Formatters = ReturnType<typeof formatters>;

const cache = new Map<string, Formatters>();

/** The formatters of the language the page is shown in. */
export function useFormat(): Formatters {
  const { i18n } = useTranslation();
  const locale = i18n.language;
  let format = cache.get(locale);
  if (!format) {
    format = formatters(locale);
    cache.set(locale, format);
  }
  return format;
}

/** "About 5 min left" in the page's language: the ETA of the batch and whole-catalogue pages. */
export function useEtaText(): (seconds: number | null) => string | null {
  const { t } = useTranslation();
  return (seconds) => {
    if (seconds === null || seconds <= 0) return null;
    if (seconds < 60) return t("eta.seconds", { seconds: Math.max(5, Math.round(seconds / 5) * 5) });
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return t("eta.minutes", { minutes });
    return t("eta.hours", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  };
}
