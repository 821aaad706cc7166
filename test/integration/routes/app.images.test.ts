import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { grantCredits } from "~/models/credit-ledger.server";
import { closeQueues, getQueue } from "~/queue/queue.server";
import { action, loader } from "~/routes/app._index/route";
import { PRODUCTS_PER_PAGE } from "~/routes/app._index/view-model.server";
import { shopifyStandInForFile } from "../batches/shop-setup";
import { bearerRequest, body, call, formRequest, status } from "./helpers";
import { createOfflineSession, uniqueShopDomain } from "../../factories";

// Each test file gets its own queue; nothing else consumes it.
process.env.QUEUE_NAME = `test-${randomUUID()}`;

const emulator = shopifyStandInForFile();
const shops: string[] = [];

afterAll(async () => {
  // Queued items left in the shared test database would be picked up by another file's sweep.
  await prisma.batch.deleteMany({ where: { shop: { in: shops } } });
  await getQueue().obliterate({ force: true });
  await closeQueues();
});

async function installedShop(opts: { products: number; imagesPerProduct?: number; credits?: number }): Promise<string> {
  const shop = uniqueShopDomain();
  shops.push(shop);
  emulator.addShop(shop, { products: opts.products, imagesPerProduct: opts.imagesPerProduct ?? 2 });
  await createOfflineSession(prisma, shop, { accessToken: emulator.grantAccessToken(shop) });
  if (opts.credits) await grantCredits(prisma, shop, opts.credits, { kind: "GRANT", idempotencyKey: "test-grant" });
  return shop;
}

interface ImagesData {
  images: Array<{ mediaId: string; productId: string; productTitle: string; url: string; status: string; pipeline: string | null }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  balance: { available: number };
  creditsPerImage: number;
  storeHasImages: boolean;
  pipelines: Array<{ id: string; rules: string[] }>;
  loadError: string | null;
}

async function loadImages(shop: string, search = ""): Promise<ImagesData> {
  return body<ImagesData>(await call(loader, await bearerRequest(shop, `/app${search}`)));
}

