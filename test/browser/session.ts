/**
 * The built app served against the stand-ins (scripts/serve-e2e.ts) and Chromium opening it as Shopify admin does,
 * for the browser tests and the Web Vitals bench.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ADMIN_API_VERSION_STRING } from "../../app/api-version";
import { installAppBridgeStandIn } from "../../emulators/app-bridge";
import { embeddedAppUrl, mintIdToken } from "../../emulators/app-bridge/tokens";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// shopify-app-remix answers 410 to bots, and "HeadlessChrome" reads as one: present a desktop Chrome.
const DESKTOP_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

export interface ServedApp {
  appUrl: string;
  shopifyUrl: string;
  shop: string;
  openUrl: string;
  apiKey: string;
  apiSecret: string;
  /** A URL that opens `appPath` the way Shopify admin does (fresh id_token). */
  adminUrl(appPath: string, extra?: Record<string, string>): string;
  stop(): Promise<void>;
}

export function ensureBuild(): void {
  if (existsSync(path.join(ROOT, "build/server/index.js"))) return;
  const result = spawnSync("npx", ["remix", "vite:build"], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) throw new Error("npm run build failed");
}

/** Starts serve-e2e with a fresh database of its own; `env` adds E2E_* settings. */
export async function serveApp(env: Record<string, string>): Promise<ServedApp> {
  ensureBuild();
  // Its own fresh database (not the shared test database): the served worker sweeps its whole database.
  const { DATABASE_URL: _shared, ...inherited } = process.env;
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/serve-e2e.ts"], {
    cwd: ROOT,
    env: { ...inherited, E2E_FRESH_DB: "1", NODE_ENV: "production", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ appUrl: string; shopifyUrl: string; shop: string; openUrl: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`serve-e2e exited early with code ${code}`)));
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      try {
        const parsed = JSON.parse(line) as { ready?: boolean; appUrl: string; shopifyUrl: string; shop: string; openUrl: string };
        if (parsed.ready) resolve(parsed);
      } catch {
        // not our line
      }
    });
  });
  const apiKey = process.env.SHOPIFY_API_KEY ?? "e2e-api-key";
  const apiSecret = process.env.SHOPIFY_API_SECRET ?? "e2e-api-secret";
  return {
    ...ready,
    apiKey,
    apiSecret,
    adminUrl: (appPath, extra = {}) => embeddedAppUrl(ready.appUrl, ready.shop, appPath, mintIdToken(ready.shop, apiKey, apiSecret), extra),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/**
 * A desktop browser context on the served app, with the App Bridge stand-in, and admin.shopify.com URLs (a purchase's
 * return URL, say) answered with the embedded app's page, as Shopify admin would load it in its frame.
 */
export async function openAppContext(browser: Browser, app: ServedApp): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, userAgent: DESKTOP_CHROME });
  await context.route("https://admin.shopify.com/**", async (route) => {
    const url = new URL(route.request().url());
    const match = /^\/store\/[^/]+\/apps\/[^/]+(\/.*)?$/.exec(url.pathname);
    await route.fulfill({ status: 302, headers: { Location: app.adminUrl(match?.[1] ?? "/app", Object.fromEntries(url.searchParams)) } });
  });
  return context;
}

export async function newAppPage(context: BrowserContext, app: ServedApp): Promise<Page> {
  const page = await context.newPage();
  await installAppBridgeStandIn(page, { mintIdToken: async () => mintIdToken(app.shop, app.apiKey, app.apiSecret) });
  return page;
}

/**
 * The Shopify stand-in's store as a staff member sees it through the Admin API: an id token exchanged for an online
 * access token (the served app's own offline token stays valid), then GraphQL against the stand-in. The stand-in runs
 * in serve-e2e's process, so its state is read the way Shopify admin would show it.
 */
export async function storeAdminGraphql(app: ServedApp): Promise<<T>(query: string, variables?: Record<string, unknown>) => Promise<T>> {
  const base = `${app.shopifyUrl}/shops/${encodeURIComponent(app.shop)}/admin`;
  const exchanged = await fetch(`${base}/oauth/access_token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: app.apiKey,
      client_secret: app.apiSecret,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: mintIdToken(app.shop, app.apiKey, app.apiSecret),
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      requested_token_type: "urn:shopify:params:oauth:token-type:online-access-token",
    }),
  });
  if (!exchanged.ok) throw new Error(`token exchange with the Shopify stand-in failed: ${exchanged.status} ${await exchanged.text()}`);
  const { access_token: token } = (await exchanged.json()) as { access_token: string };
  return async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${base}/api/${ADMIN_API_VERSION_STRING}/graphql.json`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (!response.ok || body.errors || !body.data)
      throw new Error(`Shopify stand-in answered ${response.status}: ${JSON.stringify(body.errors ?? body)}`);
    return body.data;
  };
}
