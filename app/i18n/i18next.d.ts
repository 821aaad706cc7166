import type en from "./locales/en.json";

// Typed keys: `t("nav.images")` is checked by tsc against the English strings.
declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof en };
    returnNull: false;
  }
}
