/**
 * Uninstall while the worker is busy: the image being edited is not published after the uninstall,
 * queued images never start, every credit is either spent on a published image or given back, and
 * no product image is replaced for a cancelled item.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBalance } from "~/models/credits.server";
import { closeQueues } from "~/queue/queue.server";
import { action as indexAction } from "~/routes/app._index";
import { action as uninstalled } from "~/routes/webhooks.app.uninstalled";
import { mediaById, startHarness, type Harness } from "../batches/harness";
import { call, formRequest } from "../routes/helpers";
import { deliver, webhookRequest } from "./helpers";

let h: Harness;

beforeAll(async () => {
  // Long enough that the uninstall lands while the first image is with Qwen.
  h = await startHarness({ dashscope: { latencyMs: 3_000 } });
  process.env.QUEUE_NAME = h.queueName;
  h.startInProcessWorker({ concurrency: 1 });
});
afterAll(async () => {
  await closeQueues();
  await h?.close();
});

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("uninstall while a batch is being processed", () => {
  it("cancels what has not been published, returns its credits and leaves those product images untouched", async () => {
    const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const submitted = (await call(indexAction, await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify([...before.keys()]) }))) as Response;
    expect(submitted.status).toBe(302);
    expect(await getBalance(h.db, shop)).toMatchObject({ reserved: 9 });

    await waitFor(
      () => h.db.batchItem.count({ where: { shop, state: "PROCESSING" } }),
      (n) => n === 1,
      "the worker to start the first image",
    );
    expect(await deliver(uninstalled, webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: {} }))).toBe(200);

    // The worker finishes (or abandons) the image it was holding.
    const items = await waitFor(
      () => h.db.batchItem.findMany({ where: { shop }, select: { id: true, mediaId: true, state: true } }),
      (rows) => rows.every((row) => row.state !== "PROCESSING" && row.state !== "QUEUED"),
      "every item to settle",
    );
    await waitFor(() => h.queue.getJobCountByTypes("active", "waiting", "delayed"), (n) => n === 0, "the queue to drain");

    const published = items.filter((item) => item.state === "PUBLISHED");
    expect(items.every((item) => item.state === "PUBLISHED" || item.state === "CANCELLED")).toBe(true);
    expect(published.length).toBe(0);
    expect(await getBalance(h.db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });

    const after = mediaById(h.shopify, shop);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const item of items) expect(after.get(item.mediaId)?.sha256).toBe(before.get(item.mediaId)?.sha256);
    // Only the image already with Qwen was sent; the queued ones never started.
    expect(h.dashscope.requests().length).toBeLessThanOrEqual(1);
  });
});
