/**
 * The automation suites' common setup: the batches harness (stand-ins, database, image queue), the app's webhook
 * routes behind HTTP when the Shopify stand-in must deliver to them, an image worker when images must be edited, and
 * an automation worker, all in this process; `close()` takes them down in reverse.
 */
import type { Worker } from "bullmq";
import { expect } from "vitest";
import { saveAutoRule } from "~/models/auto-rule.server";
import { closeAutomationQueues, getAutomationQueue, startAutomationWorker } from "~/queue/automation.server";
import { processAutomationJob } from "~/queue/automation-processor.server";
import { closeQueues } from "~/queue/queue.server";
import { offlineAdmin, startedForFile, startHarness, type Harness } from "../batches/harness";
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
      await automation.close(true);
      await getAutomationQueue(h.queueName)
        .obliterate({ force: true })
        .catch(() => undefined);
      await closeAutomationQueues();
      await closeQueues();
      await h.close();
      await app?.close();
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
