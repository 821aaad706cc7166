// An original whose frame cuts through the product (a hem leaving the picture), through the whole worker path:
// staged upload into the Shopify stand-in, createBatch, worker, DashScope stand-in editing the real corpus photo,
// then review. The result cannot honestly pass as "not cut off": the item is held with the notice, the product keeps
// its image, and the credits stay reserved like any held item's until the merchant approves or rejects it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveItem, createBatch, getBatchProgress, rejectItem } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { defaultCorpusDir, loadCorpus } from "../../../emulators/dashscope/real-photo-edit";
import { seedProductPhotos, type SeedPhoto } from "../../../emulators/shopify-admin/seed-products";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";
import { waitFor } from "../wait";

// Corpus photos by their masks (test/integration/imaging/real-photos-cutoff.test.ts): a t-shirt whose hem leaves the
// bottom of the frame (its mask runs along 65% of the bottom edge), a jacket cut by the left edge (53%), and a hat
// shown whole (its mask touches no edge).
const CUT_AT_BOTTOM = 117;
const CUT_AT_LEFT = 43;
const WHOLE = 12;
const NOTICE = "The original photo shows only part of the product";
const CREDITS_PER_IMAGE = 3;

let h: Harness;
let photos: Map<number, SeedPhoto>;

beforeAll(async () => {
  const dir = defaultCorpusDir();
  h = await startHarness({ dashscope: { realPhotos: dir } });
  h.startInProcessWorker({ concurrency: 2 });
  const corpus = await loadCorpus(dir);
  photos = new Map();
  for (const index of [CUT_AT_BOTTOM, CUT_AT_LEFT, WHOLE]) {
    const entry = corpus.entries[index]!;
    photos.set(index, {
      title: `${entry.category} ${index}`,
      bytes: await readFile(join(dir, entry.photo)),
      filename: `${entry.id}.jpg`,
      mimeType: "image/jpeg",
    });
  }
});

afterAll(async () => {
  await h?.close();
});

describe("an original that shows only part of the product", () => {
  it("is held for review with the notice, credits reserved; approve publishes it, reject gives the credits back", async () => {
    const indices = [CUT_AT_BOTTOM, CUT_AT_LEFT, WHOLE];
    const shop = await h.addShop({ products: 0, imagesPerProduct: 0, credits: CREDITS_PER_IMAGE * indices.length });
    const seeded = await seedProductPhotos(
      { url: h.shopify.url, shop, accessToken: h.shopify.grantAccessToken(shop) },
      indices.map((i) => photos.get(i)!),
    );
    const mediaOf = new Map(indices.map((index, k) => [index, seeded[k]!.mediaId]));
    const before = mediaById(h.shopify, shop);
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: seeded.map((s) => s.mediaId),
      pipeline: "amazon",
    });
    const settled = await waitFor(
      () => getBatchProgress(h.db, shop, batchId),
      (p) => Boolean(p) && p!.counts.QUEUED + p!.counts.PROCESSING === 0,
      "every image settled",
      240_000,
    );
    expect(h.dashscope.stats().realPhotoEdits).toBeGreaterThanOrEqual(indices.length);
    const item = (index: number) => settled!.items.find((i) => i.mediaId === mediaOf.get(index))!;

    const bottom = item(CUT_AT_BOTTOM);
    const left = item(CUT_AT_LEFT);
    for (const [held, edge] of [
      [bottom, "the bottom"],
      [left, "the left"],
    ] as const) {
      expect(held.state, held.reason ?? "").toBe("NEEDS_REVIEW");
      expect(held.reason).toContain(NOTICE);
      expect(held.reason).toMatch(new RegExp(`cut off at [a-z ,]*${edge}`));
      expect(held.reason).toContain("Use a photo that shows the whole product for a complete result.");
      expect((held.framing as { message: string }).message).toContain(NOTICE);
      // Nothing reached the product while it waits.
      expect(mediaById(h.shopify, shop).get(held.mediaId)!.sha256).toBe(before.get(held.mediaId)!.sha256);
    }
    const whole = item(WHOLE);
    expect(whole.reason ?? "").not.toContain(NOTICE);
    expect((whole.framing as { edges: string[] }).edges).toEqual([]);

    // Like any held item: its credits stay reserved, neither charged nor returned.
    const held = settled!.items.filter((i) => i.state === "NEEDS_REVIEW").length;
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: CREDITS_PER_IMAGE * held });

    await approveItem({ db: h.db, queue: h.queue }, shop, left.id);
    await rejectItem({ db: h.db }, shop, bottom.id);
    const after = await waitFor(
      () => getBatchProgress(h.db, shop, batchId),
      (p) => p?.items.find((i) => i.id === left.id)?.state === "PUBLISHED",
      "the approved image published",
      120_000,
    );
    expect(after!.items.find((i) => i.id === bottom.id)!.state).toBe("REJECTED");
    expect(mediaById(h.shopify, shop).get(left.mediaId)!.sha256).not.toBe(before.get(left.mediaId)!.sha256);
    expect(mediaById(h.shopify, shop).get(bottom.mediaId)!.sha256).toBe(before.get(bottom.mediaId)!.sha256);
    // The rejected image's credits came back; the approved one's were charged.
    const stillHeld = after!.items.filter((i) => i.state === "NEEDS_REVIEW").length;
    expect(await getBalance(h.db, shop)).toMatchObject({ available: CREDITS_PER_IMAGE, reserved: CREDITS_PER_IMAGE * stillHeld });
  }, 400_000);
});
