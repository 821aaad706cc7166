/**
 * Uninstall while the worker is busy: the image being edited is not published after the uninstall,
 * queued images never start, every credit is either spent on a published image or given back, and
 * no product image is replaced for a cancelled item.
 */
import { describe, expect, it } from "vitest";
import { restoreItem } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { recordInstall } from "~/models/shops.server";
import { sweepOnce } from "~/queue/sweep.server";
import { action as indexAction } from "~/routes/app._index/route";
import { action as uninstalled } from "~/routes/webhooks.app.uninstalled";
import { harnessForFile, installShop, mediaById, offlineAdmin, settledBySweep } from "../batches/harness";
import { call, formRequest } from "../routes/helpers";
import { deliver, webhookRequest } from "./helpers";
import { waitFor } from "../wait";

// Qwen's latency is long enough that the uninstall lands while the first image is with it.
const h = harnessForFile({ harness: { dashscope: { latencyMs: 3_000 } }, worker: { concurrency: 1 }, routesEnqueue: true });

describe("uninstall while a batch is being processed", () => {
  it("cancels what has not been published, returns its credits and leaves those product images untouched", async () => {
    const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const submitted = (await call(
      indexAction,
      await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify([...before.keys()]) }),
    )) as Response;
    expect(submitted.status).toBe(302);
    expect(await getBalance(h.db, shop)).toMatchObject({ reserved: 9 });

    await waitFor(
      () => h.db.batchItem.count({ where: { shop, state: "PROCESSING" } }),
      (n) => n === 1,
      "the worker to start the first image",
    );
    h.shopify.uninstallApp(shop);
    expect(await deliver(uninstalled, webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: {} }))).toBe(
      200,
    );

    // The worker finishes (or abandons) the image it was holding.
    const items = await waitFor(
      () => h.db.batchItem.findMany({ where: { shop }, select: { id: true, mediaId: true, state: true } }),
      (rows) => rows.every((row) => row.state !== "PROCESSING" && row.state !== "QUEUED"),
      "every item to settle",
    );
    await waitFor(
      () => h.queue.getJobCountByTypes("active", "waiting", "delayed"),
      (n) => n === 0,
      "the queue to drain",
    );

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

describe("uninstall just before the worker replaces an image", () => {
  it("either keeps the image untouched or publishes it paid and restorable, never replaced and cancelled", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const before = mediaById(h.shopify, shop);
    const [mediaId, original] = [...before][0]!;
    // The worker has passed its last cancel check; the uninstall webhook is handled before its fileUpdate runs.
    let uninstalledAt = 0;
    h.shopify.beforeNextOperation(shop, "CatalogReplaceMediaImage", async () => {
      h.shopify.uninstallApp(shop);
      expect(await deliver(uninstalled, webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: {} }))).toBe(
        200,
      );
      uninstalledAt = Date.now();
    });
    const submitted = (await call(
      indexAction,
      await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify([mediaId]) }),
    )) as Response;
    expect(submitted.status).toBe(302);

    // The uninstall took the shop's token, so the worker cannot read a replaced media back.
    const item = await waitFor(
      () => h.db.batchItem.findFirstOrThrow({ where: { shop }, select: { state: true, replaceSentAt: true } }),
      (row) =>
        uninstalledAt > 0 &&
        (row.state === "CANCELLED" ||
          row.state === "PUBLISHED" ||
          (row.replaceSentAt !== null && mediaById(h.shopify, shop).get(mediaId)?.status === "READY")),
      "the item to be cancelled, published, or replaced with its credits held",
      60_000,
    );
    const balance = await getBalance(h.db, shop);
    const now = mediaById(h.shopify, shop).get(mediaId)!;
    if (now.sha256 === original.sha256) {
      expect(item.state).toBe("CANCELLED");
      expect(balance).toEqual({ available: 30, reserved: 0, total: 30 });
      return;
    }
    // Replaced: the item is not cancelled and its credits are not given back blindly; they stay held until the media
    // can be read again (a reinstall lets the sweep settle it), and the first original is kept to restore.
    expect(item.state === "PUBLISHED" || (item.state === "PROCESSING" && item.replaceSentAt !== null)).toBe(true);
    expect(balance.available).toBe(27);
    expect(balance.total).toBe(item.state === "PUBLISHED" ? 27 : 30);
    const backup = await h.db.imageBackup.findFirstOrThrow({ where: { shop, mediaId } });
    expect(h.shopify.files(shop).find((f) => f.id === backup.fileId)?.sha256).toBe(original.sha256);
  }, 120_000);
});

