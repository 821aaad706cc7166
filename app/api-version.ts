import { ApiVersion } from "@shopify/shopify-app-remix/server";

// The one Admin API version: shopify.server.ts, the stand-in, the schema test and shopify.app.toml agree on it.
export const ADMIN_API_VERSION = ApiVersion.July26;
export const ADMIN_API_VERSION_STRING = "2026-07";
