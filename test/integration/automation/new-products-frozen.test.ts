/**
 * The automatic rule on a store Shopify froze (402) or locked (423): new products arriving meanwhile are not lost and
 * cost no model call. Their events stay open; while the store is known refused the workers' resume pass sends one of
 * the shop's events at a time to ask Shopify (one cheap query), and once the store answers every waiting product is
 * cleaned, each image once. Images the rule had already queued when Shopify froze the store fail (credits back); once it
 * answers again the rule adds each of them again as a new try, as a catalogue run does, never beside the merchant's,
 * also one that fails before or as its event's job closes the event, or whose event the database fails to open again.
 */
import type { Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { acceptProductWebhook, cleanNewProductMedia, productWebhookSchema, resumeNewProductEvents } from "~/models/auto-rule.server";
import { getBatchProgress } from "~/models/batches.server";
import { storedMessage } from "~/lib/merchant-message";
import { getBalance } from "~/models/credit-ledger.server";
import { retryFailedImages, retryItem } from "~/models/versions.server";
import type { AutomationWork, ImageWork, QueuedItem } from "~/models/work-queues.server";
import { processAutomationJob } from "~/queue/automation-processor.server";
import { getAutomationQueue, type AutomationJobData } from "~/queue/automation.server";
import { jobIdForItem } from "~/queue/jobs";
import { action as productsCreate } from "~/routes/webhooks.products.create";
import { action as productsUpdate } from "~/routes/webhooks.products.update";
import { mediaById, offlineAdmin } from "../batches/harness";
import { waitFor } from "../wait";
import { automationHarnessForFile, ruleImagesFailedByRefusedStore, shopWithAutoRule } from "./automation-harness";

const h = automationHarnessForFile({
  routes: { "/webhooks/products/create": productsCreate, "/webhooks/products/update": productsUpdate },
  imageWorker: {},
});

/** Until every webhook the stand-in sent was answered and the automation and image queues are idle. */
async function settled(): Promise<void> {
  await h.shopify.webhooksDelivered();
  const automationQueue = getAutomationQueue(h.queueName);
  await waitFor(
    async () =>
      (await automationQueue.getJobCountByTypes("active", "wait", "delayed", "prioritized")) +
      (await h.queue.getJobCountByTypes("active", "wait", "delayed", "prioritized")),
    (n) => n === 0,
    "the queues to drain",
    20_000,
  );
  await h.shopify.webhooksDelivered();
}

const modelCalls = () => h.dashscope.stats().requests;
const probes = (shop: string) => h.shopify.refusedWhileUnavailable(shop).filter((op) => op === "ShopAvailability").length;
const openEvents = (shop: string) => h.db.newProductEvent.count({ where: { shop, doneAt: null } });

describe("automatic rule on a store Shopify froze", () => {
  it("keeps new products waiting without a model call, asks Shopify once per pass, and cleans them once paid", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const automationQueue = getAutomationQueue(h.queueName);
    const callsBefore = modelCalls();

    // Frozen, unknown to the app: the product's job meets the refusal reading the product, and marks the shop.
    h.shopify.setShopUnavailable(shop, 402);
    const first = await h.shopify.createProduct(shop, { images: 2 });
    await settled();
    expect((await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).unavailableStatus).toBe(402);
    // Known frozen: the next product's job asks Shopify once, and stops there.
    const second = await h.shopify.createProduct(shop, { images: 1 });
    await settled();
    expect(probes(shop)).toBe(1);
    expect(await h.db.batch.count({ where: { shop } })).toBe(0);
    expect(await openEvents(shop)).toBe(2);
    expect(modelCalls()).toBe(callsBefore);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await getAutomationQueue(h.queueName).getJobCountByTypes("failed")).toBe(0);

    // Still frozen: a resume pass sends one of the shop's events, which asks once more; nothing else happens.
    expect(await resumeNewProductEvents(h.db, automationQueue)).toBe(1);
    await settled();
    expect(probes(shop)).toBe(2);
    expect(await openEvents(shop)).toBe(2);
    expect(await h.db.batch.count({ where: { shop } })).toBe(0);

    // Paid: the next pass's event finds the store open and clears the mark; the pass after takes the rest.
    h.shopify.setShopUnavailable(shop, null);
    expect(await resumeNewProductEvents(h.db, automationQueue)).toBe(1);
    await settled();
    expect((await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).unavailableStatus).toBeNull();
    await resumeNewProductEvents(h.db, automationQueue);
    await settled();
    expect(await openEvents(shop)).toBe(0);

    const items = await h.db.batchItem.findMany({ where: { shop }, select: { mediaId: true, state: true } });
    expect(items.map((i) => i.mediaId).sort()).toEqual([...first.mediaIds, ...second.mediaIds].sort());
    expect(items.every((i) => i.state === "PUBLISHED")).toBe(true);
    expect(modelCalls() - callsBefore).toBe(3);
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(3);
    expect(await getBalance(h.db, shop)).toEqual({ available: 21, reserved: 0, total: 21 });
    for (const mediaId of [...first.mediaIds, ...second.mediaIds]) expect(mediaById(h.shopify, shop).get(mediaId)!.replacements).toBe(1);
  }, 90_000);
});

