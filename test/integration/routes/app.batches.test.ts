import { describe, expect, it } from "vitest";
import { getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { action as indexAction } from "~/routes/app._index/route";
import { loader as batchesLoader } from "~/routes/app.batches._index";
import { loader as batchLoader } from "~/routes/app.batches.$id";
import { action as restoreBatchAction } from "~/routes/app.batches.$id.restore";
import { loader as processedLoader } from "~/routes/app.images.$id.processed";
import { action as approveAction } from "~/routes/app.items.$id.approve";
import { action as rejectAction } from "~/routes/app.items.$id.reject";
import { action as restoreAction } from "~/routes/app.items.$id.restore";
import { action as publishAction } from "~/routes/app.items.$id.publish";
import { action as retryAction } from "~/routes/app.items.$id.retry";
import { harnessForFile, mediaById } from "../batches/harness";
import { bearerRequest, body, call, formRequest, status } from "./helpers";

const h = harnessForFile({ worker: { concurrency: 3 }, routesEnqueue: true });

interface Progress {
  batch: { id: string; status: string; creditsUsed: number };
  counts: Record<string, number>;
  done: number;
  retentionDays: number;
  total: number;
  items: Array<{
    id: string;
    mediaId: string;
    originalUrl: string;
    state: string;
    reason: string | null;
    compliance: { passed: boolean; rules: Array<{ label: string; measured: unknown }> } | null;
    framing: { edges: string[]; message: string | null } | null;
  }>;
  pipelineLabel: string;
}

/** Until the worker has nothing left of this batch (held-for-review items keep a batch open). */
async function waitForWorker(shop: string, batchId: string): Promise<void> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const progress = await getBatchProgress(h.db, shop, batchId);
    if (progress && progress.counts.QUEUED + progress.counts.PROCESSING === 0) return;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} still has work: ${JSON.stringify(progress?.counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Submits the Images page form for the first `count` images and waits until the worker is done. */
async function runBatch(shop: string, count: number, pipeline = "amazon"): Promise<Progress> {
  const mediaIds = [...mediaById(h.shopify, shop).keys()].slice(0, count);
  const result = (await call(
    indexAction,
    await formRequest(shop, "/app?index", { pipeline, mediaIds: JSON.stringify(mediaIds) }),
  )) as Response;
  expect(result.status).toBe(302);
  const batchId = /batches\/([0-9a-f-]{36})/.exec(result.headers.get("location") ?? "")![1]!;
  await waitForWorker(shop, batchId);
  return body<Progress>(await call(batchLoader, await bearerRequest(shop, `/app/batches/${batchId}`), { id: batchId }));
}

async function post(fn: typeof restoreAction, shop: string, path: string, id: string) {
  const result = await call(fn, await bearerRequest(shop, path, { method: "POST" }), { id });
  return { status: status(result), body: await body<{ ok: boolean; message?: string; error?: string }>(result) };
}

describe("Batch page and its actions", () => {
  it("shows a finished batch with counts, compliance measurements and credits used, only to its shop", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 2, credits: 30 });
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 0 });
    const progress = await runBatch(shop, 3);
    expect(progress.pipelineLabel).toMatch(/Amazon/);
    expect(progress.total).toBe(3);
    expect(progress.done).toBe(3);
    expect(progress.counts.PUBLISHED).toBe(3);
    expect(progress.batch.creditsUsed).toBe(9);
    // The merchant is told how long processed images stay downloadable; they live in the object store, not the database.
    expect(progress.retentionDays).toBe(30);
    const stored = await h.db.storedImage.findMany({ where: { shop } });
    expect(stored).toHaveLength(3);
    expect(stored.every((s) => s.bytes === null && s.objectKey !== null)).toBe(true);
    for (const item of progress.items) {
      expect(item.compliance?.rules.length).toBeGreaterThan(0);
      expect(item.compliance?.rules.every((r) => r.measured !== undefined)).toBe(true);
      // The generated products lie whole inside their originals: no "only part of the product" notice.
      expect(item.framing).toMatchObject({ edges: [], message: null });
    }

    const list = await body<{ batches: Array<{ id: string; creditsUsed: number; published: number }> }>(
      await call(batchesLoader, await bearerRequest(shop, "/app/batches")),
    );
    expect(list.batches).toEqual([expect.objectContaining({ id: progress.batch.id, creditsUsed: 9, published: 3 })]);
    const otherList = await body<{ batches: unknown[] }>(await call(batchesLoader, await bearerRequest(other, "/app/batches")));
    expect(otherList.batches).toHaveLength(0);

    const foreign = await call(batchLoader, await bearerRequest(other, `/app/batches/${progress.batch.id}`), { id: progress.batch.id });
    expect(status(foreign)).toBe(404);
  });

  it("serves the processed image for before/after to its own shop only", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3 });
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 0 });
    const progress = await runBatch(shop, 1);
    const itemId = progress.items[0]!.id;
    const own = (await call(processedLoader, await bearerRequest(shop, `/app/images/${itemId}/processed`), { id: itemId })) as Response;
    expect(own.status).toBe(200);
    expect(own.headers.get("content-type")).toMatch(/^image\//);
    const bytes = Buffer.from(await own.arrayBuffer());
    const now = mediaById(h.shopify, shop).get(progress.items[0]!.mediaId)!;
    const { createHash } = await import("node:crypto");
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(now.sha256);
    const foreign = await call(processedLoader, await bearerRequest(other, `/app/images/${itemId}/processed`), { id: itemId });
    expect(status(foreign)).toBe(404);

    // The gallery's tiles ask a smaller JPEG of the same picture; an arbitrary width gets the full image.
    const tile = (await call(processedLoader, await bearerRequest(shop, `/app/images/${itemId}/processed?w=480`), {
      id: itemId,
    })) as Response;
    expect(tile.headers.get("content-type")).toBe("image/jpeg");
    const tileBytes = Buffer.from(await tile.arrayBuffer());
    const { default: sharp } = await import("sharp");
    const meta = await sharp(tileBytes).metadata();
    expect(Math.max(meta.width, meta.height)).toBe(480);
    expect(tileBytes.length).toBeLessThan(bytes.length);
    // The browser revalidates the tile with its ETag and is told it still has it.
    const etag = tile.headers.get("etag");
    expect(etag).toMatch(/^".+"$/);
    const revalidated = (await call(
      processedLoader,
      await bearerRequest(shop, `/app/images/${itemId}/processed?w=480`, { headers: { "If-None-Match": etag! } }),
      { id: itemId },
    )) as Response;
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get("etag")).toBe(etag);
    const odd = (await call(processedLoader, await bearerRequest(shop, `/app/images/${itemId}/processed?w=4000`), {
      id: itemId,
    })) as Response;
    expect(Buffer.from(await odd.arrayBuffer()).equals(bytes)).toBe(true);
    expect(status(await call(processedLoader, await bearerRequest(other, `/app/images/${itemId}/processed?w=480`), { id: itemId }))).toBe(
      404,
    );
  });

  it("restores one image, then the rest of the batch, putting the original bytes back in place", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 3, credits: 9 });
    const originals = mediaById(h.shopify, shop);
    const progress = await runBatch(shop, 3);
    const [first, ...rest] = progress.items;
    // The page's "before" shows the original (its backup in Files), not what the product shows now.
    const { createHash } = await import("node:crypto");
    for (const item of progress.items) {
      const bytes = Buffer.from(await (await fetch(item.originalUrl)).arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(originals.get(item.mediaId)!.sha256);
    }

    const one = await post(restoreAction, shop, `/app/items/${first!.id}/restore`, first!.id);
    expect(one).toEqual({
      status: 200,
      body: { ok: true, message: "Original image restored.", messageCode: "itemRestored", messageParams: {} },
    });
    expect(mediaById(h.shopify, shop).get(first!.mediaId)!.sha256).toBe(originals.get(first!.mediaId)!.sha256);
    const again = await post(restoreAction, shop, `/app/items/${first!.id}/restore`, first!.id);
    expect(again.status).toBe(200);

    const all = await post(restoreBatchAction, shop, `/app/batches/${progress.batch.id}/restore`, progress.batch.id);
    expect(all).toEqual({
      status: 200,
      body: {
        ok: true,
        message: "Restoring 2 original images; this page shows the progress.",
        messageCode: "batchRestoreQueued",
        messageParams: { count: 2 },
      },
    });
    await h.waitForRestores(shop, progress.batch.id);
    const now = mediaById(h.shopify, shop);
    for (const item of rest) expect(now.get(item.mediaId)!.sha256).toBe(originals.get(item.mediaId)!.sha256);
    expect(now.size).toBe(originals.size);
    const reloaded = await body<Progress>(
      await call(batchLoader, await bearerRequest(shop, `/app/batches/${progress.batch.id}`), { id: progress.batch.id }),
    );
    expect(reloaded.counts.RESTORED).toBe(3);
  });

  it("holds images for review when the shop asks; approve publishes, reject keeps the original and refunds", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 2, credits: 6 });
    await h.db.shop.update({ where: { domain: shop }, data: { reviewBeforePublish: true } });
    const originals = mediaById(h.shopify, shop);
    const progress = await runBatch(shop, 2);
    expect(progress.counts.NEEDS_REVIEW).toBe(2);
    const [keep, drop] = progress.items;

    const rejected = await post(rejectAction, shop, `/app/items/${drop!.id}/reject`, drop!.id);
    expect(rejected.status).toBe(200);
    expect(rejected.body.message).toMatch(/credits were given back/);
    expect(mediaById(h.shopify, shop).get(drop!.mediaId)!.sha256).toBe(originals.get(drop!.mediaId)!.sha256);

    const approved = await post(approveAction, shop, `/app/items/${keep!.id}/approve`, keep!.id);
    expect(approved.status).toBe(200);
    await waitForWorker(shop, progress.batch.id);
    const final = await body<Progress>(
      await call(batchLoader, await bearerRequest(shop, `/app/batches/${progress.batch.id}`), { id: progress.batch.id }),
    );
    expect(final.counts).toMatchObject({ PUBLISHED: 1, REJECTED: 1 });
    expect(mediaById(h.shopify, shop).get(keep!.mediaId)!.sha256).not.toBe(originals.get(keep!.mediaId)!.sha256);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 0 });

    const late = await post(rejectAction, shop, `/app/items/${keep!.id}/reject`, keep!.id);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: expect.stringMatching(/Only images waiting for review/), errorCode: "rejectWrongState" });
    expect(await h.db.batchItem.findUniqueOrThrow({ where: { id: drop!.id } })).toMatchObject({
      state: "REJECTED",
      reasonMessage: { code: "itemRejectedByYou" },
    });
  });

  it("tries an image again with a note from the form, lists both versions and publishes the earlier one again", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 6 });
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 9 });
    const progress = await runBatch(shop, 1);
    const first = progress.items[0]!;
    const retry = async (as: string, fields: Record<string, string>) => {
      const result = await call(retryAction, await formRequest(as, `/app/items/${first.id}/retry`, fields), { id: first.id });
      return { status: status(result), body: await body<{ ok: boolean; message?: string; error?: string }>(result) };
    };

    expect(await retry(shop, { instruction: "a".repeat(201) })).toEqual({
      status: 400,
      body: { ok: false, error: "Keep the note to 200 characters (it has 201). Say the one thing that should change." },
    });
    expect((await retry(other, { instruction: "less shadow" })).status).toBe(404);
    expect(await getBalance(h.db, other)).toMatchObject({ available: 9, reserved: 0 });

    const queued = await retry(shop, { instruction: "less shadow" });
    expect(queued).toEqual({
      status: 200,
      body: {
        ok: true,
        message: expect.stringContaining("3 credits, charged only if it succeeds"),
        messageCode: "retryQueued",
        messageParams: { count: 3 },
      },
    });
    await waitForWorker(shop, progress.batch.id);
    type WithVersions = Progress & {
      items: Array<
        Progress["items"][number] & {
          instruction: string | null;
          versions: Array<{ id: string; state: string; instruction: string | null }>;
        }
      >;
    };
    const page = await body<WithVersions>(
      await call(batchLoader, await bearerRequest(shop, `/app/batches/${progress.batch.id}`), { id: progress.batch.id }),
    );
    expect(page.total).toBe(1);
    expect(page.counts.PUBLISHED).toBe(1);
    expect(page.items[0]!.versions.map((v) => [v.state, v.instruction])).toEqual([
      ["SUPERSEDED", null],
      ["PUBLISHED", "less shadow"],
    ]);

    expect((await post(publishAction, other, `/app/items/${first.id}/publish`, first.id)).status).toBe(404);
    const picked = await post(publishAction, shop, `/app/items/${first.id}/publish`, first.id);
    expect(picked).toEqual({
      status: 200,
      body: {
        ok: true,
        message: "This version will replace the product image in a moment, at no charge.",
        messageCode: "versionQueuedFree",
        messageParams: {},
      },
    });
    await waitForWorker(shop, progress.batch.id);
    expect((await h.db.batchItem.findUniqueOrThrow({ where: { id: first.id } })).state).toBe("PUBLISHED");
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
  });

  it("answers 404 when a shop acts on another shop's image", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 3 });
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 0 });
    const progress = await runBatch(shop, 1);
    const itemId = progress.items[0]!.id;
    const restore = await post(restoreAction, other, `/app/items/${itemId}/restore`, itemId);
    expect(restore.status).toBe(404);
    const restoreAll = await post(restoreBatchAction, other, `/app/batches/${progress.batch.id}/restore`, progress.batch.id);
    expect(restoreAll.status).toBe(404);
    expect((await h.db.batchItem.findUniqueOrThrow({ where: { id: itemId } })).state).toBe("PUBLISHED");
  });
});