describe("uninstall once the replacement was sent", () => {
  it("ends the job at once with the credits held, and after a reinstall the sweep publishes the image, paid once", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 30 });
    const [mediaId, original] = [...mediaById(h.shopify, shop)][0]!;
    // Shopify takes the fileUpdate; the uninstall, handled meanwhile, took the token the worker reads the media back with.
    // Shopify's processing of the new image outlasts the job (it did on a loaded machine).
    h.shopify.setSlowNextFileUpdate(shop, 1_500);
    h.shopify.beforeNextOperation(shop, "CatalogReplaceMediaImage", async () => {
      h.shopify.uninstallApp(shop);
      expect(await deliver(uninstalled, webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: {} }))).toBe(
        200,
      );
    });
    const submitted = (await call(
      indexAction,
      await formRequest(shop, "/app?index", { pipeline: "amazon", mediaIds: JSON.stringify([mediaId]) }),
    )) as Response;
    expect(submitted.status).toBe(302);
    const { id: itemId } = await h.db.batchItem.findFirstOrThrow({ where: { shop } });

    // No retry can read the media while the app is uninstalled: the first attempt is the last.
    const job = await waitFor(
      async () => {
        const found = await h.queue.getJob(itemId);
        return { state: await found?.getState(), started: found?.attemptsStarted };
      },
      (j) => j.state === "failed" || j.state === "delayed" || j.state === "completed" || (j.started ?? 0) > 1,
      "the job's first attempt to end",
      60_000,
    );
    expect(job).toEqual({ state: "failed", started: 1 });
    // The image may be live, so it is neither failed nor cancelled and its credits are neither given back nor taken.
    const parked = await h.db.batchItem.findUniqueOrThrow({ where: { id: itemId } });
    expect(parked.state).toBe("PROCESSING");
    expect(parked.replaceSentAt).not.toBeNull();
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 3, total: 30 });
    // Shopify took the replacement and processes it in the background (the job may end before it is done).
    const replaced = await waitFor(
      async () => mediaById(h.shopify, shop).get(mediaId)!,
      (media) => media.status !== "PROCESSING",
      "Shopify to finish processing the replacement",
      30_000,
    );
    expect(replaced).toMatchObject({ replacements: 1, status: "READY" });
    expect(replaced.sha256).not.toBe(original.sha256);

    // While the shop is uninstalled the sweep leaves it as it is rather than running it again and again.
    await sweepOnce({ db: h.db, queue: h.queue }, { graceMs: 0 });
    expect(await (await h.queue.getJob(itemId))?.getState()).toBe("failed");
    expect(await h.db.batchItem.findUniqueOrThrow({ where: { id: itemId } })).toMatchObject({ state: "PROCESSING" });
    expect(await getBalance(h.db, shop)).toEqual({ available: 27, reserved: 3, total: 30 });

    // The merchant opens the app again: the next sweep reads the media, finds the replacement live and publishes it.
    await installShop(h.db, h.shopify, shop);
    const session = await h.db.session.findFirstOrThrow({ where: { shop, isOnline: false } });
    await recordInstall({ db: h.db, graphql: await offlineAdmin(shop) }, shop, session.scope);
    const reinstalled = await getBalance(h.db, shop);
    expect(reinstalled.reserved).toBe(3);
    const settled = await settledBySweep(h, itemId, "the item to be settled after the reinstall");
    expect(settled.state).toBe("PUBLISHED");
    expect(await getBalance(h.db, shop)).toEqual({ available: reinstalled.available, reserved: 0, total: reinstalled.total - 3 });
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(1);
    // Not sent a second time, and the original comes back from its backup.
    expect(mediaById(h.shopify, shop).get(mediaId)).toMatchObject({ replacements: 1 });
    await restoreItem({ db: h.db, graphql: await offlineAdmin(shop) }, shop, itemId);
    expect(mediaById(h.shopify, shop).get(mediaId)!.sha256).toBe(original.sha256);
  }, 120_000);
});
