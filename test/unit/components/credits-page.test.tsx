// @vitest-environment happy-dom
/**
 * The Credits page as the merchant sees it, rendered through Remix's own router (createRemixStub) with the loader's
 * data stubbed: each pack with its price and price per image, and the history with a batch grouped into one line.
 */
import { describe, expect, it } from "vitest";
import { type Locale } from "~/i18n/locales";
import CreditsPage from "~/routes/app.credits/route";
import type { CreditsPageData } from "~/routes/app.credits/view-model.server";
import { renderPage, setUpPageTests, textOf } from "./render-page";

const toasts: string[] = [];
// App Bridge's global, which admin injects into the embedded app; the page shows a toast after a purchase.
setUpPageTests({ toast: { show: (message: string) => toasts.push(message) } });

const pack = (id: string, name: string, credits: number, priceCents: number) => {
  const pricePerImageCents = Math.round((priceCents * 5) / credits);
  return { id, name, credits, price: "", pricePerImage: "", priceCents, pricePerImageCents, currency: "USD" };
};

function pageData(overrides: Partial<CreditsPageData> = {}): CreditsPageData {
  return {
    balance: { available: 35, reserved: 10, total: 45 },
    owed: 0,
    creditsPerImage: 5,
    packs: [pack("starter", "Starter", 100, 900), pack("growth", "Growth", 500, 3900)],
    shopifyBilling: { enabled: true, test: true },
    stripe: { enabled: false, reason: "Stripe is not set up." },
    history: {
      lines: [
        {
          key: "batch:b-1",
          at: "2026-11-20T10:00:00.000Z",
          available: -15,
          held: -10,
          kind: null,
          note: null,
          noteMessage: null,
          batch: { id: "b-1", pipeline: "amazon", images: 5, charged: 15, returned: 5, held: 10 },
        },
        {
          key: "entry:e-1",
          at: "2026-11-19T09:00:00.000Z",
          available: 100,
          held: 0,
          kind: "PURCHASE",
          note: "Starter pack",
          noteMessage: null,
          batch: null,
        },
      ],
      nextCursor: null,
    },
    recentPurchases: [],
    returnedPurchase: null,
    ...overrides,
  };
}

const renderAt = (data: CreditsPageData, locale?: Locale) =>
  renderPage({ id: "routes/app.credits", path: "/app/credits", Component: CreditsPage }, data, locale);

describe("the Credits page", () => {
  it("shows each pack with its price and what it buys, and the balance in images", async () => {
    const page = await renderAt(pageData());
    const text = textOf(page);
    expect(text).toContain("Starter$9.00");
    expect(text).toContain("100 credits — 20 images ($0.45 per image)");
    expect(text).toContain("Growth$39.00");
    expect(text).toContain("500 credits — 100 images ($0.39 per image)");
    expect(text).toContain("Enough for 7 images");
    expect([...page.querySelectorAll("button")].filter((b) => b.textContent === "Buy with Shopify")).toHaveLength(2);
    expect(text).not.toContain("Pay with Stripe");
  });

  it("groups a batch's credits into one history line and shows a ledger entry by its kind", async () => {
    const page = await renderAt(pageData());
    const rows = [...page.querySelectorAll("tbody tr")].map((row) => (row.textContent ?? "").replace(/\s+/g, " "));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain("Batch");
    expect(rows[0]).toContain("5 images · 15 spent · 5 returned · 10 held");
    expect(rows[0]).toContain("-15");
    expect(rows[1]).toContain("Purchase");
    expect(rows[1]).toContain("+100");
    expect(rows[1]).toContain("Starter pack");
  });

  it("speaks the merchant's language", async () => {
    const page = await renderAt(pageData(), "es");
    const text = textOf(page);
    expect(text).toContain("100 créditos — 20 imágenes");
    expect(text).toContain("5 imágenes · 15 gastados · 5 devueltos · 10 retenidos");
    expect(text).toContain("Comprar con Shopify");
  });
});
