/**
 * A whole-catalogue run on a store Shopify froze (402, its Shopify bill unpaid) or locked (423): the run pauses with
 * what to do instead of failing or retrying for days, pays for no model call beyond an image already with the model,
 * refuses to start or resume while the store is still refused, and once the store opens goes on where it stopped:
 * the images that failed because of the freeze are cleaned again, each published and charged once.
 */
import { afterAll, describe, expect, it } from "vitest";
import { checkShopAvailable } from "~/models/shop-availability.server";
import { CatalogRunError, confirmCatalogRun, getCatalogRun, resumeCatalogRuns, startCatalogRun } from "~/models/catalog-runs.server";
import { getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { mediaById, offlineAdmin } from "../batches/harness";
import { automationHarnessForFile, confirmedIntoRefusedStore, runOf, runPausedByRefusedStore } from "./automation-harness";

process.env.CATALOG_BULK_POLL_MS = "300";
afterAll(() => {
  delete process.env.CATALOG_BULK_POLL_MS;
});

const h = automationHarnessForFile({ imageWorker: { concurrency: 1 } });

const PAUSED_FROZEN =
  "Paused: Shopify has frozen this store until its outstanding Shopify bill is paid, so no image can be changed and nothing more is charged. Pay the bill in your Shopify admin, then resume the run: it goes on where it stopped.";
const PAUSED_LOCKED =
  "Paused: Shopify has locked this store, so no image can be changed and nothing more is charged. Contact Shopify support to unlock the store, then resume the run: it goes on where it stopped.";
const REFUSED_FROZEN =
  "Shopify has frozen this store until its outstanding Shopify bill is paid, so its images cannot be changed. Pay the bill in your Shopify admin, then try again.";

const modelCalls = () => h.dashscope.stats().requests;
const captures = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });
const mark = (shop: string) =>
  h.db.shop.findUniqueOrThrow({ where: { domain: shop }, select: { unavailableStatus: true } }).then((s) => s.unavailableStatus);

async function refusal(promise: Promise<unknown>): Promise<{ message: string; code: string | undefined }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogRunError);
  const { message, merchant } = error as CatalogRunError;
  return { message, code: merchant?.code };
}

