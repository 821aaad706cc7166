/**
 * Issue 17, the automatic rule: new products' images are cleaned with no one in the app. The Shopify stand-in sends
 * products/create and products/update (signed, real payload shape) to the app's routes over HTTP; the worker and the
 * automation worker run in this process.
 */
import { describe, expect, it } from "vitest";
import { i18nFor } from "~/i18n/locales";
import { acceptProductWebhook, getAutoRule, productWebhookSchema, resumeNewProductEvents, saveAutoRule } from "~/models/auto-rule.server";
import { restoreItem } from "~/models/batches.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import type { AutomationWork } from "~/models/work-queues.server";
import { getAutomationQueue, newProductMediaJobId } from "~/queue/automation.server";
import { action as productsCreate } from "~/routes/webhooks.products.create";
import { action as productsUpdate } from "~/routes/webhooks.products.update";
import { mediaById, offlineAdmin } from "../batches/harness";
import { deliver, webhookRequest } from "../lifecycle/helpers";
import { waitFor } from "../wait";
import { automationHarnessForFile, shopWithAutoRule } from "./automation-harness";

const h = automationHarnessForFile({
  routes: { "/webhooks/products/create": productsCreate, "/webhooks/products/update": productsUpdate },
  imageWorker: {},
});

const shopWithRule = (credits: number, rule: Record<string, string> = {}) => shopWithAutoRule(h, { credits, rule });

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
  );
  await h.shopify.webhooksDelivered();
}

const productHooks = (shop: string, productId: string, topic: string) =>
  h.shopify
    .sentWebhooks()
    .filter(
      (w) => w.shop === shop && w.topic === topic && (w.payload as { admin_graphql_api_id: string }).admin_graphql_api_id === productId,
    );

