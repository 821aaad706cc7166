import type { ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";
import { killed, spawnWorkerProcess } from "./worker-processes";

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ dashscope: { latencyMs: 250 } });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await h?.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function scrape(port: number, token: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

function spawnWorker(extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawnWorkerProcess(h, extraEnv);
  children.push(child);
  return child;
}

describe("worker crash recovery", () => {
  it("finishes every image exactly once when workers are SIGKILLed mid-batch three times", async () => {
    const shop = await h.addShop({ products: 5, imagesPerProduct: 4, credits: 75, smallPhotos: true });
    const before = mediaById(h.shopify, shop);
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...before.keys()],
      pipeline: "amazon",
    });

    for (const threshold of [3, 8, 13]) {
      const worker = spawnWorker();
      for (;;) {
        const progress = await getBatchProgress(h.db, shop, batchId);
        if (progress!.counts.PUBLISHED >= threshold) break;
        if (worker.exitCode !== null) throw new Error(`worker exited with ${worker.exitCode}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await killed(worker);
    }
    // The last worker also serves its metrics (WORKER_METRICS_PORT), as an operator would scrape them.
    const metricsPort = await freePort();
    const last = spawnWorker({ WORKER_METRICS_PORT: String(metricsPort), METRICS_TOKEN: "worker-metrics-token" });
    const progress = await h.waitForBatch(shop, batchId, 90_000);
    const metrics = await scrape(metricsPort, "worker-metrics-token");
    const unauthorized = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    await killed(last);
    expect(unauthorized.status).toBe(401);
    const published = /imgapp_job_duration_seconds_count\{[^}]*pipeline="amazon",outcome="published"\} (\d+)/.exec(metrics);
    expect(Number(published?.[1])).toBeGreaterThan(0);

    expect(progress.items.filter((i) => i.state !== "PUBLISHED").map((i) => `${i.state}: ${i.reason}`)).toEqual([]);
    expect(progress.counts.PUBLISHED).toBe(20);
    const after = mediaById(h.shopify, shop);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const product of h.shopify.products(shop)) {
      const ids = product.media.map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    for (const [mediaId, was] of before) {
      expect(after.get(mediaId)).toMatchObject({ position: was.position, alt: was.alt, status: "READY" });
      expect(after.get(mediaId)!.sha256).not.toBe(was.sha256);
    }
    expect(await getBalance(h.db, shop)).toEqual({ available: 15, reserved: 0, total: 15 });
    const captures = await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });
    expect(captures).toBe(20);
    expect(await h.db.imageBackup.count({ where: { shop } })).toBe(20);
  }, 180_000);

  it("replaces an image once and charges it once when the worker is SIGKILLed between fileUpdate and the capture", async () => {
    const shop = await h.addShop({ products: 1, imagesPerProduct: 3, credits: 9, smallPhotos: true });
    const before = mediaById(h.shopify, shop);
    const first = spawnWorker();
    // Shopify has accepted the replacement; the worker dies before it reads the answer, let alone captures credits.
    const killedAfterReplacement = new Promise<void>((resolve) => {
      h.shopify.afterNextOperation(shop, "CatalogReplaceMediaImage", async () => {
        await killed(first);
        resolve();
      });
    });
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...before.keys()],
      pipeline: "amazon",
    });
    await killedAfterReplacement;
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(0);

    const second = spawnWorker();
    const progress = await h.waitForBatch(shop, batchId, 90_000);
    await killed(second);

    expect(progress.items.map((i) => i.state)).toEqual(["PUBLISHED", "PUBLISHED", "PUBLISHED"]);
    const after = mediaById(h.shopify, shop);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [mediaId, media] of after) {
      expect({ mediaId, replacements: media.replacements, status: media.status }).toEqual({ mediaId, replacements: 1, status: "READY" });
      expect(media.sha256).not.toBe(before.get(mediaId)!.sha256);
    }
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(3);
    expect(await getBalance(h.db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await h.db.imageBackup.count({ where: { shop } })).toBe(3);
  }, 120_000);
});
