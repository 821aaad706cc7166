import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";

const QUOTA_RPS = 2;

let h: Harness;
let cdn: Server;
let brokenUrl: string;
const previousBackoff = process.env.JOB_BACKOFF_MS;

beforeAll(async () => {
  // Short retry backoff so 5xx retries do not dominate the run (the policy is the same, only faster).
  process.env.JOB_BACKOFF_MS = "300";
  // The worker may try up to twice the quota per second, so about half its calls are answered 429.
  // Seed 7: the stand-in's 5xx draws (20%) hit five of the first twenty accepted calls.
  h = await startHarness({ qwenMaxRps: QUOTA_RPS * 2, dashscope: { latencyMs: 100, seed: 7 } });
  h.startInProcessWorker({ concurrency: 4 });
  // Bytes that claim to be a JPEG but stop half-way, as a broken upload on a CDN would.
  const jpeg = Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb,
  ]);
  cdn = createServer((_req, res) => res.writeHead(200, { "content-type": "image/jpeg" }).end(jpeg));
  await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
  brokenUrl = `http://127.0.0.1:${(cdn.address() as { port: number }).port}/s/files/broken.jpg`;
  process.env.SAFE_FETCH_LOCAL_HOSTS += `,${new URL(brokenUrl).host}`;
});

afterAll(async () => {
  if (previousBackoff === undefined) delete process.env.JOB_BACKOFF_MS;
  else process.env.JOB_BACKOFF_MS = previousBackoff;
  await h?.close();
  await new Promise<void>((resolve) => (cdn ? cdn.close(() => resolve()) : resolve()));
});

function maxInAnySecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe("Qwen faults", () => {
  it("completes a batch when half the calls get 429 and a fifth get 5xx: nothing fails, the app never sends more than its configured rate", async () => {
    h.dashscope.setOptions({ rps: QUOTA_RPS, errorRate5xx: 0.2, dataInspectionFailed: false });
    const before = h.dashscope.stats();
    const started = Date.now();
    const shop = await h.addShop({ products: 4, imagesPerProduct: 2, credits: 24 });
    const media = mediaById(h.shopify, shop);
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...media.keys()],
      pipeline: "amazon",
    });

    const progress = await h.waitForBatch(shop, batchId, 150_000);
    const after = h.dashscope.stats();
    expect(progress.counts.FAILED).toBe(0);
    expect(progress.counts.PUBLISHED).toBe(8);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 0 });
    for (const [mediaId, was] of media) expect(mediaById(h.shopify, shop).get(mediaId)!.sha256).not.toBe(was.sha256);
    // The faults did happen: rate-limit answers and server errors, then retries that succeeded.
    expect(after.throttled - before.throttled).toBeGreaterThan(0);
    expect(after.failed - before.failed).toBeGreaterThan(0);
    expect(after.succeeded - before.succeeded).toBe(8);
    // What the app controls: its own limiter never sends more than QWEN_MAX_RPS in any second, throttled calls
    // included (the stand-in answers 429 above its lower quota, so its accepted count alone could not fail).
    const sent = h.dashscope
      .requests()
      .filter((r) => r.receivedAt >= started)
      .map((r) => r.receivedAt);
    expect(sent.length).toBeGreaterThan(8);
    expect(maxInAnySecond(sent)).toBeLessThanOrEqual(QUOTA_RPS * 2);
  }, 200_000);

  it("fails the image Qwen refuses and the one whose source is corrupt, with readable reasons and credits back; the rest is published", async () => {
    let refused = false;
    h.dashscope.setOptions({
      rps: undefined,
      errorRate5xx: 0,
      // The first image the service inspects is refused, as DataInspectionFailed does for sensitive content.
      dataInspectionFailed: () => {
        if (refused) return false;
        refused = true;
        return true;
      },
    });
    const shop = await h.addShop({ products: 3, imagesPerProduct: 2, credits: 18 });
    const before = mediaById(h.shopify, shop);
    const worker = h.workers[0]!;
    await worker.pause();
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...before.keys()],
      pipeline: "ebay",
    });
    const broken = (await getBatchProgress(h.db, shop, batchId))!.items[0]!;
    await h.db.batchItem.update({ where: { id: broken.id }, data: { sourceUrl: brokenUrl } });
    const requestsBefore = h.dashscope.stats().requests;
    worker.resume();

    const progress = await h.waitForBatch(shop, batchId, 120_000);
    expect(progress.counts).toMatchObject({ PUBLISHED: 4, FAILED: 2 });
    const corrupt = progress.items.find((i) => i.id === broken.id)!;
    const refusedItem = progress.items.find((i) => i.state === "FAILED" && i.id !== broken.id)!;
    expect(corrupt.state).toBe("FAILED");
    expect(corrupt.reason).toMatch(/image/i);
    expect(refusedItem.reason).toMatch(/refused this image/);
    for (const item of [corrupt, refusedItem]) {
      expect(item.reason).not.toMatch(/attempts/);
      expect(mediaById(h.shopify, shop).get(item.mediaId)!.sha256).toBe(before.get(item.mediaId)!.sha256);
    }
    // The refused image was sent once (not retried); the corrupt one never reached Qwen.
    expect(h.dashscope.stats().requests - requestsBefore).toBe(5);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 18 - 4 * 3, reserved: 0 });
  }, 150_000);
});