describe("Images page", () => {
  it("lists every product image with its title, original status and the shop's balance, in one GraphQL call", async () => {
    const shop = await installedShop({ products: 3, imagesPerProduct: 2, credits: 30 });
    const data = await loadImages(shop);
    expect(data.images).toHaveLength(6);
    const titles = new Set(data.images.map((i) => i.productTitle));
    expect(titles).toEqual(new Set(emulator.products(shop).map((p) => p.title)));
    expect(data.images.every((i) => i.status === "original" && i.url.startsWith("http"))).toBe(true);
    expect(data.balance.available).toBe(30);
    expect(data.creditsPerImage).toBe(3);
    expect(data.pipelines.map((p) => p.id)).toEqual(["amazon", "ebay", "instagram"]);
    expect(data.pipelines.every((p) => p.rules.length > 0)).toBe(true);
    const log = emulator.graphqlLog(shop).filter((e) => e.operationName === "CatalogProductImages");
    expect(log).toHaveLength(1);
    expect(log[0]!.requestedCost).toBeLessThanOrEqual(1000);
  });

  it("finds products by a word of their title and ignores search syntax in the box", async () => {
    const shop = await installedShop({ products: 6 });
    const target = emulator.products(shop)[4]!;
    const word = target.title.split(" ")[0]!;
    const data = await loadImages(shop, `?q=${encodeURIComponent(`${word.toLowerCase()} (`)}`);
    expect(data.images.length).toBeGreaterThan(0);
    expect(data.images.every((i) => i.productTitle.toLowerCase().includes(word.toLowerCase()))).toBe(true);
    const none = await loadImages(shop, `?q=${encodeURIComponent("title:* OR zzzz-nothing")}`);
    expect(none.images).toHaveLength(0);
    expect(none.storeHasImages).toBe(true);
  });

  it("pages through products with a cursor", async () => {
    const shop = await installedShop({ products: PRODUCTS_PER_PAGE + 3, imagesPerProduct: 1 });
    const first = await loadImages(shop);
    expect(first.images).toHaveLength(PRODUCTS_PER_PAGE);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await loadImages(shop, `?after=${encodeURIComponent(first.pageInfo.endCursor!)}`);
    expect(second.images).toHaveLength(3);
    const overlap = second.images.filter((i) => first.images.some((f) => f.mediaId === i.mediaId));
    expect(overlap).toHaveLength(0);
  });

  it("tells an empty store it has no images", async () => {
    const shop = await installedShop({ products: 0 });
    const data = await loadImages(shop);
    expect(data.images).toHaveLength(0);
    expect(data.storeHasImages).toBe(false);
  });

  it("starts a batch for the selected images, reserves 3 credits each and shows them as processing", async () => {
    const shop = await installedShop({ products: 2, imagesPerProduct: 3, credits: 30 });
    const before = await loadImages(shop);
    const chosen = before.images.slice(0, 4).map((i) => i.mediaId);
    const result = await call(action, await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify(chosen) }));
    expect(result).toBeInstanceOf(Response);
    const response = result as Response;
    expect(response.status).toBe(302);
    const location = response.headers.get("location")!;
    expect(location).toMatch(/\/app\/batches\/[0-9a-f-]{36}/);
    const batchId = /batches\/([0-9a-f-]{36})/.exec(location)![1]!;
    const batch = await prisma.batch.findFirstOrThrow({ where: { id: batchId, shop }, include: { items: true } });
    expect(batch.items.map((i) => i.mediaId).sort()).toEqual([...chosen].sort());
    const after = await loadImages(shop, "?status=processing");
    expect(after.images.map((i) => i.mediaId).sort()).toEqual([...chosen].sort());
    expect(after.balance.available).toBe(30 - 12);
  });

  it("starts a batch from 20 images spread over a 1,000-product store in a few Admin calls, from the products the page names", async () => {
    const shop = await installedShop({ products: 1_000, imagesPerProduct: 1, credits: 60 });
    const products = emulator.products(shop).filter((_, index) => index % 50 === 7);
    const chosen = products.map((p) => p.media[0]!.id);
    const before = emulator.graphqlLog(shop).length;
    const result = await call(
      action,
      await formRequest(shop, "/app?index", {
        pipeline: "amazon",
        mediaIds: JSON.stringify(chosen),
        productIds: JSON.stringify(products.map((p) => p.id)),
      }),
    );
    expect(status(result)).toBe(302);
    // The 20 products' media ids in one read, then the 20 images in one, within one bucket of points.
    const calls = emulator.graphqlLog(shop).slice(before);
    expect(calls.map((c) => c.operationName)).toEqual(["CatalogProductMediaIds", "CatalogMediaById"]);
    expect(calls.every((c) => !c.throttled)).toBe(true);
    const batch = await prisma.batch.findFirstOrThrow({ where: { shop }, include: { items: true } });
    expect(batch.items.map((i) => [i.mediaId, i.productId]).sort()).toEqual(products.map((p) => [p.media[0]!.id, p.id]).sort());
  });

  it("shows the images to five pages opened at once when the store's API bucket holds one listing", async () => {
    const shop = await installedShop({ products: 3, imagesPerProduct: 1 });
    const before = emulator.graphqlLog(shop).length;
    await loadImages(shop);
    const listingCost = emulator.graphqlLog(shop)[before]!.requestedCost;
    // One listing fits at a time: the other four are throttled together and must each wait their turn.
    emulator.setThrottle(shop, { bucketSize: listingCost, restoreRate: listingCost / 2 });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const pages = await Promise.all(Array.from({ length: 5 }, () => loadImages(shop)));
    expect(pages.map((page) => [page.images.length, page.loadError ?? null])).toEqual(Array.from({ length: 5 }, () => [3, null]));
    expect(emulator.graphqlLog(shop).some((entry) => entry.throttled)).toBe(true);
  });

  it("finds a selected image placed late on a product with many media", async () => {
    const shop = await installedShop({ products: 2, imagesPerProduct: 14, credits: 30 });
    const product = emulator.products(shop)[1]!;
    const last = product.media.at(-1)!;
    const result = await call(
      action,
      await formRequest(shop, "/app?index", {
        pipeline: "amazon",
        mediaIds: JSON.stringify([last.id]),
        productIds: JSON.stringify([product.id]),
      }),
    );
    expect(status(result)).toBe(302);
    const batch = await prisma.batch.findFirstOrThrow({ where: { shop }, include: { items: true } });
    expect(batch.items.map((i) => [i.mediaId, i.productId, i.position])).toEqual([[last.id, product.id, 14]]);
  });

  it("looks for images the request does not place on a product in a few catalogue pages only, and says how to fix it", async () => {
    const shop = await installedShop({ products: 1_000, imagesPerProduct: 1, credits: 30 });
    const first = (await loadImages(shop)).images[0]!;
    const before = emulator.graphqlLog(shop).length;
    const unknown = "gid://shopify/MediaImage/1";
    const result = await call(
      action,
      await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify([first.mediaId, unknown]) }),
    );
    expect(status(result)).toBe(302);
    const reads = emulator
      .graphqlLog(shop)
      .slice(before)
      .filter((c) => c.operationName === "CatalogProductImages" && !c.throttled);
    expect(reads).toHaveLength(4);
    const batch = await prisma.batch.findFirstOrThrow({ where: { shop }, include: { items: true } });
    expect(batch.items.map((i) => i.mediaId)).toEqual([first.mediaId]);
  });

  it("refuses a batch the balance cannot pay for, with a message that says how to fix it", async () => {
    const shop = await installedShop({ products: 2, imagesPerProduct: 3, credits: 6 });
    const { images } = await loadImages(shop);
    const result = await call(
      action,
      await formRequest(shop, "/app?index", { pipeline: "ebay", mediaIds: JSON.stringify(images.map((i) => i.mediaId)) }),
    );
    expect(status(result)).toBe(422);
    const { error } = await body<{ error: string }>(result);
    expect(error).toMatch(/18 credits/);
    expect(error).toMatch(/Buy a credit pack|select fewer/i);
    expect(await prisma.batch.count({ where: { shop } })).toBe(0);
  });

  it("refuses a selection body over 256 KB with 413 and a message, without reading Shopify", async () => {
    const shop = await installedShop({ products: 1, credits: 30 });
    const before = emulator.graphqlLog(shop).length;
    const huge = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => `gid://shopify/MediaImage/${1_000_000 + i}`));
    const result = await call(action, await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: huge }));
    expect(status(result)).toBe(413);
    expect((await body<{ error: string }>(result)).error).toMatch(/too large.*Select fewer images/);
    expect(emulator.graphqlLog(shop).length).toBe(before);
  });

  it("refuses an unknown pipeline and a tampered selection", async () => {
    const shop = await installedShop({ products: 1, credits: 30 });
    const { images } = await loadImages(shop);
    const bad = await call(
      action,
      await formRequest(shop, "/app?index", { pipeline: "etsy", mediaIds: JSON.stringify([images[0]!.mediaId]) }),
    );
    expect(status(bad)).toBe(400);
    expect((await body<{ error: string }>(bad)).error).toMatch(/Amazon, eBay or Instagram/);
    const tampered = await call(
      action,
      await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: '["https://evil.example/x.png"]' }),
    );
    expect(status(tampered)).toBe(400);
    expect(await prisma.batch.count({ where: { shop } })).toBe(0);
  });

  it("does not process another shop's images", async () => {
    const mine = await installedShop({ products: 1, credits: 30 });
    const theirs = await installedShop({ products: 1, credits: 30 });
    const { images } = await loadImages(theirs);
    const result = await call(
      action,
      await formRequest(mine, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify(images.map((i) => i.mediaId)) }),
    );
    expect(status(result)).not.toBe(302);
    expect(await prisma.batchItem.count({ where: { shop: mine } })).toBe(0);
  });
});
