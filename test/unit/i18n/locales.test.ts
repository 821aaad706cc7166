/**
 * Issue 18: every string exists in every language, with the same placeholders, and every plural has the forms its
 * language needs (Spanish has "many" besides "one" and "other"; i18next shows the bare key when a form is missing).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LOCALE, RESOURCES, SUPPORTED_LOCALES, i18nFor, supportedLocaleOf } from "~/i18n/locales";
import { MESSAGE_CODES } from "~/lib/merchant-message";

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

function flatten(tree: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

/** Placeholder names of a string: "{{count, number}} of {{total}}" -> count, total. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]!))].sort();
}

/** Keys with their plural suffix removed, each with the union of its forms' placeholders (count aside). */
function messages(locale: (typeof SUPPORTED_LOCALES)[number]) {
  const byKey = new Map<string, { forms: Set<string>; placeholders: Set<string> }>();
  for (const [path, text] of flatten(RESOURCES[locale])) {
    const form = PLURAL_SUFFIX.exec(path)?.[1];
    const key = path.replace(PLURAL_SUFFIX, "");
    const entry = byKey.get(key) ?? { forms: new Set<string>(), placeholders: new Set<string>() };
    if (form) entry.forms.add(form);
    for (const name of placeholders(text)) if (!(form && name === "count")) entry.placeholders.add(name);
    byKey.set(key, entry);
  }
  return byKey;
}

describe("translations", () => {
  const reference = messages(DEFAULT_LOCALE);

  it.each(SUPPORTED_LOCALES.filter((l) => l !== DEFAULT_LOCALE))(
    "%s has exactly the keys of English, with the same placeholders",
    (locale) => {
      const other = messages(locale);
      expect([...other.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [key, entry] of reference) {
        expect({ key, placeholders: [...other.get(key)!.placeholders].sort() }).toEqual({
          key,
          placeholders: [...entry.placeholders].sort(),
        });
      }
    },
  );

  it.each(SUPPORTED_LOCALES)("%s has every plural form its language uses, and no plural key without forms", (locale) => {
    const needed = new Intl.PluralRules(locale).resolvedOptions().pluralCategories.slice().sort();
    const keysOfOtherPlurals = new Set(
      SUPPORTED_LOCALES.flatMap((l) => [...messages(l)].filter(([, e]) => e.forms.size > 0).map(([k]) => k)),
    );
    for (const [key, entry] of messages(locale)) {
      if (!keysOfOtherPlurals.has(key)) continue;
      expect({ key, forms: [...entry.forms].sort() }).toEqual({ key, forms: needed });
    }
  });

  it("has a sentence for every merchant message code the models and routes send, and none for a code nobody sends", () => {
    const codes = new Set(Object.keys(RESOURCES.en.messages).map((key) => key.replace(PLURAL_SUFFIX, "")));
    expect([...codes].sort()).toEqual([...MESSAGE_CODES].sort());
    expect(i18nFor("es").t("messages.insufficientCredits", { needed: 18, available: 9 })).toBe(
      "Este lote necesita 18 créditos y tienes 9. Compra un paquete de créditos en la página Créditos o selecciona menos imágenes.",
    );
  });

  it("formats counts in the language's own way", () => {
    expect(i18nFor("en").t("lowBalance.lowBody", { count: 1250, creditsPerImage: 3 })).toBe(
      "That is enough for 1,250 more images at 3 credits each.",
    );
    expect(i18nFor("es").t("lowBalance.lowBody", { count: 1, creditsPerImage: 3 })).toBe(
      "Alcanza para 1 imagen más a 3 créditos cada una.",
    );
    expect(i18nFor("es").t("lowBalance.lowBody", { count: 1_000_000, creditsPerImage: 3 })).toBe(
      "Alcanza para 1.000.000 imágenes más a 3 créditos cada una.",
    );
  });

  it("maps admin language tags onto the supported languages", () => {
    expect(supportedLocaleOf("es")).toBe("es");
    expect(supportedLocaleOf("es-ES")).toBe("es");
    expect(supportedLocaleOf("es-419")).toBe("es");
    expect(supportedLocaleOf("EN-us")).toBe("en");
    expect(supportedLocaleOf("fr-FR")).toBeNull();
    expect(supportedLocaleOf("")).toBeNull();
  });
});
