import { describe, expect, it } from "vitest";
import { addDocumentResponseHeaders } from "~/shopify.server";

function documentHeaders(search: string): Headers {
  const headers = new Headers();
  addDocumentResponseHeaders(new Request(`${process.env.SHOPIFY_APP_URL}/app${search}`), headers);
  return headers;
}

describe("document response headers", () => {
  it("let only the shop's admin and Shopify admin frame the app", () => {
    const shop = "shop-frames.myshopify.com";
    const csp = documentHeaders(
      `?embedded=1&shop=${shop}&host=${Buffer.from(`admin.shopify.com/store/shop-frames`).toString("base64url")}`,
    ).get("Content-Security-Policy");
    const ancestors = (csp ?? "")
      .replace(/^frame-ancestors\s+/, "")
      .replace(/;\s*$/, "")
      .split(/\s+/);
    expect(ancestors).toContain(`https://${shop}`);
    expect(ancestors).toContain("https://admin.shopify.com");
    // Only Shopify's own admin hosts besides the shop: no other store, no open wildcard.
    for (const origin of ancestors) {
      expect(origin).toMatch(
        /^https:\/\/(shop-frames\.myshopify\.com|admin\.shopify\.com|\*\.spin\.dev|admin\.myshopify\.io|admin\.shop\.dev)$/,
      );
    }
  });

  it("do not name an attacker's domain passed as the shop", () => {
    const csp = documentHeaders("?embedded=1&shop=evil.example.com").get("Content-Security-Policy") ?? "";
    expect(csp).not.toContain("evil.example.com");
  });
});
