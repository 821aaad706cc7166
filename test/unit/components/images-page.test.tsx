// @vitest-environment happy-dom
/**
 * The Images page as the merchant sees it, rendered through Remix's own router (createRemixStub) with the loader's
 * data stubbed: the grid's images grouped by product, the selection count and the price line as images are ticked.
 */
import { act } from "react";
import { describe, expect, it } from "vitest";
import { i18nFor, type Locale } from "~/i18n/locales";
import ImagesPage from "~/routes/app._index/route";
import type { ImagesPageData } from "~/routes/app._index/view-model.server";
import { renderPage, setUpPageTests, textOf } from "./render-page";

// App Bridge's global, which admin injects into the embedded app; the page reads it on render (the picker is not used here).
setUpPageTests();

const image = (product: number, position: number, status: "original" | "processed" = "original") => ({
  mediaId: `gid://shopify/MediaImage/${product}${position}`,
  productId: `gid://shopify/Product/${product}`,
  productTitle: product === 1 ? "Linen shirt" : "Canvas tote",
  url: `https://cdn.shopify.test/p${product}-${position}.jpg`,
  alt: null,
  position,
  status,
  pipeline: status === "processed" ? "amazon" : null,
});

function pageData(overrides: Partial<ImagesPageData> = {}): ImagesPageData {
  return {
    filters: { q: "", status: "all", productIds: [] },
    balance: { available: 40 },
    creditsPerImage: 5,
    defaultPipeline: "amazon",
    pipelines: [
      { id: "amazon", label: "Amazon", summary: "", rules: [] },
      { id: "ebay", label: "eBay", summary: "", rules: [] },
    ],
    images: [image(1, 1), image(1, 2, "processed"), image(2, 1)],
    pageInfo: { hasNextPage: false, endCursor: null },
    storeHasImages: true,
    loadError: null,
    ...overrides,
  };
}

const renderAt = (data: ImagesPageData, locale?: Locale) =>
  renderPage({ id: "routes/app._index", path: "/app", Component: ImagesPage }, data, locale);

async function tick(page: HTMLElement, mediaId: string) {
  const box = page.querySelector<HTMLInputElement>(`[data-media-id="${mediaId}"] input[type="checkbox"]`);
  if (!box) throw new Error(`no checkbox for ${mediaId}`);
  await act(async () => box.click());
}

describe("the Images page", () => {
  it("shows each product's images and prices the selection at the loader's price as images are ticked", async () => {
    const page = await renderAt(pageData());
    const cells = [...page.querySelectorAll('[data-testid="image-cell"]')].map((cell) => cell.getAttribute("data-media-id"));
    expect(cells).toEqual(["gid://shopify/MediaImage/11", "gid://shopify/MediaImage/12", "gid://shopify/MediaImage/21"]);
    expect(textOf(page)).toContain("Linen shirt");
    expect(textOf(page)).toContain("Canvas tote");
    expect(textOf(page)).toContain("0 selected");
    expect(textOf(page)).toContain("0 images x 5 credits = 0 credits; balance 40");
    expect(textOf(page)).toContain("Select at least one image.");

    await tick(page, "gid://shopify/MediaImage/11");
    await tick(page, "gid://shopify/MediaImage/21");
    expect(textOf(page)).toContain("2 selected");
    expect(textOf(page)).toContain("2 images x 5 credits = 10 credits; balance 40");
    expect(textOf(page)).toContain("Process 2 images");
    expect(textOf(page)).not.toContain("Select at least one image.");
  });

  it("selects every image on the page at once, and blocks a selection the balance cannot pay for", async () => {
    const page = await renderAt(pageData({ balance: { available: 12 } }));
    const selectAll = [...page.querySelectorAll("button")].find((b) => b.textContent === "Select all 3 on this page");
    await act(async () => selectAll!.click());
    expect(textOf(page)).toContain("3 selected");
    expect(textOf(page)).toContain("You need 3 more credits: this costs 15 and your balance is 12.");
  });

  it("speaks the merchant's language", async () => {
    const page = await renderAt(pageData(), "es");
    expect(textOf(page)).toContain("0 seleccionadas");
    expect(textOf(page)).toMatch(/0 imágenes x 5 créditos/);
  });

  it("tells a store without product images how to add one instead of showing an empty grid", async () => {
    const page = await renderAt(pageData({ images: [], storeHasImages: false }));
    expect(page.querySelector('[data-testid="image-cell"]')).toBeNull();
    expect(textOf(page)).toContain(i18nFor("en").t("images.emptyStoreHeading"));
  });
});
