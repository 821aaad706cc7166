/**
 * Issue 18, stored reasons: why an image is held or failed is stored as a code with its values beside the English
 * sentence, so the batch gallery says it in the viewer's language.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatMessage } from "~/components/batch/gallery-messages";
import { heldOrCancelledNote, verdictFor } from "~/components/batch/gallery-model";
import { i18nFor } from "~/i18n/locales";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { waitFor } from "../wait";
import { mediaById, offlineAdmin, startHarness, type Harness } from "./harness";

let h: Harness;
let cdn: Server;
let brokenUrl: string;

beforeAll(async () => {
  // A JPEG cut off after its first bytes: the worker cannot read it and fails the image without calling the model.
  const jpeg = Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb,
  ]);
  cdn = createServer((_req, res) => res.writeHead(200, { "content-type": "image/jpeg" }).end(jpeg));
  await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
  brokenUrl = `http://127.0.0.1:${(cdn.address() as { port: number }).port}/s/files/broken.jpg`;
  h = await startHarness({ localHosts: [brokenUrl] });
  h.startInProcessWorker({ concurrency: 2 });
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => cdn?.close(resolve));
});

describe("an image's stored reason", () => {
  it("is stored as a code a Spanish viewer reads in Spanish, for a held image and a failed one", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 2, credits: 6 });
    await h.db.shop.update({ where: { domain: shop }, data: { reviewBeforePublish: true } });
    const worker = h.workers[0]!;
    await worker.pause();
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...mediaById(h.shopify, shop).keys()],
      pipeline: "amazon",
    });
    const broken = (await getBatchProgress(h.db, shop, batchId))!.items[0]!;
    await h.db.batchItem.update({ where: { id: broken.id }, data: { sourceUrl: brokenUrl } });
    worker.resume();

    // A held image keeps its batch open: wait until the worker has no image of it left.
    const progress = (await waitFor(
      () => getBatchProgress(h.db, shop, batchId),
      (now) => now !== null && now.counts.QUEUED + now.counts.PROCESSING === 0,
      "the worker to finish both images",
      120_000,
    ))!;
    const failed = progress.items.find((i) => i.id === broken.id)!;
    const held = progress.items.find((i) => i.id !== broken.id)!;
    expect(failed).toMatchObject({ state: "FAILED", reasonMessage: { code: expect.stringMatching(/^itemImage/) } });
    expect(held).toMatchObject({ state: "NEEDS_REVIEW", reasonMessage: { code: expect.stringMatching(/^itemHeld/) } });

    const spanish = i18nFor("es").t;
    const english = i18nFor("en").t;
    const batch = { pipeline: progress.batch.pipeline, settings: progress.batch.settings };
    const failedVerdict = formatMessage(verdictFor(failed, batch).message, spanish);
    expect(failedVerdict).toMatch(/^Falló: El archivo de imagen /);
    expect(formatMessage(verdictFor(failed, batch).message, english)).toBe(`Failed: ${failed.reason}`);
    const heldNote = formatMessage(heldOrCancelledNote(held, batch)!, spanish);
    expect(heldNote).toMatch(/^(En revisión|Espera tu revisión|Puede que el producto|La foto original)/);
    expect(heldNote).not.toBe(held.reason);
  }, 150_000);
});
