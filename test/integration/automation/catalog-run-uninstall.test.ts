/**
 * Issue 17: the merchant uninstalls the app while a whole-catalogue run is adding and editing images. The run stops,
 * no image is edited after that, the credits held for images not started go back, nothing is charged twice, and the
 * workers settle instead of retrying the shop's jobs for ever (an image already sent to Shopify keeps its credits held).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { addFundedItems } from "~/models/batches.server";
import { confirmCatalogRun, getCatalogRun, startCatalogRun } from "~/models/catalog-runs.server";
import { getBalance } from "~/models/credit-ledger.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { action as uninstalled } from "~/routes/webhooks.app.uninstalled";
import { offlineAdmin, type Harness } from "../batches/harness";
import { deliver, webhookRequest } from "../lifecycle/helpers";
import { waitFor } from "../wait";
import { startAutomationHarness, type AutomationHarness } from "./automation-harness";

let h: Harness;
let automation: AutomationHarness;

beforeAll(async () => {
  process.env.CATALOG_BULK_POLL_MS = "300";
  // The model takes a while per image, so the run is mid-way (images waiting, others being edited) at the uninstall.
  automation = await startAutomationHarness({ harness: { dashscope: { latencyMs: 400 } }, imageWorker: { concurrency: 2 } });
  h = automation.h;
});

afterAll(async () => {
  delete process.env.CATALOG_BULK_POLL_MS;
  await automation?.close();
});

const UNSETTLED = ["active", "wait", "delayed", "prioritized"] as const;

/** The jobs not settled yet in either queue, named with their state, attempts and last error (so a failure says why). */
const busy = async () => {
  const jobs = [...(await getAutomationQueue(h.queueName).getJobs([...UNSETTLED])), ...(await h.queue.getJobs([...UNSETTLED]))];
  return Promise.all(
    jobs.map(async (job) => `${job.name} ${job.id} ${await job.getState()} attempts ${job.attemptsMade} ${job.failedReason ?? ""}`.trim()),
  );
};

describe("uninstall during a whole-catalogue run", () => {
  it("stops the run: nothing more is edited, unstarted images' credits go back, nothing is charged twice", async () => {
    const shop = await h.addShop({ products: 60, imagesPerProduct: 1, credits: 300 });
    const automationQueue = getAutomationQueue(h.queueName);
    const started = await startCatalogRun({ db: h.db, automationQueue, graphql: await offlineAdmin(shop) }, shop, {
      filterKind: "all",
      pipeline: "amazon",
    });
    if (!started.ok) throw new Error(JSON.stringify(started.errors));
    await waitFor(
      () => getCatalogRun(h.db, shop, started.runId),
      (r) => r?.status === "READY",
      "the catalogue to be counted",
    );
    await confirmCatalogRun({ db: h.db, automationQueue }, shop, started.runId);
    await waitFor(
      () => getCatalogRun(h.db, shop, started.runId),
      (r) => (r?.published ?? 0) >= 2,
      "two images to be published",
      90_000,
    );

    expect(
      await deliver(
        uninstalled,
        webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: { domain: shop } }),
      ),
    ).toBe(200);
    const { uninstalledAt } = await h.db.shop.findUniqueOrThrow({ where: { domain: shop } });

    const stopped = await waitFor(
      () => getCatalogRun(h.db, shop, started.runId),
      (r) => r?.status !== "RUNNING",
      "the run to stop",
    );
    expect(stopped).toMatchObject({ status: "CANCELLED", reason: "Cancelled because the app was uninstalled." });
    // A job that hit a passing error (a stand-in timing out under load) before the uninstall settles after its backoff.
    await waitFor(busy, (jobs) => jobs.length === 0, "the queues to settle", 120_000);
    const requests = h.dashscope.stats().requests;

    // The run's chunks keep ticking no more: a few seconds later nothing was added, queued or sent to the model.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await busy()).toEqual([]);
    expect(h.dashscope.stats().requests).toBe(requests);
    expect(await h.db.batchItem.count({ where: { shop, createdAt: { gt: uninstalledAt! } } })).toBe(0);
    expect(await h.db.batchItem.count({ where: { shop, state: "QUEUED" } })).toBe(0);
    // Never more images were sent to the model than were added before the uninstall.
    expect(requests).toBeLessThanOrEqual(await h.db.batchItem.count({ where: { shop } }));

    // Each published image paid once; an image whose replacement was sent as the uninstall came may be live, so it
    // keeps its credits held (unpaid) until a reinstall lets its media be read; every other image's credits went back.
    const items = await h.db.batchItem.findMany({ where: { shop }, select: { id: true, state: true, replaceSentAt: true } });
    const published = items.filter((i) => i.state === "PUBLISHED");
    const sent = items.filter((i) => i.state === "PROCESSING");
    expect(sent.every((i) => i.replaceSentAt !== null)).toBe(true);
    expect(items.filter((i) => i.state === "CANCELLED").length).toBeGreaterThan(0);
    const captured = await h.db.creditReservation.findMany({ where: { shop, state: "CAPTURED" }, select: { batchItemId: true } });
    expect(captured.map((c) => c.batchItemId).sort()).toEqual(published.map((i) => i.id).sort());
    const held = await h.db.creditReservation.findMany({ where: { shop, state: "HELD" }, select: { batchItemId: true } });
    expect(held.map((c) => c.batchItemId).sort()).toEqual(sent.map((i) => i.id).sort());
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(published.length);
    expect(await getBalance(h.db, shop)).toEqual({
      available: 300 - 3 * (published.length + sent.length),
      reserved: 3 * sent.length,
      total: 300 - 3 * published.length,
    });

    // The workers did not keep retrying the shop's work.
    expect(await getAutomationQueue(h.queueName).getJobCountByTypes("failed")).toBe(0);
  }, 300_000);

  it("adds no image for a shop that is uninstalled, even from a job already past its install check", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 1, credits: 30 });
    await deliver(uninstalled, webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: { domain: shop } }));
    const images = h.shopify.products(shop).flatMap((p) =>
      p.media.map((m) => ({
        productId: p.id,
        productTitle: p.title,
        productHandle: "",
        mediaId: m.id,
        url: m.url,
        alt: m.alt,
        width: null,
        height: null,
        mimeType: m.mimeType,
        position: m.position,
        status: "READY",
      })),
    );
    const funded = await addFundedItems(h.db, h.queueName, shop, {
      batch: { id: randomUUID(), origin: "CATALOG", pipeline: "amazon", settings: DEFAULT_PIPELINE_SETTINGS, reviewBeforePublish: false },
      images,
      budget: null,
      onlyNeverProcessed: false,
    });
    expect(funded.items).toEqual([]);
    expect(await h.db.batchItem.count({ where: { shop } })).toBe(0);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });
});
