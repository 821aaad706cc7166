/**
 * Serves the BUILT app (build/server/index.js, `npm run build` first) against the local stand-ins, for
 * browser tests and for clicking through the UI by hand:
 *
 *   node --import tsx scripts/serve-e2e.ts
 *
 * In one process: the Shopify Admin stand-in (a store with products and images), the DashScope
 * stand-in, the app's worker, and an HTTP server for the Remix build with `*.myshopify.com` traffic sent
 * to the Shopify stand-in. Prints one JSON line when ready: { appUrl, shopifyUrl, dashscopeUrl, shop,
 * apiKey, openUrl } — `openUrl` opens the app the way Shopify admin does (valid id_token for 60 s).
 *
 * Environment (all optional): E2E_PORT (0 = any free port), E2E_SHOP, E2E_PRODUCTS (12),
 * E2E_IMAGES_PER_PRODUCT (2), E2E_CREDITS (credits granted to the shop, 30), E2E_RESTORE_RATE (the Admin API
 * bucket's points per second, the stand-in's 50 by default), E2E_NO_WORKER=1 (UI only,
 * no DashScope stand-in or worker), DATABASE_URL (else the imgapp_e2e database, created and migrated;
 * with E2E_FRESH_DB=1 a new database of its own, dropped on exit), REDIS_URL, SHOPIFY_API_KEY /
 * SHOPIFY_API_SECRET. Use a database of its own: the worker's sweep enqueues every queued item it finds.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { embeddedAppUrl, mintIdToken } from "../emulators/app-bridge/tokens";
import { installEmulatorDispatcher } from "../emulators/dispatcher";
import { ensureMigratedDatabase } from "./migrate";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUILD_SERVER = path.join(ROOT, "build/server/index.js");
const BUILD_CLIENT = path.join(ROOT, "build/client");
const PG_BASE = "postgresql://postgres@127.0.0.1:5432";
// E2E_FRESH_DB=1: a database of this run's own, dropped on exit. The worker's sweep enqueues every
// queued item in its database, so a shared one would let two servers take each other's work.
const FRESH_DB = process.env.E2E_FRESH_DB === "1";
const E2E_DB = FRESH_DB ? `imgapp_e2e_${randomUUID().slice(0, 8)}` : "imgapp_e2e";

process.env.NODE_ENV = "production";
process.env.SHOPIFY_API_KEY ??= "e2e-api-key";
process.env.SHOPIFY_API_SECRET ??= "e2e-api-secret";
process.env.SCOPES ??= "read_products,write_products,write_files,read_locales";
process.env.LOG_LEVEL ??= "warn";
process.env.SHOPIFY_BILLING_TEST ??= "true";
process.env.QUEUE_NAME ??= `e2e-${randomUUID()}`;
process.env.WORKER_CONCURRENCY ??= "3";
process.env.SWEEP_INTERVAL_MS ??= "2000";
process.env.FILE_READY_TIMEOUT_MS ??= "20000";
// The stand-ins (CDN, DashScope results) are http://127.0.0.1: the only exception to the production download policy.
process.env.SAFE_FETCH_LOCAL_HOSTS = "127.0.0.1";
// Before shopify-api is imported: it captures fetch.
installEmulatorDispatcher();

const MIME: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

async function ensureDatabase(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  process.env.DATABASE_URL = `${PG_BASE}/${E2E_DB}`;
  await ensureMigratedDatabase(process.env.DATABASE_URL);
}

async function dropFreshDatabase(): Promise<void> {
  if (!FRESH_DB) return;
  const admin = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${E2E_DB}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const file = path.normalize(path.join(BUILD_CLIENT, decodeURIComponent(pathname)));
  if (!file.startsWith(BUILD_CLIENT + path.sep)) return false;
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return false;
  res.writeHead(200, {
    "Content-Type": MIME[path.extname(file)] ?? "application/octet-stream",
    "Content-Length": String(info.size),
    "Cache-Control": pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "public, max-age=3600",
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(file).pipe(res);
  return true;
}

function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (key.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else headers.set(key, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  // Node's fetch needs `duplex: "half"` for a streamed request body.
  const init: RequestInit & { duplex?: "half" } = {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
    duplex: hasBody ? "half" : undefined,
  };
  return new Request(new URL(req.url ?? "/", origin), init);
}

async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === "set-cookie") return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText, headers);
  if (!response.body) return void res.end();
  Readable.fromWeb(response.body as NodeWebReadableStream).pipe(res);
}

export async function startE2eServer() {
  await ensureDatabase();
  const apiKey = process.env.SHOPIFY_API_KEY!;
  const apiSecret = process.env.SHOPIFY_API_SECRET!;
  const shop = process.env.E2E_SHOP ?? `e2e-${randomUUID().slice(0, 8)}.myshopify.com`;

  let handler: ((request: Request) => Promise<Response>) | null = null;
  const server = createServer((req, res) => {
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    const pathname = new URL(req.url ?? "/", origin).pathname;
    serveStatic(req, res, pathname)
      .then(async (served) => {
        if (served) return;
        if (!handler) return void res.writeHead(503).end("starting");
        await sendResponse(res, await handler(toRequest(req, origin)));
      })
      .catch((error: Error) => {
        console.error("serve-e2e: request failed", error);
        if (!res.headersSent) res.writeHead(500).end("Internal Server Error");
        else res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.E2E_PORT ?? 0), "127.0.0.1", resolve));
  const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SHOPIFY_APP_URL = appUrl;

  const { startShopifyEmulator } = await import("../emulators/shopify-admin/server");
  const restoreRate = process.env.E2E_RESTORE_RATE ? Number(process.env.E2E_RESTORE_RATE) : undefined;
  const shopify = await startShopifyEmulator({
    apiKey,
    apiSecret,
    appUrl,
    productWebhooks: true,
    fileReadyDelayMs: 50,
    ...(restoreRate ? { restoreRate } : {}),
  });
  process.env.SHOPIFY_EMULATOR_URL = shopify.url;
  shopify.addShop(shop, {
    products: Number(process.env.E2E_PRODUCTS ?? 12),
    imagesPerProduct: Number(process.env.E2E_IMAGES_PER_PRODUCT ?? 2),
  });

  // E2E_NO_WORKER=1 serves the UI alone (batches then stay queued).
  let dashscope: { url: string; close(): Promise<void> } | null = null;
  let worker: { stop(): Promise<void> } | null = null;
  if (process.env.E2E_NO_WORKER !== "1") {
    const { startDashScopeEmulator } = await import("../emulators/dashscope/server");
    process.env.DASHSCOPE_API_KEY = "sk-e2e-dashscope";
    const started = await startDashScopeEmulator({ apiKey: process.env.DASHSCOPE_API_KEY, latencyMs: 150 });
    dashscope = started;
    process.env.DASHSCOPE_BASE_URL = started.url;
    const { runWorker } = await import("../worker");
    worker = await runWorker();
  }

  const { createRequestHandler } = await import("@remix-run/node");
  const build = await import(pathToFileURL(BUILD_SERVER).href);
  const remixHandler = createRequestHandler(build, "production");
  handler = (request) => remixHandler(request);

  // A fresh install: the first document load exchanges the token; credits are granted here so the
  // walk can spend them (welcome credits come from the app itself).
  const credits = Number(process.env.E2E_CREDITS ?? 30);
  if (credits > 0) {
    const { createPrismaClient } = await import("~/db.server");
    const { grantCredits } = await import("~/models/credit-ledger.server");
    const db = createPrismaClient(process.env.DATABASE_URL, 2);
    await grantCredits(db, shop, credits, { kind: "GRANT", idempotencyKey: "e2e-grant", note: "End-to-end test credits" });
    await db.$disconnect();
  }

  const close = async () => {
    await worker?.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await shopify.close();
    await dashscope?.close();
    await dropFreshDatabase().catch((error: Error) => console.error(`serve-e2e: could not drop ${E2E_DB}: ${error.message}`));
  };
  return {
    appUrl,
    shopifyUrl: shopify.url,
    dashscopeUrl: dashscope?.url ?? null,
    shop,
    apiKey,
    openUrl: embeddedAppUrl(appUrl, shop, "/app", mintIdToken(shop, apiKey, apiSecret)),
    close,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = await startE2eServer();
  const { close, ...info } = started;
  console.log(JSON.stringify({ ready: true, ...info }));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
