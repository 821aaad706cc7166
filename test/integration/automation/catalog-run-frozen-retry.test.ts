/**
 * A store Shopify froze while a whole-catalogue run cleaned it: the run paused and its images failed because of the
 * freeze. Once the bill is paid two things try those images again: the merchant ("Try again" on one image, "Try the
 * failed images again" on the run's batch page) and the run itself when it resumes (it adds each such image again as
 * a new try). Whatever the order, each image is tried once at a time, published once and charged once, the run's
 * counts follow each image's latest version, and the batch page lists the freeze's failure and the version on the
 * product. Images of the automatic rule that failed while frozen can be tried again by the merchant too.
 */
import { afterAll, describe, expect, it } from "vitest";
import { confirmCatalogRun, getCatalogRun, resumeCatalogRuns } from "~/models/catalog-runs.server";
import { getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { groupVersions, isFailedToRetry } from "~/models/versions";
import { retryFailedImages, retryItem } from "~/models/versions.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { action as productsCreate } from "~/routes/webhooks.products.create";
import { mediaById } from "../batches/harness";
import { waitFor } from "../wait";
import {
  automationHarnessForFile,
  ruleImagesFailedByRefusedStore,
  runOf,
  runPausedByRefusedStore,
  shopWithAutoRule,
} from "./automation-harness";

// The run reads its bulk operation and looks at its chunk more often than in production: the same steps, less waiting.
process.env.CATALOG_BULK_POLL_MS = "300";
process.env.CATALOG_RUN_TICK_MS = "100";
afterAll(() => {
  delete process.env.CATALOG_BULK_POLL_MS;
  delete process.env.CATALOG_RUN_TICK_MS;
});

const h = automationHarnessForFile({ routes: { "/webhooks/products/create": productsCreate }, imageWorker: { concurrency: 2 } });

const modelCalls = () => h.dashscope.stats().requests;
const captures = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });
const deps = () => ({ db: h.db, queue: h.queue });

/** Images of the batch page's "Try the N failed images again" (as its loader counts them). */
async function failedToRetry(shop: string, batchId: string): Promise<number> {
  const progress = (await getBatchProgress(h.db, shop, batchId))!;
  return progress.items.filter((item) => groupVersions(item.versions).some(isFailedToRetry)).length;
}

/** A run of three images that paused because Shopify froze the store as it started; then the merchant paid the bill. */
async function runPausedByFreeze() {
  const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 30 });
  const before = mediaById(h.shopify, shop);
  const automationQueue = getAutomationQueue(h.queueName);
  const { runId, paused, graphql } = await runPausedByRefusedStore(h, shop, 402);
  expect(paused).toMatchObject({ reasonMessage: { code: "catalogPausedShopFrozen" }, failed: 3, published: 0 });
  const batchId = paused.batchId!;
  const failed = await h.db.batchItem.findMany({ where: { shop, batchId }, orderBy: { createdAt: "asc" } });
  expect(failed.map((item) => [item.state, (item.reasonMessage as { code: string }).code])).toEqual([
    ["FAILED", "itemShopFrozen"],
    ["FAILED", "itemShopFrozen"],
    ["FAILED", "itemShopFrozen"],
  ]);
  // The freeze's failures are ones a new try may cure: the batch page offers to try them again.
  expect(await failedToRetry(shop, batchId)).toBe(3);
  h.shopify.setShopUnavailable(shop, null);
  return { shop, runId, batchId, failed, before, automationQueue, graphql, callsBefore: modelCalls() };
}

/** Each image published once and charged once, the run's counts and the batch page's versions right. */
async function expectCleanedOnce(run: Awaited<ReturnType<typeof runPausedByFreeze>>) {
  const { shop, runId, batchId, before, callsBefore } = run;
  const done = await runOf(h, shop, runId, (r) => r.status === "DONE", "the run to finish");
  await h.waitForBatch(shop, batchId);
  expect(await getCatalogRun(h.db, shop, runId)).toMatchObject({
    total: 3,
    added: 3,
    published: 3,
    failed: 0,
    waiting: 0,
    creditsUsed: 9,
    creditsHeld: 0,
  });
  expect(done.status).toBe("DONE");
  expect(await getBalance(h.db, shop)).toEqual({ available: 21, reserved: 0, total: 21 });
  expect(await captures(shop)).toBe(3);
  expect(modelCalls() - callsBefore).toBe(3);
  const after = mediaById(h.shopify, shop);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [mediaId, media] of after) {
    expect(media).toMatchObject({ replacements: 1, position: before.get(mediaId)!.position });
    expect(media.sha256).not.toBe(before.get(mediaId)!.sha256);
  }
  const page = (await getBatchProgress(h.db, shop, batchId))!;
  expect(page).toMatchObject({ total: 3, counts: { PUBLISHED: 3, FAILED: 0 } });
  for (const image of page.items) {
    expect(image.versions.map((v) => [v.state, v.reasonMessage?.code ?? null])).toEqual([
      ["FAILED", "itemShopFrozen"],
      ["PUBLISHED", null],
    ]);
  }
  expect(await failedToRetry(shop, batchId)).toBe(0);
  expect(await retryFailedImages(deps(), shop, batchId)).toEqual({ queued: 0, creditsReserved: 0 });
}

