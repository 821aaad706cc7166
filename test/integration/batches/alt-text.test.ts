/**
 * Issue 18, alt text: each processed image gets a suggestion from Qwen-VL (the DashScope stand-in's chat completions
 * endpoint) in the shop's primary language; it is written with the image only where the merchant had none, theirs is
 * replaced only when they save one, and restoring puts the original alt text back with the original image.
 */
import { describe, expect, it } from "vitest";
import { saveAltText } from "~/models/alt-text.server";
import { BatchInputError, BatchNotFoundError, createBatch, restoreItem } from "~/models/batches.server";
import { replaceMediaImage } from "~/models/catalog.server";
import { harnessForFile, mediaById, offlineAdmin } from "./harness";

const h = harnessForFile({ worker: { concurrency: 2 } });

async function processAll(shop: string) {
  const graphql = await offlineAdmin(shop);
  const before = mediaById(h.shopify, shop);
  const { batchId } = await createBatch({ db: h.db, graphql, queue: h.queue }, shop, { mediaIds: [...before.keys()], pipeline: "amazon" });
  const progress = await h.waitForBatch(shop, batchId);
  expect(progress.items.map((i) => i.state)).toEqual(progress.items.map(() => "PUBLISHED"));
  return { graphql, before, items: await h.db.batchItem.findMany({ where: { shop, batchId }, orderBy: { position: "asc" } }) };
}

describe("alt text of processed images", () => {
  it("fills an empty alt with the image, keeps the merchant's until they save one, and restores both", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 2, credits: 6 });
    const [emptyId, ownId] = [...mediaById(h.shopify, shop).keys()];
    await replaceMediaImage(await offlineAdmin(shop), { mediaId: emptyId!, alt: "" });
    const ownAlt = mediaById(h.shopify, shop).get(ownId!)!.alt!;
    expect(ownAlt).not.toBe("");
    const visionBefore = h.dashscope.visionRequests().length;

    const { graphql, items } = await processAll(shop);
    const [emptyItem, ownItem] = [items.find((i) => i.mediaId === emptyId)!, items.find((i) => i.mediaId === ownId)!];
    const title = emptyItem.productTitle;
    // The model saw the processed image and was asked in the shop's language about this product.
    const asked = h.dashscope.visionRequests().slice(visionBefore);
    expect(asked).toHaveLength(2);
    for (const request of asked) {
      expect(request.prompt).toContain("in English");
      expect(request.prompt).toContain(`"${title}"`);
      expect(request.imageBytes).toBeGreaterThan(1_000);
    }
    expect(emptyItem.suggestedAlt).toMatch(new RegExp(`^${title} in \\w+ on a white background$`));

    const after = mediaById(h.shopify, shop);
    expect(after.get(emptyId!)!.alt).toBe(emptyItem.suggestedAlt);
    expect(emptyItem.writtenAlt).toBe(emptyItem.suggestedAlt);
    expect(after.get(ownId!)!.alt).toBe(ownAlt);
    expect(ownItem).toMatchObject({ writtenAlt: null, suggestedAlt: expect.stringContaining(title) });

    // The merchant asks for new alt text on their image; control characters and runs of spaces are cleaned.
    await saveAltText({ db: h.db, graphql }, shop, ownItem.id, "  Blue mug,\n\twide handle  ");
    expect(mediaById(h.shopify, shop).get(ownId!)!.alt).toBe("Blue mug, wide handle");

    await restoreItem({ db: h.db, graphql }, shop, emptyItem.id);
    await restoreItem({ db: h.db, graphql }, shop, ownItem.id);
    const restored = mediaById(h.shopify, shop);
    expect(restored.get(emptyId!)!.alt).toBe("");
    expect(restored.get(ownId!)!.alt).toBe(ownAlt);
  });

  it("writes the suggestion in the shop's primary language", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3, primaryLocale: "es" });
    const [mediaId] = [...mediaById(h.shopify, shop).keys()];
    await replaceMediaImage(await offlineAdmin(shop), { mediaId: mediaId!, alt: "" });
    const { items } = await processAll(shop);
    expect(items[0]!.suggestedAlt).toMatch(/ en color \S+ sobre fondo blanco$/);
    expect(mediaById(h.shopify, shop).get(mediaId!)!.alt).toBe(items[0]!.suggestedAlt);
  });

  it("writes English alt text, and still publishes the image, for a shop that has not granted read_locales", async () => {
    // Shopify answers shopLocales with ACCESS_DENIED without the scope; the shop's language is then unknown.
    const shop = await h.addShop({
      products: 1,
      imagesPerProduct: 1,
      credits: 3,
      primaryLocale: "es",
      grantedScopes: "read_products,write_products,write_files",
    });
    const [mediaId] = [...mediaById(h.shopify, shop).keys()];
    await replaceMediaImage(await offlineAdmin(shop), { mediaId: mediaId!, alt: "" });
    const visionBefore = h.dashscope.visionRequests().length;
    const { items } = await processAll(shop);
    expect(
      h.dashscope
        .visionRequests()
        .slice(visionBefore)
        .map((r) => r.prompt),
    ).toEqual([expect.stringContaining("in English")]);
    expect(items[0]!.suggestedAlt).toMatch(/ in \w+ on a white background$/);
    expect(mediaById(h.shopify, shop).get(mediaId!)!.alt).toBe(items[0]!.suggestedAlt);
  });

  it("refuses empty or over-long alt text and another shop's image, changing nothing", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3 });
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 0 });
    const { graphql, items } = await processAll(shop);
    const altBefore = mediaById(h.shopify, shop).get(items[0]!.mediaId)!.alt;

    await expect(saveAltText({ db: h.db, graphql }, shop, items[0]!.id, " \n ")).rejects.toThrow(
      new BatchInputError("Enter the alt text, or leave the image's own.", 422),
    );
    await expect(saveAltText({ db: h.db, graphql }, shop, items[0]!.id, "a".repeat(513))).rejects.toThrow(/at most 512 characters/);
    await expect(saveAltText({ db: h.db, graphql: await offlineAdmin(other) }, other, items[0]!.id, "Mine now")).rejects.toBeInstanceOf(
      BatchNotFoundError,
    );
    expect(mediaById(h.shopify, shop).get(items[0]!.mediaId)!.alt).toBe(altBefore);
  });
});
