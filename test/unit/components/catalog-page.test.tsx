// @vitest-environment happy-dom
/**
 * The Whole-catalogue page as the merchant sees it, rendered through Remix's own router (createRemixStub) with the
 * loader's data stubbed: each run's state, what a counted run would cost and clean, and a running run's counts.
 */
import { describe, expect, it } from "vitest";
import { type Locale } from "~/i18n/locales";
import type { CatalogRunView } from "~/models/catalog-runs.server";
import CatalogPage from "~/routes/app.catalog/route";
import type { CatalogPageData } from "~/routes/app.catalog/view-model.server";
import { renderPage, setUpPageTests, textOf } from "./render-page";

// App Bridge's global, which admin injects into the embedded app; the page shows a toast when a run starts.
setUpPageTests({ toast: { show: () => undefined } });

const run = (overrides: Partial<CatalogRunView>): CatalogRunView => ({
  id: "00000000-0000-4000-8000-000000000001",
  status: "READY",
  filter: { kind: "all", value: null, label: null, onlyUnprocessed: true },
  pipeline: "amazon",
  budget: null,
  reason: null,
  reasonMessage: null,
  batchId: null,
  createdAt: new Date("2026-11-20T10:00:00.000Z"),
  total: 0,
  cost: 0,
  added: 0,
  waiting: 0,
  done: 0,
  published: 0,
  needsReview: 0,
  failed: 0,
  skipped: 0,
  creditsUsed: 0,
  creditsHeld: 0,
  etaSeconds: null,
  ...overrides,
});

const readyRun = run({ total: 40, cost: 200 });
const runningRun = run({
  id: "00000000-0000-4000-8000-000000000002",
  status: "RUNNING",
  filter: { kind: "tag", value: "summer", label: null, onlyUnprocessed: false },
  batchId: "batch-7",
  total: 120,
  cost: 600,
  added: 60,
  done: 45,
  published: 40,
  needsReview: 3,
  failed: 2,
  creditsUsed: 215,
  creditsHeld: 25,
});

function pageData(runs: CatalogRunView[]): CatalogPageData {
  return {
    runs,
    available: 150,
    creditsPerImage: 5,
    pipelines: [
      { id: "amazon", label: "Amazon" },
      { id: "ebay", label: "eBay" },
    ],
    maxBudget: 100_000,
  };
}

const renderAt = (data: CatalogPageData, locale?: Locale) =>
  renderPage({ id: "routes/app.catalog", path: "/app/catalog", Component: CatalogPage }, data, locale);

describe("the Whole-catalogue page", () => {
  it("shows a counted run waiting for the merchant with its cost and how many images the balance cleans", async () => {
    const page = await renderAt(pageData([readyRun]));
    const text = textOf(page);
    expect(text).toContain("All products, only images not processed yet");
    expect(text).toContain("Waiting for you");
    expect(text).toContain("40 images match, costing 200 credits (5 each). You have 150 credits: 30 images can be cleaned now.");
    expect(text).toContain("The run pauses there and tells you.");
    expect([...page.querySelectorAll("button")].map((b) => b.textContent)).toContain("Clean 40 images");
  });

  it("shows a running run's counts and a link to its batch", async () => {
    const page = await renderAt(pageData([runningRun]));
    const text = textOf(page);
    expect(text).toContain("Tag: summer");
    expect(text).toContain("Running");
    expect(text).toContain("45 of 120 done · 40 published · 3 waiting for review · 2 failed · 215 credits used · 25 held");
    expect(page.querySelector('a[href="/app/batches/batch-7"]')).not.toBeNull();
    expect([...page.querySelectorAll("button")].map((b) => b.textContent)).not.toContain("Clean 120 images");
  });

  it("shows a run Shopify's freeze paused while counting with what to do, in the merchant's language, and no progress yet", async () => {
    const frozen = run({
      status: "PAUSED",
      reason: "Paused: Shopify has frozen this store…",
      reasonMessage: { code: "catalogPausedShopFrozen" },
    });
    const page = await renderAt(pageData([frozen]), "es");
    const text = textOf(page);
    expect(text).toContain(
      "En pausa: Shopify ha congelado esta tienda hasta que se pague la factura pendiente de Shopify, así que no se puede cambiar ninguna imagen y no se cobra nada más. Paga la factura en el panel de Shopify y luego reanuda la ejecución: seguirá donde se detuvo.",
    );
    expect(text).not.toContain("0 de 0");
    expect([...page.querySelectorAll("button")].map((b) => b.textContent)).toContain("Reanudar");
  });

  it("speaks the merchant's language", async () => {
    const page = await renderAt(pageData([runningRun]), "es");
    const text = textOf(page);
    expect(text).toContain("Etiqueta: summer");
    expect(text).toContain("En curso");
    expect(text).toContain("45 de 120 terminadas · 40 publicadas");
  });
});
