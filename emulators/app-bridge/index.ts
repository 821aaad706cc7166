import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

export const APP_BRIDGE_CDN_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

/** The stand-in's source: a browser script that defines the `shopify` global. */
export function appBridgeStandInSource(): string {
  return readFileSync(fileURLToPath(new URL("./app-bridge.js", import.meta.url)), "utf8");
}

export interface AppBridgeStandInOptions {
  /** Returns a fresh, valid session token for the shop; called for every authenticated fetch. */
  mintIdToken: () => Promise<string>;
}

/**
 * Serves the stand-in instead of Shopify's CDN script and gives it the test's token minter.
 * Other cdn.shopify.com requests (fonts) are answered empty so no test reaches the internet.
 */
export async function installAppBridgeStandIn(page: Page, options: AppBridgeStandInOptions): Promise<void> {
  await page.exposeFunction("__mintIdToken", options.mintIdToken);
  const source = appBridgeStandInSource();
  await page.route("https://cdn.shopify.com/**", async (route) => {
    const url = route.request().url();
    if (url.startsWith(APP_BRIDGE_CDN_URL)) {
      await route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: source });
    } else if (url.endsWith(".css")) {
      await route.fulfill({ status: 200, contentType: "text/css", body: "" });
    } else {
      await route.fulfill({ status: 404, body: "" });
    }
  });
}