describe("images a catalogue run lost to a frozen store, tried again by the merchant and by the run", () => {
  it("merchant first, the run resumed while the merchant's tries are being made: each image once", async () => {
    const run = await runPausedByFreeze();
    const [one] = run.failed;
    const worker = h.workers[0]!;
    await worker.pause();
    try {
      expect(await retryItem(deps(), run.shop, one!.id, null)).toMatchObject({ creditsReserved: 3 });
      expect(await retryFailedImages(deps(), run.shop, run.batchId)).toEqual({ queued: 2, creditsReserved: 6 });
      await confirmCatalogRun({ db: h.db, automationQueue: run.automationQueue, graphql: run.graphql }, run.shop, run.runId);
      expect(await getBalance(h.db, run.shop)).toMatchObject({ available: 21, reserved: 9 });
    } finally {
      worker.resume();
    }
    await expectCleanedOnce(run);
  }, 90_000);

  it("merchant first, the tries published while the run is paused: its counts follow them, and the resume adds nothing", async () => {
    const run = await runPausedByFreeze();
    expect(await retryFailedImages(deps(), run.shop, run.batchId)).toEqual({ queued: 3, creditsReserved: 9 });
    await h.waitForBatch(run.shop, run.batchId);
    // The worker asked Shopify before its first try, so the store is known open again.
    expect(await getCatalogRun(h.db, run.shop, run.runId)).toMatchObject({
      status: "PAUSED",
      published: 3,
      failed: 0,
      waiting: 0,
      creditsUsed: 9,
    });
    // The workers' resume pass goes on with the run: nothing is left to add.
    expect(await resumeCatalogRuns(h.db, run.automationQueue)).toBeGreaterThanOrEqual(1);
    await expectCleanedOnce(run);
    expect(await h.db.batchItem.count({ where: { shop: run.shop } })).toBe(6);
  }, 90_000);

  it("the run first, the merchant's clicks while its tries are being made queue nothing more", async () => {
    const run = await runPausedByFreeze();
    const worker = h.workers[0]!;
    await worker.pause();
    try {
      await confirmCatalogRun({ db: h.db, automationQueue: run.automationQueue, graphql: run.graphql }, run.shop, run.runId);
      await waitFor(
        () => h.db.batchItem.count({ where: { shop: run.shop, retryOfId: { not: null } } }),
        (n) => n === 3,
        "the run to add its images again",
      );
      expect(await failedToRetry(run.shop, run.batchId)).toBe(0);
      expect(await retryFailedImages(deps(), run.shop, run.batchId)).toEqual({ queued: 0, creditsReserved: 0 });
      await expect(retryItem(deps(), run.shop, run.failed[0]!.id, null)).rejects.toMatchObject({ httpStatus: 409, code: "retryBusy" });
      expect(await getBalance(h.db, run.shop)).toMatchObject({ available: 21, reserved: 9 });
    } finally {
      worker.resume();
    }
    await expectCleanedOnce(run);
  }, 90_000);

  it("the merchant's click and the run's resume at the same moment: each image once", async () => {
    const run = await runPausedByFreeze();
    const worker = h.workers[0]!;
    await worker.pause();
    try {
      const [, tried] = await Promise.all([
        confirmCatalogRun({ db: h.db, automationQueue: run.automationQueue, graphql: run.graphql }, run.shop, run.runId),
        retryFailedImages(deps(), run.shop, run.batchId),
      ]);
      expect(tried.creditsReserved).toBe(tried.queued * 3);
    } finally {
      worker.resume();
    }
    await expectCleanedOnce(run);
  }, 90_000);
});

describe("images of the automatic rule that failed while the store was frozen", () => {
  it("are tried again by the merchant once the bill is paid, each published and charged once", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const { batchId, failed } = await ruleImagesFailedByRefusedStore(h, shop, 2, 423);
    expect(failed.items.map((i) => [i.state, i.reasonMessage?.code])).toEqual([
      ["FAILED", "itemShopLocked"],
      ["FAILED", "itemShopLocked"],
    ]);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await failedToRetry(shop, batchId)).toBe(2);

    h.shopify.setShopUnavailable(shop, null);
    const [first] = failed.items;
    const one = await retryItem(deps(), shop, first!.id, null);
    expect(await retryFailedImages(deps(), shop, batchId)).toEqual({ queued: 1, creditsReserved: 3 });
    const done = await h.waitForBatch(shop, batchId);
    expect(done.items.map((i) => i.versions.map((v) => [v.state, v.reasonMessage?.code ?? null]))).toEqual([
      [
        ["FAILED", "itemShopLocked"],
        ["PUBLISHED", null],
      ],
      [
        ["FAILED", "itemShopLocked"],
        ["PUBLISHED", null],
      ],
    ]);
    expect(done.items[0]!.versions[1]!.id).toBe(one.itemId);
    expect(await captures(shop)).toBe(2);
    expect(await getBalance(h.db, shop)).toEqual({ available: 24, reserved: 0, total: 24 });
    for (const item of failed.items) expect(mediaById(h.shopify, shop).get(item.mediaId)!.replacements).toBe(1);
  }, 90_000);
});
