import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchInputError, cancelShopWork, createBatch, getBatchProgress, imageStatuses, listBatches } from "~/models/batches.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import type { ImageQueue } from "~/queue/queue.server";
import type { ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { installShop, offlineAdmin, startBatchTestEnv, type BatchTestEnv } from "./shop-setup";
import { uniqueShopDomain } from "../../factories";

let shopify: ShopifyEmulator;
let db: PrismaClient;
let queue: ImageQueue;
let env: BatchTestEnv | undefined;

beforeAll(async () => {
  env = await startBatchTestEnv();
  ({ shopify, db, queue } = env);
});

afterAll(async () => {
  await env?.close();
});

async function newShop(products: number, imagesPerProduct: number, credits: number): Promise<{ shop: string; graphql: AdminGraphql }> {
  const shop = uniqueShopDomain();
  shopify.addShop(shop, { products, imagesPerProduct });
  await installShop(db, shopify, shop);
  if (credits) await grantCredits(db, shop, credits, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
  return { shop, graphql: await offlineAdmin(shop) };
}

function mediaIdsOf(shop: string): string[] {
  return shopify.products(shop).flatMap((p) => p.media.map((m) => m.id));
}

describe("createBatch", () => {
  it("creates one item per selected image with the product's data from Shopify, reserves 3 credits each and enqueues one job per item", async () => {
    const { shop, graphql } = await newShop(4, 2, 30);
    const selected = mediaIdsOf(shop).slice(0, 5);
    const result = await createBatch({ db, graphql, queue }, shop, { mediaIds: selected, pipeline: "amazon" });
    expect(result).toMatchObject({ queued: 5, skipped: [], creditsReserved: 15 });
    expect(await getBalance(db, shop)).toMatchObject({ available: 15, reserved: 15 });

    const progress = await getBatchProgress(db, shop, result.batchId);
    expect(progress?.items.map((i) => i.mediaId).sort()).toEqual([...selected].sort());
    const products = shopify.products(shop);
    for (const item of progress!.items) {
      const product = products.find((p) => p.id === item.productId)!;
      const media = product.media.find((m) => m.id === item.mediaId)!;
      expect(item).toMatchObject({ productTitle: product.title, position: media.position, alt: media.alt, state: "QUEUED" });
    }
    const jobs = await Promise.all(progress!.items.map((i) => queue.getJob(i.id)));
    expect(jobs.every((job) => job?.data.shop === shop)).toBe(true);
  });

  it("selects every image of the products the admin action sends", async () => {
    const { shop, graphql } = await newShop(3, 3, 100);
    const [first, second] = shopify.products(shop);
    const result = await createBatch({ db, graphql, queue }, shop, { productIds: [first!.id, second!.id], pipeline: "ebay" });
    expect(result.queued).toBe(first!.media.length + second!.media.length);
  });

  it("refuses a batch when credits are short, saying how many are needed, and reserves nothing", async () => {
    const { shop, graphql } = await newShop(4, 2, 10);
    const error = await createBatch({ db, graphql, queue }, shop, { mediaIds: mediaIdsOf(shop).slice(0, 4), pipeline: "amazon" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BatchInputError);
    expect((error as BatchInputError).httpStatus).toBe(422);
    expect((error as BatchInputError).message).toMatch(/12 credits/);
    expect((error as BatchInputError).message).toMatch(/Credits page/);
    expect(await getBalance(db, shop)).toMatchObject({ available: 10, reserved: 0 });
    expect(await db.batch.count({ where: { shop } })).toBe(0);
  });

  it("does not queue an image twice while it is in an unfinished batch", async () => {
    const { shop, graphql } = await newShop(2, 2, 100);
    const ids = mediaIdsOf(shop);
    await createBatch({ db, graphql, queue }, shop, { mediaIds: ids.slice(0, 2), pipeline: "amazon" });
    const second = await createBatch({ db, graphql, queue }, shop, { mediaIds: ids, pipeline: "amazon" });
    expect(second.queued).toBe(ids.length - 2);
    expect(second.skipped.map((s) => s.mediaId).sort()).toEqual(ids.slice(0, 2).sort());
    const third = await createBatch({ db, graphql, queue }, shop, { mediaIds: ids.slice(0, 1), pipeline: "ebay" }).catch((e: unknown) => e);
    expect((third as BatchInputError).httpStatus).toBe(409);
    expect(await getBalance(db, shop)).toMatchObject({ reserved: ids.length * 3 });
  });

  it("queues an image once when two requests race for it", async () => {
    const { shop, graphql } = await newShop(2, 3, 100);
    const ids = mediaIdsOf(shop);
    const results = await Promise.allSettled([
      createBatch({ db, graphql, queue }, shop, { mediaIds: ids, pipeline: "amazon" }),
      createBatch({ db, graphql, queue }, shop, { mediaIds: ids, pipeline: "amazon" }),
    ]);
    const queued = results.reduce((sum, r) => sum + (r.status === "fulfilled" ? r.value.queued : 0), 0);
    expect(queued).toBe(ids.length);
    expect(await db.batchItem.count({ where: { shop } })).toBe(ids.length);
    expect(await getBalance(db, shop)).toMatchObject({ reserved: ids.length * 3, available: 100 - ids.length * 3 });
  });

  it("refuses an unknown pipeline, an empty selection, and more images than the limit", async () => {
    const { shop, graphql } = await newShop(1, 1, 10);
    await expect(createBatch({ db, graphql, queue }, shop, { mediaIds: mediaIdsOf(shop), pipeline: "pinterest" })).rejects.toMatchObject({
      httpStatus: 400,
    });
    await expect(createBatch({ db, graphql, queue }, shop, { mediaIds: [], pipeline: "amazon" })).rejects.toMatchObject({
      httpStatus: 400,
    });
    const tooMany = Array.from({ length: 501 }, (_, i) => `gid://shopify/MediaImage/${i + 1}`);
    await expect(createBatch({ db, graphql, queue }, shop, { mediaIds: tooMany, pipeline: "amazon" })).rejects.toMatchObject({
      httpStatus: 422,
    });
  });

  it("skips media that are not in the store instead of trusting the client", async () => {
    const { shop, graphql } = await newShop(2, 1, 30);
    const result = await createBatch({ db, graphql, queue }, shop, {
      mediaIds: [...mediaIdsOf(shop), "gid://shopify/MediaImage/999999999"],
      pipeline: "amazon",
    });
    expect(result.queued).toBe(2);
    expect(result.skipped).toEqual([{ mediaId: "gid://shopify/MediaImage/999999999", reason: expect.stringMatching(/no longer/) }]);
  });

  it("shows another shop's batch to nobody but its shop", async () => {
    const a = await newShop(1, 2, 30);
    const b = await newShop(1, 1, 30);
    const { batchId } = await createBatch({ db, graphql: a.graphql, queue }, a.shop, { mediaIds: mediaIdsOf(a.shop), pipeline: "amazon" });
    expect(await getBatchProgress(db, b.shop, batchId)).toBeNull();
    expect((await listBatches(db, b.shop, {})).batches).toEqual([]);
    expect((await listBatches(db, a.shop, {})).batches[0]).toMatchObject({ id: batchId, total: 2, published: 0 });
    const statuses = await imageStatuses(db, a.shop, mediaIdsOf(a.shop));
    expect([...statuses.values()].every((s) => s.state === "QUEUED" && s.batchId === batchId)).toBe(true);
    expect((await imageStatuses(db, b.shop, mediaIdsOf(a.shop))).size).toBe(0);
  });

  it("cancels a shop's unfinished work on uninstall and gives every reserved credit back", async () => {
    const { shop, graphql } = await newShop(2, 2, 30);
    const { batchId } = await createBatch({ db, graphql, queue }, shop, { mediaIds: mediaIdsOf(shop), pipeline: "amazon" });
    expect(await cancelShopWork({ db, queue }, shop)).toEqual({ cancelled: 4 });
    expect(await getBalance(db, shop)).toMatchObject({ available: 30, reserved: 0 });
    const progress = await getBatchProgress(db, shop, batchId);
    expect(progress?.counts.CANCELLED).toBe(4);
    expect(await Promise.all(progress!.items.map((i) => queue.getJob(i.id)))).toEqual([undefined, undefined, undefined, undefined]);
  });
});