describe("images the automatic rule had queued when Shopify froze the store", () => {
  it("are added again once the store answers, each published and charged once, never beside the merchant's try", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const automationQueue = getAutomationQueue(h.queueName);
    const worker = h.workers[0]!;
    const { batchId, failed } = await ruleImagesFailedByRefusedStore(h, shop, 3, 402);
    expect(failed.items.map((i) => [i.state, i.reasonMessage?.code])).toEqual([
      ["FAILED", "itemShopFrozen"],
      ["FAILED", "itemShopFrozen"],
      ["FAILED", "itemShopFrozen"],
    ]);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    const callsBefore = modelCalls();

    // Still frozen: the pass asks Shopify and adds nothing.
    await resumeNewProductEvents(h.db, automationQueue);
    await settled();
    expect(await h.db.batchItem.count({ where: { shop } })).toBe(3);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });

    // Paid. The merchant tries one image again while the image worker is busy; the rule's pass adds the other two.
    h.shopify.setShopUnavailable(shop, null);
    await worker.pause();
    try {
      const merchantTry = await retryItem({ db: h.db, queue: h.queue }, shop, failed.items[0]!.id, null);
      expect(merchantTry.creditsReserved).toBe(3);
      // The pass sends the rule's event, which finds the store open (clearing the mark) and adds the other two again.
      expect(await resumeNewProductEvents(h.db, automationQueue)).toBe(1);
      await waitFor(
        () => automationQueue.getJobCountByTypes("active", "wait", "delayed", "prioritized"),
        (n) => n === 0,
        "the automation queue to drain",
        20_000,
      );
      expect((await h.db.shop.findUniqueOrThrow({ where: { domain: shop } })).unavailableStatus).toBeNull();
      const tries = await h.db.batchItem.findMany({ where: { shop, retryOfId: { not: null } } });
      expect(tries.map((item) => item.retryOfId).sort()).toEqual(failed.items.map((item) => item.id).sort());
      expect(tries.every((item) => item.batchId === batchId)).toBe(true);
      // The rule's tries are queued: the merchant's "Try the failed images again" has nothing left to add.
      expect(await retryFailedImages({ db: h.db, queue: h.queue }, shop, batchId)).toEqual({ queued: 0, creditsReserved: 0 });
      expect(await getBalance(h.db, shop)).toMatchObject({ available: 21, reserved: 9 });
    } finally {
      worker.resume();
    }
    const done = await h.waitForBatch(shop, batchId);
    expect(done.items.map((i) => i.versions.map((v) => [v.state, v.reasonMessage?.code ?? null]))).toEqual(
      Array.from({ length: 3 }, () => [
        ["FAILED", "itemShopFrozen"],
        ["PUBLISHED", null],
      ]),
    );
    expect(modelCalls() - callsBefore).toBe(3);
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(3);
    expect(await getBalance(h.db, shop)).toEqual({ available: 21, reserved: 0, total: 21 });
    for (const item of failed.items) expect(mediaById(h.shopify, shop).get(item.mediaId)!.replacements).toBe(1);

    // Nothing is left for the rule to add: later passes add nothing.
    await resumeNewProductEvents(h.db, automationQueue);
    await settled();
    expect(await openEvents(shop)).toBe(0);
    expect(await h.db.batchItem.count({ where: { shop } })).toBe(6);
    expect((await getBatchProgress(h.db, shop, batchId))!.counts).toMatchObject({ PUBLISHED: 3, FAILED: 0 });
  }, 90_000);
});