describe("a whole-catalogue run on a store Shopify froze", () => {
  it("pauses while counting and while running, refuses to start meanwhile, and cleans every image once when paid", async () => {
    const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const automationQueue = getAutomationQueue(h.queueName);
    const graphql = await offlineAdmin(shop);
    const callsBefore = modelCalls();

    // Frozen before the run starts, and the app does not know it yet: the count meets the refusal and pauses.
    h.shopify.setShopUnavailable(shop, 402);
    const started = await startCatalogRun({ db: h.db, automationQueue, graphql }, shop, { filterKind: "all", pipeline: "amazon" });
    if (!started.ok) throw new Error(JSON.stringify(started.errors));
    const countingPaused = await runOf(h, shop, started.runId, (r) => r.status !== "COUNTING", "the count to stop");
    expect(countingPaused).toMatchObject({
      status: "PAUSED",
      reason: PAUSED_FROZEN,
      reasonMessage: { code: "catalogPausedShopFrozen" },
      added: 0,
    });
    expect(await mark(shop)).toBe(402);

    // Known frozen: another run is refused at once with what to do, and the paused one cannot be resumed yet.
    expect(await refusal(startCatalogRun({ db: h.db, automationQueue, graphql }, shop, { filterKind: "all", pipeline: "amazon" }))).toEqual(
      {
        message: REFUSED_FROZEN,
        code: "catalogShopFrozen",
      },
    );
    expect(await h.db.catalogRun.count({ where: { shop } })).toBe(1);
    expect(await refusal(confirmCatalogRun({ db: h.db, automationQueue, graphql }, shop, started.runId))).toEqual({
      message: REFUSED_FROZEN,
      code: "catalogShopFrozen",
    });
    expect((await getCatalogRun(h.db, shop, started.runId))!.status).toBe("PAUSED");

    // Paid: resuming counts the catalogue, nothing reserved yet.
    h.shopify.setShopUnavailable(shop, null);
    await confirmCatalogRun({ db: h.db, automationQueue, graphql }, shop, started.runId);
    expect(await mark(shop)).toBeNull();
    const counted = await runOf(h, shop, started.runId, (r) => r.status !== "COUNTING", "the catalogue to be counted");
    expect(counted).toMatchObject({ status: "READY", total: 3, reason: null });
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });

    // Frozen again as the merchant confirms, unknown to the app: the first chunk's images fail fast, the run pauses.
    const paused = await confirmedIntoRefusedStore(h, shop, started.runId, 402, graphql);
    expect(paused).toMatchObject({ reason: PAUSED_FROZEN, reasonMessage: { code: "catalogPausedShopFrozen" }, published: 0, failed: 3 });
    expect(modelCalls() - callsBefore).toBeLessThanOrEqual(1);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await captures(shop)).toBe(0);
    for (const [mediaId, media] of mediaById(h.shopify, shop)) expect(media.sha256).toBe(before.get(mediaId)!.sha256);
    // The chunk's three images were added before the app knew, and failed fast; nothing more was added while paused.
    const itemsWhilePaused = await h.db.batchItem.count({ where: { shop } });
    expect(itemsWhilePaused).toBe(3);

    // Paid again: resuming cleans every image, those that failed because of the freeze too, each once.
    h.shopify.setShopUnavailable(shop, null);
    await confirmCatalogRun({ db: h.db, automationQueue, graphql }, shop, started.runId);
    const done = await runOf(h, shop, started.runId, (r) => r.status === "DONE", "the run to finish");
    expect(done).toMatchObject({ total: 3, added: 3, published: 3, failed: 0, waiting: 0, creditsUsed: 9, creditsHeld: 0 });
    expect(await getBalance(h.db, shop)).toEqual({ available: 21, reserved: 0, total: 21 });
    expect(await captures(shop)).toBe(3);
    const after = mediaById(h.shopify, shop);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [mediaId, media] of after) {
      expect(media).toMatchObject({ replacements: 1, position: before.get(mediaId)!.position });
      expect(media.sha256).not.toBe(before.get(mediaId)!.sha256);
    }
    // The batch lists each image once: the try the freeze failed (with why) and the version now on the product.
    const batch = (await getBatchProgress(h.db, shop, done.batchId!))!;
    expect(batch).toMatchObject({ total: 3, counts: { PUBLISHED: 3, FAILED: 0 } });
    for (const image of batch.items) {
      expect(image.versions.map((v) => [v.state, v.reasonMessage?.code ?? null])).toEqual([
        ["FAILED", "itemShopFrozen"],
        ["PUBLISHED", null],
      ]);
    }
  }, 120_000);
});

describe("a whole-catalogue run on a store Shopify locked", () => {
  it("pauses with the locked sentence and resumes by itself once a later job finds the store open", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 1, credits: 30 });
    const automationQueue = getAutomationQueue(h.queueName);
    const { runId, paused, graphql } = await runPausedByRefusedStore(h, shop, 423);
    expect(paused).toMatchObject({ reason: PAUSED_LOCKED, reasonMessage: { code: "catalogPausedShopLocked" } });
    expect(await mark(shop)).toBe(423);

    // The workers' resume pass leaves it while the store is known locked.
    await resumeCatalogRuns(h.db, automationQueue);
    expect((await getCatalogRun(h.db, shop, runId))!.status).toBe("PAUSED");

    // Unlocked; another job of the shop asks Shopify and clears the mark: the next resume pass goes on with the run.
    h.shopify.setShopUnavailable(shop, null);
    await checkShopAvailable(h.db, graphql, shop);
    expect(await resumeCatalogRuns(h.db, automationQueue)).toBeGreaterThanOrEqual(1);
    const done = await runOf(h, shop, runId, (r) => r.status === "DONE", "the run to finish");
    expect(done).toMatchObject({ total: 2, added: 2, published: 2, failed: 0, reason: null });
    expect(await getBalance(h.db, shop)).toEqual({ available: 24, reserved: 0, total: 24 });
    expect(await captures(shop)).toBe(2);
    for (const media of mediaById(h.shopify, shop).values()) expect(media.replacements).toBe(1);
  }, 90_000);
});
