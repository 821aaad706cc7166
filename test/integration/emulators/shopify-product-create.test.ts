// The Shopify stand-in's productCreate with media, and stocking a shop through it the way a store gets its photos.
import { createHash } from "node:crypto";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { seedProductPhotos } from "../../../emulators/shopify-admin/seed-products";
import { shopifyStandInForFile } from "../batches/shop-setup";
import { uniqueShopDomain } from "../../factories";

const emulator = shopifyStandInForFile({ apiKey: "k", apiSecret: "s", fileReadyDelayMs: 200 });

function newShop(): { shop: string; accessToken: string } {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, { products: 0 });
  return { shop, accessToken: emulator.grantAccessToken(shop) };
}

async function adminGraphql(target: { shop: string; accessToken: string }, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${emulator.url}/admin/api/2026-07/graphql.json`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-emulated-shop": target.shop, "x-shopify-access-token": target.accessToken },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as {
    data?: Record<
      string,
      {
        product: { id: string; media: { nodes: Array<{ id: string; status: string }> } } | null;
        userErrors: Array<{ field: string[]; message: string }>;
      }
    >;
    errors?: unknown[];
  };
}

const PRODUCT_CREATE = `mutation Create($product: ProductCreateInput!, $media: [CreateMediaInput!]) {
  productCreate(product: $product, media: $media) {
    product { id media(first: 5) { nodes { id status } } }
    userErrors { field message }
  }
}`;

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("Shopify stand-in: productCreate with media", () => {
  it("stocks a shop through staged uploads: each photo becomes a product whose media is READY and serves the uploaded bytes", async () => {
    const target = newShop();
    const photos = await Promise.all(
      ["#c0392b", "#2471a3"].map(async (colour, i) => ({
        title: `Mug ${i + 1}`,
        bytes: await sharp({ create: { width: 640, height: 480, channels: 3, background: colour } })
          .jpeg()
          .toBuffer(),
        filename: `mug-${i + 1}.jpg`,
        mimeType: "image/jpeg",
      })),
    );
    const seeded = await seedProductPhotos({ url: emulator.url, ...target }, photos);

    const products = emulator.products(target.shop);
    expect(products.map((p) => [p.id, p.title])).toEqual(seeded.map((s) => [s.productId, s.title]));
    for (const [i, product] of products.entries()) {
      expect(product.media).toHaveLength(1);
      expect(product.media[0]).toMatchObject({
        id: seeded[i]!.mediaId,
        position: 1,
        status: "READY",
        mimeType: "image/jpeg",
        width: 640,
        height: 480,
        alt: `Mug ${i + 1}`,
      });
      const served = Buffer.from(await (await fetch(product.media[0]!.url)).arrayBuffer());
      expect(sha256(served)).toBe(sha256(photos[i]!.bytes));
    }
    // Product media are not files the app created.
    expect(emulator.files(target.shop)).toEqual([]);
  });

  it("answers with the media still processing, as Shopify does", async () => {
    const target = newShop();
    const png = await sharp({ create: { width: 400, height: 400, channels: 3, background: "#1e8449" } })
      .png()
      .toBuffer();
    // A source the stand-in can fetch: another shop's CDN URL works like any public image URL.
    const other = newShop();
    const [source] = await seedProductPhotos({ url: emulator.url, ...other }, [
      { title: "Source", bytes: png, filename: "source.png", mimeType: "image/png" },
    ]);
    const sourceUrl = emulator.products(other.shop)[0]!.media.find((m) => m.id === source!.mediaId)!.url;

    const body = await adminGraphql(target, PRODUCT_CREATE, {
      product: { title: "Plant" },
      media: [{ originalSource: sourceUrl, mediaContentType: "IMAGE", alt: "A plant" }],
    });
    const created = body.data!.productCreate!;
    expect(created.userErrors).toEqual([]);
    expect(created.product!.media.nodes).toHaveLength(1);
    expect(["UPLOADED", "PROCESSING"]).toContain(created.product!.media.nodes[0]!.status);
  });

  it("refuses a product without a title, and media that is not an image or has no URL", async () => {
    const target = newShop();
    const untitled = await adminGraphql(target, PRODUCT_CREATE, { product: { title: " " } });
    expect(untitled.data!.productCreate).toMatchObject({
      product: null,
      userErrors: [{ field: ["product", "title"], message: "Title can't be blank" }],
    });
    const badMedia = await adminGraphql(target, PRODUCT_CREATE, {
      product: { title: "Lamp" },
      media: [
        { originalSource: "not a url", mediaContentType: "IMAGE" },
        { originalSource: "https://example.test/lamp.mp4", mediaContentType: "VIDEO" },
      ],
    });
    expect(badMedia.data!.productCreate!.userErrors.map((e) => e.field)).toEqual([
      ["media", "0", "originalSource"],
      ["media", "1", "mediaContentType"],
    ]);
    // The product is made; the refused media are not added to it.
    expect(emulator.products(target.shop).map((p) => [p.title, p.media.length])).toEqual([["Lamp", 0]]);
    expect(badMedia.data!.productCreate!.product!.media.nodes).toEqual([]);
  });
});
