/**
 * CORS for the admin action extension's JSON API. shopify-app-remix answers a preflight itself (204) and its `cors`
 * helper allows every origin (`*`); the session token already keeps other sites from acting, but nothing else
 * than the admin's extension sandbox has a reason to call, so any other origin is refused outright (403, no CORS
 * headers) and allowed answers name the one origin that asked.
 */
import { json } from "@remix-run/node";
import { getConfig } from "./config.server";

/** EXTENSION_ORIGINS (where Shopify admin runs UI extensions, or a stand-in) and the app's own origin. */
function allowedExtensionOrigins(): string[] {
  const config = getConfig();
  // The app's own pages send their origin on POST; that is not a cross-origin call.
  return config.SHOPIFY_APP_URL ? [...config.EXTENSION_ORIGINS, new URL(config.SHOPIFY_APP_URL).origin] : [...config.EXTENSION_ORIGINS];
}

/** 403 for a request that names an origin not allowed; null when it may go on (no Origin: not from a browser page). */
export function refuseForeignOrigin(request: Request): Response | null {
  const origin = request.headers.get("Origin");
  if (origin === null || allowedExtensionOrigins().includes(origin)) return null;
  return json({ error: "This endpoint answers Shopify admin's extension only." }, { status: 403 });
}

/** Narrows the library's `*` to the origin that asked, and states the methods a preflight may use. */
export function pinCorsOrigin(request: Request, response: Response): Response {
  const origin = request.headers.get("Origin");
  if (!origin || !response.headers.has("Access-Control-Allow-Origin")) return response;
  response.headers.set("Access-Control-Allow-Origin", origin);
  response.headers.append("Vary", "Origin");
  if (request.method === "OPTIONS") response.headers.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  return response;
}
