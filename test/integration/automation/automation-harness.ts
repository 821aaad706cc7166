/**
 * The automation suites' common setup: the batches harness (stand-ins, database, image queue), the app's webhook
 * routes behind HTTP when the Shopify stand-in must deliver to them, an image worker when images must be edited, and
 * an automation worker, all in this process; `close()` takes them down in reverse.
 */
import type { Worker } from "bullmq";
import { expect } from "vitest";
import { saveAutoRule } from "~/models/auto-rule.server";
import { confirmCatalogRun, getCatalogRun, startCatalogRun, type CatalogRunView } from "~/models/catalog-runs.server";
import { closeAutomationQueues, getAutomationQueue, startAutomationWorker } from "~/queue/automation.server";
import { processAutomationJob } from "~/queue/automation-processor.server";
import { closeQueues } from "~/queue/queue.server";
import { offlineAdmin, startedForFile, startHarness, type Harness } from "../batches/harness";
import { waitFor } from "../wait";
import { startWebhookAppServer, type WebhookAppServer } from "./app-server";

export interface AutomationHarness {
  h: Harness;
  close(): Promise<void>;
}

export async function startAutomationHarness(opts: {
  /** Webhook routes by path; the Shopify stand-in delivers its webhooks to them. */
  routes?: Parameters<typeof startWebhookAppServer>[0];
  harness?: Omit<Parameters<typeof startHarness>[0], "appUrl">;
  /** Runs the image worker in this process (false: images wait in the queue). */
  imageWorker?: false | { concurrency?: number };
}): Promise<AutomationHarness> {
  const app: WebhookAppServer | undefined = opts.routes ? await startWebhookAppServer(opts.routes) : undefined;
  const h = await startHarness({ ...opts.harness, ...(app ? { appUrl: app.url } : {}) });
  process.env.QUEUE_NAME = h.queueName;
  if (opts.imageWorker) h.startInProcessWorker(opts.imageWorker);
  const automation: Worker = startAutomationWorker({
    imageQueueName: h.queueName,
    deps: { db: h.db, adminFor: offlineAdmin, imageQueue: h.queue },
    process: processAutomationJob,
  });
  return {
    h,
    async close() {
      // Once in CI (session 15) this teardown outlasted the 120 s hook timeout after every test had passed, and did
      // not happen again in five runs: a step this slow now names itself in the log.
      const step = async (name: string, run: () => Promise<unknown>) => {
        const slow = setTimeout(() => console.error(`automation harness: closing ${name} has taken 20 s`), 20_000);
        try {
          await run();
        } finally {
          clearTimeout(slow);
        }
      };
      await step("the automation worker", () => automation.close(true));
      await step("the automation queue", () =>
        getAutomationQueue(h.queueName)
          .obliterate({ force: true })
          .catch(() => undefined),
      );
      await step("the automation queues' connections", () => closeAutomationQueues());
      await step("the image queues' connections", () => closeQueues());
      await step("the batches harness (image worker, queue, stand-ins, database)", () => h.close());
      await step("the webhook app server", async () => app?.close());
    },
  };
}

/** startAutomationHarness before this file's tests, closed after them; returns its batches harness. */
export function automationHarnessForFile(opts: Parameters<typeof startAutomationHarness>[0]): Harness {
  let automation: AutomationHarness | undefined;
  return startedForFile(
    async () => (automation = await startAutomationHarness(opts)).h,
    async () => automation?.close(),
  );
}

/** A shop with `credits` and its automatic rule on (Amazon, every image, no review, no budget; `rule` overrides). */
export async function shopWithAutoRule(
  h: Harness,
  opts: { credits: number; imagesPerProduct?: number; rule?: Record<string, string> },
): Promise<string> {
  const shop = await h.addShop({ products: 1, imagesPerProduct: opts.imagesPerProduct ?? 1, credits: opts.credits });
  const saved = await saveAutoRule(h.db, shop, {
    enabled: "on",
    pipeline: "amazon",
    images: "all",
    reviewBeforePublish: "",
    monthlyBudget: "",
    ...opts.rule,
  });
  expect(saved.ok).toBe(true);
  return shop;
}

/** The run as the catalogue page shows it, once `done` holds (within a minute). */
export function runOf(
  h: Harness,
  shop: string,
  runId: string,
  done: (run: CatalogRunView) => boolean,
  what: string,
): Promise<CatalogRunView> {
  return waitFor(async () => (await getCatalogRun(h.db, shop, runId))!, done, what, 60_000);
}

/**
 * A whole-catalogue run counted, then Shopify refusing the store (`status`) as the merchant confirms it, unknown to
 * the app: returns the run once it has paused with nothing waiting or held.
 */
export async function runPausedByRefusedStore(
  h: Harness,
  shop: string,
  status: 402 | 423,
): Promise<{ runId: string; paused: CatalogRunView; graphql: Awaited<ReturnType<typeof offlineAdmin>> }> {
  const automationQueue = getAutomationQueue(h.queueName);
  const graphql = await offlineAdmin(shop);
  const started = await startCatalogRun({ db: h.db, automationQueue, graphql }, shop, { filterKind: "all", pipeline: "amazon" });
  if (!started.ok) throw new Error(JSON.stringify(started.errors));
  await runOf(h, shop, started.runId, (r) => r.status === "READY", "the catalogue to be counted");
  const paused = await confirmedIntoRefusedStore(h, shop, started.runId, status, graphql);
  return { runId: started.runId, paused, graphql };
}

/** Shopify refuses the store (unknown to the app) as the merchant confirms the run: it pauses with nothing held. */
export async function confirmedIntoRefusedStore(
  h: Harness,
  shop: string,
  runId: string,
  status: 402 | 423,
  graphql: Awaited<ReturnType<typeof offlineAdmin>>,
): Promise<CatalogRunView> {
  h.shopify.setShopUnavailable(shop, status);
  await confirmCatalogRun({ db: h.db, automationQueue: getAutomationQueue(h.queueName), graphql }, shop, runId);
  return runOf(h, shop, runId, (r) => r.status === "PAUSED" && r.waiting === 0 && r.creditsHeld === 0, "the run to pause");
}

/**
 * A new product whose `images` the automatic rule queued while the image worker was paused, then Shopify refused the
 * store (`status`) before the worker took them: its batch, done, with every image failed.
 */
export async function ruleImagesFailedByRefusedStore(h: Harness, shop: string, images: number, status: 402 | 423) {
  const worker = h.workers[0]!;
  await worker.pause();
  let batchId = "";
  try {
    const product = await h.shopify.createProduct(shop, { images });
    await h.shopify.webhooksDelivered();
    const queued = await waitFor(
      () => h.db.batchItem.findMany({ where: { shop, mediaId: { in: product.mediaIds } } }),
      (found) => found.length === images,
      "the rule to queue the new product's images",
    );
    batchId = queued[0]!.batchId;
    h.shopify.setShopUnavailable(shop, status);
  } finally {
    worker.resume();
  }
  return { batchId, failed: await h.waitForBatch(shop, batchId) };
}