describe("automatic rule for new products", () => {
  it("cleans a new product's two images with no one in the app; its own write-back and a restore start nothing", async () => {
    const shop = await shopWithRule(30);
    const { id: productId, mediaIds } = await h.shopify.createProduct(shop, { images: 2 });
    const before = mediaById(h.shopify, shop);
    expect(productHooks(shop, productId, "products/create").map((w) => w.status)).toEqual([200]);

    const batch = await waitFor(
      () => h.db.batch.findFirst({ where: { shop, origin: "NEW_PRODUCTS" }, include: { items: true } }),
      (b) => b !== null && b.status === "DONE",
      "the automatic batch to finish",
    );
    expect(batch!.items.map((i) => i.mediaId).sort()).toEqual([...mediaIds].sort());
    expect(batch!.items.map((i) => i.state)).toEqual(["PUBLISHED", "PUBLISHED"]);
    const after = mediaById(h.shopify, shop);
    for (const mediaId of mediaIds) expect(after.get(mediaId)!.sha256).not.toBe(before.get(mediaId)!.sha256);

    // The two replacements made Shopify send products/update; the app answered and started nothing.
    await settled();
    expect(productHooks(shop, productId, "products/update").map((w) => w.status)).toEqual([200, 200]);
    expect(await h.db.batch.count({ where: { shop } })).toBe(1);
    expect(h.dashscope.requests().length).toBe(2);
    expect(await getBalance(h.db, shop)).toEqual({ available: 24, reserved: 0, total: 24 });

    // The merchant restores one image on purpose: its products/update does not clean it again.
    const restored = batch!.items[0]!;
    await restoreItem({ db: h.db, graphql: await offlineAdmin(shop) }, shop, restored.id);
    await waitFor(
      async () => mediaById(h.shopify, shop).get(restored.mediaId)!.sha256,
      (sha) => sha === before.get(restored.mediaId)!.sha256,
      "the original to be back",
    );
    await waitFor(
      async () => productHooks(shop, productId, "products/update").length,
      (n) => n === 3,
      "the restore's products/update",
    );
    await settled();
    expect(productHooks(shop, productId, "products/update").map((w) => w.status)).toEqual([200, 200, 200]);
    expect(await h.db.batch.count({ where: { shop } })).toBe(1);
    expect(await h.db.batchItem.findUnique({ where: { id: restored.id } })).toMatchObject({ state: "RESTORED" });
    expect(h.dashscope.requests().length).toBe(2);
    expect(mediaById(h.shopify, shop).get(restored.mediaId)!.sha256).toBe(before.get(restored.mediaId)!.sha256);

    // A photo added later is new: only it is cleaned.
    const [added] = await h.shopify.addProductImages(shop, productId, 1);
    const second = await waitFor(
      () => h.db.batch.findMany({ where: { shop, origin: "NEW_PRODUCTS" }, include: { items: true }, orderBy: { createdAt: "asc" } }),
      (batches) => batches.length === 2 && batches[1]!.status === "DONE",
      "the added photo's batch",
    );
    expect(second[1]!.items.map((i) => [i.mediaId, i.state])).toEqual([[added, "PUBLISHED"]]);
  });

  it("starts one job for an event delivered ten times", async () => {
    const shop = await shopWithRule(30, { reviewBeforePublish: "on" });
    const { payload, mediaIds } = await h.shopify.createProduct(shop, { images: 2, sendWebhook: false });
    const eventId = `evt-${shop}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        h.shopify
          .sendWebhook({ topic: "products/create", shop, payload, path: "/webhooks/products/create", eventId })
          .then((r) => r.status),
      ),
    );
    expect(answers).toEqual(Array(10).fill(200));
    const batch = await waitFor(
      () => h.db.batch.findMany({ where: { shop }, include: { items: true } }),
      (batches) => batches.length > 0 && batches[0]!.items.every((i) => i.state === "NEEDS_REVIEW"),
      "the images to be held for review",
    );
    await settled();
    expect(await h.db.batch.count({ where: { shop } })).toBe(1);
    expect(batch[0]!.items.map((i) => i.mediaId).sort()).toEqual([...mediaIds].sort());
    expect(await getAutomationQueue(h.queueName).getJob(newProductMediaJobId(eventId))).toBeTruthy();
    expect(await h.db.webhookEvent.count({ where: { id: eventId } })).toBe(1);
    // Held for review: nothing on the product changed, and the credits stay held for the merchant's decision.
    expect(await getBalance(h.db, shop)).toEqual({ available: 24, reserved: 6, total: 30 });
  });

  it("pauses when the monthly budget runs out, says so, and never overdraws", async () => {
    const shop = await shopWithRule(30, { monthlyBudget: "9" });
    await h.shopify.createProduct(shop, { images: 4 });
    const batch = await waitFor(
      () => h.db.batch.findFirst({ where: { shop, origin: "NEW_PRODUCTS" }, include: { items: true } }),
      (b) => b !== null && b.status === "DONE",
      "the automatic batch to finish",
    );
    expect(batch!.items).toHaveLength(3);
    expect(batch!.note).toMatch(/budget of 9 credits is used up, so 1 new image was not cleaned/);
    const rule = await getAutoRule(h.db, shop);
    expect(rule).toMatchObject({ pausedFor: "budget", spentThisMonth: 9 });
    expect(rule.pauseReason).toMatch(/Raise the budget in Settings/);
    // Stored as a code too, so a merchant whose admin is in Spanish reads it in Spanish (issue 18).
    expect(rule.pauseMessage).toEqual({ code: "autoRulePausedBudget", params: { budget: 9, count: 1 } });
    expect(batch!.noteMessage).toEqual(rule.pauseMessage);
    expect(i18nFor("es").t(`messages.${rule.pauseMessage!.code}`, rule.pauseMessage!.params)).toMatch(
      /^La limpieza automática está en pausa: se agotó el presupuesto de 9 créditos de este mes, así que 1 imagen nueva no se limpió\./,
    );

    // While paused, another new product starts nothing.
    await h.shopify.createProduct(shop, { images: 1 });
    await settled();
    expect(await h.db.batch.count({ where: { shop } })).toBe(1);
    expect(await getBalance(h.db, shop)).toEqual({ available: 21, reserved: 0, total: 21 });
  });

  it("pauses when the balance runs out, with what to do, and never goes negative", async () => {
    const shop = await shopWithRule(7);
    await h.shopify.createProduct(shop, { images: 3 });
    const batch = await waitFor(
      () => h.db.batch.findFirst({ where: { shop, origin: "NEW_PRODUCTS" }, include: { items: true } }),
      (b) => b !== null && b.status === "DONE",
      "the automatic batch to finish",
    );
    expect(batch!.items.map((i) => i.state)).toEqual(["PUBLISHED", "PUBLISHED"]);
    expect(batch!.note).toMatch(/balance ran out, so 1 new image was not cleaned\. Buy credits on the Credits page/);
    expect((await getAutoRule(h.db, shop)).pausedFor).toBe("balance");
    await settled();
    expect(await getBalance(h.db, shop)).toEqual({ available: 1, reserved: 0, total: 1 });
  });

  it("cleans what arrived during a pause once the merchant resumes, and takes up an event whose job was lost", async () => {
    const shop = await shopWithRule(3);
    const automationQueue = getAutomationQueue(h.queueName);
    const first = await h.shopify.createProduct(shop, { images: 2 });
    await settled();
    expect((await getAutoRule(h.db, shop)).pausedFor).toBe("balance");
    // A product arriving while paused is remembered, not cleaned; resuming passes leave it while the pause lasts.
    const second = await h.shopify.createProduct(shop, { images: 1 });
    await settled();
    // Both products' events (and products/update events naming the same new media) wait.
    const waiting = await h.db.newProductEvent.findMany({ where: { shop, doneAt: null } });
    expect(new Set(waiting.map((e) => e.productId))).toEqual(new Set([first.id, second.id]));
    expect(await resumeNewProductEvents(h.db, automationQueue)).toBe(0);

    await grantCredits(h.db, shop, 30, { kind: "GRANT", idempotencyKey: `test:resume:${shop}` });
    expect(
      (await saveAutoRule(h.db, shop, { enabled: "on", pipeline: "amazon", images: "all", reviewBeforePublish: "", monthlyBudget: "" })).ok,
    ).toBe(true);
    expect(await resumeNewProductEvents(h.db, automationQueue)).toBe(waiting.length);
    await settled();
    const items = await h.db.batchItem.findMany({ where: { shop }, select: { mediaId: true, state: true } });
    expect(items.map((i) => i.mediaId).sort()).toEqual([...first.mediaIds, ...second.mediaIds].sort());
    expect(items.every((i) => i.state === "PUBLISHED")).toBe(true);
    expect(await h.db.newProductEvent.count({ where: { shop, doneAt: null } })).toBe(0);

    // Redis loses an event's job (accepted, recorded, but its job is gone): the next resume pass takes it up.
    const lost = await h.shopify.createProduct(shop, { images: 1, sendWebhook: false });
    const forgetful = { name: automationQueue.name, enqueueNewProductMedia: async () => undefined } as unknown as AutomationWork;
    await acceptProductWebhook({ db: h.db, queue: forgetful }, shop, `evt-lost-${shop}`, productWebhookSchema.parse(lost.payload));
    expect(await resumeNewProductEvents(h.db, automationQueue)).toBe(1);
    await settled();
    expect((await h.db.batchItem.findFirst({ where: { shop, mediaId: lost.mediaIds[0]! } }))?.state).toBe("PUBLISHED");
    expect(await h.db.newProductEvent.count({ where: { shop, doneAt: null } })).toBe(0);
    // Nothing was cleaned twice.
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(4);
  });
});

describe("product webhook routes", () => {
  it("refuse forged, mis-routed and malformed deliveries and change nothing", async () => {
    const shop = await shopWithRule(30);
    const { payload } = await h.shopify.createProduct(shop, { images: 1, sendWebhook: false });
    const path = "/webhooks/products/create";
    expect(
      await deliver(productsCreate, webhookRequest(path, { topic: "products/create", shop, payload, secret: "not-the-app-secret" })),
    ).toBe(401);
    expect(await deliver(productsCreate, webhookRequest(path, { topic: "products/update", shop, payload }))).toBe(400);
    expect(
      await deliver(productsUpdate, webhookRequest("/webhooks/products/update", { topic: "products/update", shop, payload: { id: 1 } })),
    ).toBe(400);
    await settled();
    expect(await h.db.batch.count({ where: { shop } })).toBe(0);
    // The same payload, signed: accepted and cleaned.
    expect(await deliver(productsCreate, webhookRequest(path, { topic: "products/create", shop, payload }))).toBe(200);
    await waitFor(
      () => h.db.batchItem.count({ where: { shop } }),
      (n) => n === 1,
      "the image to be queued",
    );
  });
});
