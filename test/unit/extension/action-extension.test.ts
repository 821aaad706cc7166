// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import en from "../../../extensions/image-cleanup-action/locales/en.default.json";
import extension from "../../../extensions/image-cleanup-action/src/ActionExtension";
import type { ActionApi, Translate } from "../../../extensions/image-cleanup-action/src/logic";

/** English strings as Shopify's `i18n.translate` gives them: `{{name}}` replaced, `one`/`other` picked by `count`. */
const translate: Translate = (key, options = {}) => {
  let value: unknown = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], en);
  if (value && typeof value === "object") value = (value as Record<string, string>)[options.count === 1 ? "one" : "other"];
  if (typeof value !== "string") throw new Error(`no string for ${key}`);
  return value.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => String(options[name]));
};

/** The extension's `shopify` global: two selected products with three images between them. */
function installShopify(): void {
  const products: Record<string, string[]> = {
    "gid://shopify/Product/1": ["IMAGE", "IMAGE"],
    "gid://shopify/Product/2": ["IMAGE", "VIDEO"],
  };
  const api: ActionApi & { close: () => void } = {
    i18n: { translate },
    data: { selected: Object.keys(products).map((id) => ({ id })) },
    auth: { idToken: async () => "session-token" },
    query: async <Data>(_query: string, options?: { variables?: Record<string, unknown> }) => {
      const ids = (options?.variables?.ids as string[]) ?? [];
      const nodes = ids.map((id) => ({ id, media: { nodes: products[id]!.map((type) => ({ mediaContentType: type })) } }));
      return { data: { nodes } as Data };
    },
    close: () => undefined,
  };
  (globalThis as unknown as { shopify: typeof api }).shopify = api;
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

describe("admin action extension: opening it", () => {
  it("shows the selection and the price when both are read", async () => {
    installShopify();
    vi.stubGlobal("fetch", async () => Response.json({ creditsPerImage: 3 }));
    await extension();
    expect(document.body.textContent).toContain("2 products selected with 3 images.");
    expect(document.body.textContent).toContain("3 images x 3 credits = 9 credits");
    expect(document.querySelector("s-button[variant=primary]")?.hasAttribute("disabled")).toBe(false);
  });

  it("still shows how many images are selected when the price cannot be read, says so, and starts nothing", async () => {
    installShopify();
    vi.stubGlobal("fetch", async () => Response.json({ error: "Server error" }, { status: 500 }));
    await extension();
    expect(document.body.textContent).toContain("2 products selected with 3 images.");
    const banner = document.querySelector("s-banner[tone=critical]");
    expect(banner?.textContent).toBe("Could not read the price per image from the app. Close this and try again.");
    expect(document.querySelector("s-button[variant=primary]")?.hasAttribute("disabled")).toBe(true);
  });
});
