/**
 * Built for Shopify's admin Web Vitals (p75 LCP <= 2.5 s, CLS <= 0.1, INP <= 200 ms) of the app's pages in Chromium,
 * measured with Google's `web-vitals` library injected before the app's own scripts. Used by the browser test (which
 * asserts CLS, a layout measure no machine's speed changes) and by bench/web-vitals.ts (which prints the times too).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium, newAppPage, openAppContext, serveApp, type ServedApp } from "./session";

export const THRESHOLDS = { lcpMs: 2500, cls: 0.1, inpMs: 200 };

export interface PageVitals {
  path: string;
  loads: number;
  p75: { lcpMs: number; cls: number; inpMs: number | null };
  /** p75 LCP over the floor's p75 LCP (a minimal page in the same browser, same run). */
  lcpOverFloor: number;
  withinThresholds: boolean;
}

export interface WebVitalsReport {
  products: number;
  imagesPerProduct: number;
  floorLcpMs: number;
  pages: PageVitals[];
}

/** A page to measure: where it is, when it is ready, and the interaction INP is measured on. */
export interface PageSpec {
  path: string;
  ready: (page: Page) => Promise<unknown>;
  interact?: (page: Page) => Promise<void>;
}

const PAGES: PageSpec[] = [
  {
    path: "/app",
    ready: (page) => page.getByTestId("image-cell").first().waitFor({ timeout: 60_000 }),
    // INP: a merchant ticking one image.
    interact: async (page) => {
      await page.getByTestId("image-cell").first().getByRole("checkbox").first().click();
    },
  },
  { path: "/app/batches", ready: (page) => page.getByRole("heading", { name: "Batches", exact: true }).waitFor({ timeout: 60_000 }) },
  { path: "/app/credits", ready: (page) => page.getByText("Available", { exact: true }).first().waitFor({ timeout: 60_000 }) },
  { path: "/app/settings", ready: (page) => page.getByLabel("Background colour").waitFor({ timeout: 60_000 }) },
];

const require = createRequire(import.meta.url);
// The library's browser build (a global `webVitals`), beside the CommonJS entry its package exports.
const WEB_VITALS_IIFE = readFileSync(path.join(path.dirname(require.resolve("web-vitals")), "web-vitals.iife.js"), "utf8");
const COLLECT = `
  window.__vitals = { lcp: null, cls: 0, inp: null };
  webVitals.onLCP((m) => { window.__vitals.lcp = m.value; }, { reportAllChanges: true });
  webVitals.onCLS((m) => { window.__vitals.cls = m.value; }, { reportAllChanges: true });
  webVitals.onINP((m) => { window.__vitals.inp = m.value; }, { reportAllChanges: true });
`;

interface OneLoad {
  lcp: number | null;
  cls: number;
  inp: number | null;
}

async function loadOnce(context: BrowserContext, app: ServedApp, spec: PageSpec | null): Promise<OneLoad> {
  const page = spec ? await newAppPage(context, app) : await context.newPage();
  try {
    await page.addInitScript({ content: `${WEB_VITALS_IIFE}\n${COLLECT}` });
    if (spec) {
      await page.goto(app.adminUrl(spec.path));
      await spec.ready(page);
      await page.waitForLoadState("networkidle");
      // Late images and fonts: shifts after the content shows count too.
      await page.waitForTimeout(1_000);
      if (spec.interact) {
        await spec.interact(page);
        await page.waitForTimeout(500);
      }
    } else {
      await page.goto("http://vitals-floor.test/");
      await page.waitForTimeout(500);
    }
    // Hiding the page makes the library report its final LCP and CLS.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    return await page.evaluate(() => (window as unknown as { __vitals: OneLoad }).__vitals);
  } finally {
    await page.close();
  }
}

function p75(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.75 * sorted.length) - 1)] ?? 0;
}

/** p75 LCP, CLS and INP of one page over `loads` loads, in a context already open on the served app. */
export async function measurePage(context: BrowserContext, app: ServedApp, spec: PageSpec, loads: number): Promise<PageVitals["p75"]> {
  const runs: OneLoad[] = [];
  for (let i = 0; i < loads; i++) runs.push(await loadOnce(context, app, spec));
  const inps = runs.map((r) => r.inp).filter((v): v is number => v !== null);
  return {
    lcpMs: Math.round(p75(runs.map((r) => r.lcp ?? Number.POSITIVE_INFINITY))),
    cls: Number(p75(runs.map((r) => r.cls)).toFixed(3)),
    inpMs: inps.length ? Math.round(p75(inps)) : null,
  };
}

export async function measureWebVitals(opts: {
  products: number;
  imagesPerProduct: number;
  loads: number;
  app?: ServedApp;
}): Promise<WebVitalsReport> {
  const app =
    opts.app ??
    (await serveApp({
      E2E_PRODUCTS: String(opts.products),
      E2E_IMAGES_PER_PRODUCT: String(opts.imagesPerProduct),
      E2E_NO_WORKER: "1",
      // A 200-image page costs most of the Admin API bucket; loads seconds apart would otherwise measure the app's
      // "Shopify is busy" answer instead of the page (a Plus store's 1,000 points a second refills it at once).
      E2E_RESTORE_RATE: "1000",
    }));
  const browser = await launchChromium();
  try {
    const context = await openAppContext(browser, app);
    await context.route("http://vitals-floor.test/**", (route) =>
      route.fulfill({
        status: 200,
        contentType: "text/html",
        body: "<!doctype html><html><body><h1>Images</h1><p>Floor page.</p></body></html>",
      }),
    );
    // The first open installs the app (token exchange, welcome credits); every measured load is a returning merchant's.
    const first = await newAppPage(context, app);
    await first.goto(app.openUrl);
    await PAGES[0]!.ready(first);
    await first.close();

    const floor: number[] = [];
    for (let i = 0; i < opts.loads; i++) floor.push((await loadOnce(context, app, null)).lcp ?? 0);
    const floorLcpMs = p75(floor);
    const pages: PageVitals[] = [];
    for (const spec of PAGES) {
      const result = await measurePage(context, app, spec, opts.loads);
      pages.push({
        path: spec.path,
        loads: opts.loads,
        p75: result,
        lcpOverFloor: Number((result.lcpMs / Math.max(floorLcpMs, 1)).toFixed(1)),
        withinThresholds: result.lcpMs <= THRESHOLDS.lcpMs && result.cls <= THRESHOLDS.cls && (result.inpMs ?? 0) <= THRESHOLDS.inpMs,
      });
    }
    return { products: opts.products, imagesPerProduct: opts.imagesPerProduct, floorLcpMs: Math.round(floorLcpMs), pages };
  } finally {
    await browser.close();
    if (!opts.app) await app.stop();
  }
}