/** A new product with one photo whose products/create is recorded, its event's job left for the test to run. */
async function recordedNewProduct(shop: string) {
  const automationQueue = getAutomationQueue(h.queueName);
  const product = await h.shopify.createProduct(shop, { images: 1, sendWebhook: false });
  const eventId = `evt-${product.id}-${shop}`;
  const recordOnly = { name: automationQueue.name, enqueueNewProductMedia: async () => undefined } as unknown as AutomationWork;
  await acceptProductWebhook({ db: h.db, queue: recordOnly }, shop, eventId, productWebhookSchema.parse(product.payload));
  return { ...product, eventId };
}

/** Until the worker is done with the items' jobs (failing them, and what follows a failure, included). */
function workerFailed(items: QueuedItem[]) {
  return waitFor(
    () => Promise.all(items.map(async (item) => (await h.queue.getJob(jobIdForItem(item.id)))?.getState())),
    (states) => states.every((state) => state === "failed"),
    "the worker to fail the queued image",
  );
}

/** The shop's one image failed with the store frozen (credits back); once paid, the rule adds it again and publishes it. */
async function failedThenPublishedOncePaid(shop: string, mediaId: string): Promise<void> {
  const [failed] = await h.db.batchItem.findMany({ where: { shop } });
  expect([failed!.state, storedMessage(failed!.reasonMessage)?.code]).toEqual(["FAILED", "itemShopFrozen"]);
  expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });

  // Paid: the resume pass sends the event, which finds the store open and adds the image again.
  h.shopify.setShopUnavailable(shop, null);
  expect(await resumeNewProductEvents(h.db, getAutomationQueue(h.queueName))).toBe(1);
  await settled();
  const done = await h.waitForBatch(shop, failed!.batchId);
  expect(done.items.map((i) => i.versions.map((v) => [v.state, v.reasonMessage?.code ?? null]))).toEqual([
    [
      ["FAILED", "itemShopFrozen"],
      ["PUBLISHED", null],
    ],
  ]);
  expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(1);
  expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 0, total: 27 });
  expect(mediaById(h.shopify, shop).get(mediaId)!.replacements).toBe(1);
  expect(await openEvents(shop)).toBe(0);
}

/** Statements of this database waiting for a lock on an event's row (a worker's reopenNewProductEventOf). */
async function eventReopensWaiting(): Promise<number> {
  const [row] = await h.db.$queryRaw<Array<{ waiting: number }>>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE "NewProductEvent"%'`;
  return row?.waiting ?? 0;
}

