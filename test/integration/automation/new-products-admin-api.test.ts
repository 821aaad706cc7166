/**
 * Issue 17, the automatic rule for products made through the Admin API (an import, another app): `productCreate`
 * with media makes the Shopify stand-in send products/create while the photos are still being processed, as Shopify
 * does; the rule's job waits for them and cleans them once Shopify has them ready.
 */
import { describe, expect, it } from "vitest";
import { getBalance } from "~/models/credit-ledger.server";
import { action as productsCreate } from "~/routes/webhooks.products.create";
import { action as productsUpdate } from "~/routes/webhooks.products.update";
import { offlineAdmin } from "../batches/harness";
import { waitFor } from "../wait";
import { automationHarnessForFile, shopWithAutoRule } from "./automation-harness";

const h = automationHarnessForFile({
  routes: { "/webhooks/products/create": productsCreate, "/webhooks/products/update": productsUpdate },
  imageWorker: {},
});

const PRODUCT_CREATE = `#graphql
  mutation TestImportProduct($product: ProductCreateInput!, $media: [CreateMediaInput!]) {
    productCreate(product: $product, media: $media) {
      product { id }
      userErrors { field message }
    }
  }
`;

const shopWithRule = () => shopWithAutoRule(h, { credits: 30, imagesPerProduct: 2 });

/** An import makes a product through the Admin API, its photos given by URL (Shopify downloads and processes them). */
async function importProduct(shop: string, photos: number): Promise<string> {
  const sources = h.shopify
    .products(shop)[0]!
    .media.slice(0, photos)
    .map((m) => m.url);
  // The app never creates products, so the document is the test's own, sent with the client the app uses.
  const admin = await offlineAdmin(shop);
  const response = await admin(PRODUCT_CREATE, {
    variables: {
      product: { title: "Imported linen shirt" },
      media: sources.map((url) => ({ originalSource: url, mediaContentType: "IMAGE", alt: "Linen shirt" })),
    },
  });
  const { data } = (await response.json()) as {
    data: { productCreate: { product: { id: string } | null; userErrors: Array<{ message: string }> } };
  };
  expect(data.productCreate.userErrors).toEqual([]);
  return data.productCreate.product!.id;
}

const productCreateHooks = (shop: string, productId: string) =>
  h.shopify
    .sentWebhooks()
    .filter(
      (w) =>
        w.shop === shop &&
        w.topic === "products/create" &&
        (w.payload as { admin_graphql_api_id: string }).admin_graphql_api_id === productId,
    );

const newProductBatch = (shop: string) =>
  waitFor(
    () => h.db.batch.findFirst({ where: { shop, origin: "NEW_PRODUCTS" }, include: { items: true } }),
    (b) => b !== null && b.status === "DONE",
    "the automatic batch to finish",
    60_000,
  );

describe("automatic rule, products made through the Admin API", () => {
  it("cleans the images of a product made with productCreate", async () => {
    const shop = await shopWithRule();
    const productId = await importProduct(shop, 2);
    await h.shopify.webhooksDelivered();
    expect(productCreateHooks(shop, productId).map((w) => w.status)).toEqual([200]);

    const batch = await newProductBatch(shop);
    const newMedia = h.shopify.products(shop).find((p) => p.id === productId)!.media;
    expect(batch!.items.map((i) => i.mediaId).sort()).toEqual(newMedia.map((m) => m.id).sort());
    expect(batch!.items.map((i) => i.state)).toEqual(["PUBLISHED", "PUBLISHED"]);
    expect(newMedia.every((m) => m.replacements === 1)).toBe(true);
    expect(await getBalance(h.db, shop)).toEqual({ available: 24, reserved: 0, total: 24 });
  });

  it("waits while Shopify is still processing the new photos, then cleans them once they are ready", async () => {
    const shop = await shopWithRule();
    // The photo still shows PROCESSING (no image URL) the first time the rule's job reads it.
    h.shopify.holdNextProductMediaProcessing(shop, 2);
    const productId = await importProduct(shop, 1);

    const batch = await newProductBatch(shop);
    const [media] = h.shopify.products(shop).find((p) => p.id === productId)!.media;
    expect(batch!.items.map((i) => [i.mediaId, i.state])).toEqual([[media!.id, "PUBLISHED"]]);
    expect(media!.replacements).toBe(1);
    // Read once while processing, and again once ready: the job waited instead of giving up on the photo.
    expect(h.shopify.graphqlLog(shop).filter((e) => e.operationName === "CatalogMediaById").length).toBeGreaterThanOrEqual(2);
    expect(await h.db.newProductEvent.findMany({ where: { shop }, select: { doneAt: true } })).toEqual([{ doneAt: expect.any(Date) }]);
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
  });
});