describe("an image the rule's job queued that fails before its event is closed", () => {
  it("is added again once the store answers, not left to the merchant's Try again", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const product = await recordedNewProduct(shop);
    // Shopify freezes the store as the event's job queues the image: the worker fails it (reopening included) before
    // the job goes on to close the event.
    const imageQueue = {
      name: h.queue.name,
      async enqueueItems(items: QueuedItem[]) {
        h.shopify.setShopUnavailable(shop, 402);
        await h.queue.enqueueItems(items);
        await workerFailed(items);
      },
    } as ImageWork;
    const job = {
      data: { kind: "new-product-media", shop, productId: product.id, mediaIds: product.mediaIds, eventId: product.eventId },
      attemptsMade: 0,
      opts: { attempts: 8 },
    } as unknown as Job<AutomationJobData>;
    await processAutomationJob(job, { db: h.db, adminFor: offlineAdmin, imageQueue });
    await failedThenPublishedOncePaid(shop, product.mediaIds[0]!);
  }, 90_000);

  it("is added again when it fails while the job is closing the event", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const product = await recordedNewProduct(shop);
    const queued: QueuedItem[] = [];
    const held = { name: h.queue.name, enqueueItems: async (items: QueuedItem[]) => void queued.push(...items) } as ImageWork;
    // The job's work without its close (no event id): the image is added, its job held back, the event still open.
    await cleanNewProductMedia({ db: h.db, graphql: await offlineAdmin(shop), imageQueue: held }, shop, {
      productId: product.id,
      mediaIds: product.mediaIds,
    });
    expect(queued).toHaveLength(1);
    // The close as the job makes it: the event's row locked and nothing failed yet, then Shopify freezes the store
    // and the worker fails the image before the close commits.
    await h.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "NewProductEvent" WHERE id = ${product.eventId} FOR UPDATE`;
        h.shopify.setShopUnavailable(shop, 402);
        await h.queue.enqueueItems(queued);
        const worker = await waitFor(
          async () => ({
            reopensWaiting: await eventReopensWaiting(),
            job: await h.queue.getJob(jobIdForItem(queued[0]!.id)).then((j) => j?.getState()),
          }),
          (seen) => seen.reopensWaiting > 0 || seen.job === "failed",
          "the worker to fail the image",
        );
        // Its reopen waits for the close rather than passing over an event it sees open.
        expect(worker).toEqual({ reopensWaiting: 1, job: "active" });
        await tx.newProductEvent.update({ where: { id: product.eventId }, data: { doneAt: new Date() } });
      },
      { timeout: 60_000 },
    );
    await workerFailed(queued);
    await failedThenPublishedOncePaid(shop, product.mediaIds[0]!);
  }, 90_000);
});

/**
 * Until `run` returns, the database refuses, once, to open an event of `shop` again (a real PostgreSQL error from a
 * trigger, as a dropped connection or a failover would); returns how many reopens were tried.
 */
async function eventReopenRefusedOnce<T>(shop: string, run: () => Promise<T>): Promise<{ result: T; reopensTried: number }> {
  if (!/^[a-z0-9.-]+$/.test(shop)) throw new Error(`unexpected shop domain ${shop}`);
  await h.db.$executeRawUnsafe(`CREATE SEQUENCE test_reopen_tries`);
  await h.db.$executeRawUnsafe(`
    CREATE FUNCTION test_refuse_first_reopen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('test_reopen_tries') = 1 THEN RAISE EXCEPTION 'reopen refused once by the test'; END IF;
      RETURN NEW;
    END $$`);
  await h.db.$executeRawUnsafe(`
    CREATE TRIGGER test_refuse_first_reopen BEFORE UPDATE ON "NewProductEvent" FOR EACH ROW
    WHEN (NEW.shop = '${shop}' AND OLD."doneAt" IS NOT NULL AND NEW."doneAt" IS NULL)
    EXECUTE FUNCTION test_refuse_first_reopen()`);
  try {
    const result = await run();
    const [tries] = await h.db.$queryRaw<Array<{ tried: number }>>`
      SELECT CASE WHEN is_called THEN last_value ELSE 0 END::int AS tried FROM test_reopen_tries`;
    return { result, reopensTried: tries?.tried ?? 0 };
  } finally {
    await h.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS test_refuse_first_reopen ON "NewProductEvent"`);
    await h.db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS test_refuse_first_reopen()`);
    await h.db.$executeRawUnsafe(`DROP SEQUENCE IF EXISTS test_reopen_tries`);
  }
}

describe("an image the rule queued whose event cannot be opened again the first time the store's refusal fails it", () => {
  it("is not left failed with its event closed: the job's retry fails it and opens the event, and it is added once paid", async () => {
    const shop = await shopWithAutoRule(h, { credits: 30 });
    const worker = h.workers[0]!;
    const { reopensTried } = await eventReopenRefusedOnce(shop, async () => {
      // The rule queues the new product's image and closes its event while the image worker is busy.
      await worker.pause();
      try {
        await h.shopify.createProduct(shop, { images: 1 });
        await h.shopify.webhooksDelivered();
        await waitFor(
          () => openEvents(shop),
          (n) => n === 0,
          "the event's job to close the event",
        );
        expect(await h.db.batchItem.count({ where: { shop, state: "QUEUED" } })).toBe(1);
        // Shopify freezes the store before the worker takes the image; failing it, its event is opened again.
        h.shopify.setShopUnavailable(shop, 402);
      } finally {
        worker.resume();
      }
      await settled();
    });
    expect(await openEvents(shop)).toBe(1);
    // The first reopen was refused, and the job's retry opened the event.
    expect(reopensTried).toBe(2);
    const [item] = await h.db.batchItem.findMany({ where: { shop } });
    await failedThenPublishedOncePaid(shop, item!.mediaId);
  }, 90_000);
});
