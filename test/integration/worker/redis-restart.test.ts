import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credits.server";
import { startSweeper } from "~/queue/sweep.server";
import { mediaById, offlineAdmin, startHarness, type Harness } from "../batches/harness";

let port: number;
let redis: ChildProcess | null = null;
let h: Harness;
let sweeper: ReturnType<typeof startSweeper>;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
}

/** A throwaway Redis without persistence: a restart loses every job, like a crash of an unbacked Redis. */
async function startRedis(): Promise<void> {
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const ping = spawn("redis-cli", ["-p", String(port), "ping"], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      ping.stdout.on("data", (d: Buffer) => (out += d.toString()));
      ping.once("exit", () => resolve(out.trim() === "PONG"));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("redis-server did not start");
}

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null) return;
  const exited = new Promise((resolve) => redis!.once("exit", resolve));
  redis.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  h = await startHarness({ redis: { url: `redis://127.0.0.1:${port}` }, dashscope: { latencyMs: 200 } });
  h.startInProcessWorker({ concurrency: 3 });
  sweeper = startSweeper({ db: h.db, queue: h.queue }, { intervalMs: 1000, graceMs: 1000, redis: h.limiterRedis });
});

afterAll(async () => {
  await sweeper?.stop();
  await h?.close();
  await stopRedis();
});

describe("Redis restarted mid-batch", () => {
  it("completes the batch after Redis comes back, every image once, credits exact", async () => {
    const shop = await h.addShop({ products: 4, imagesPerProduct: 3, credits: 36 });
    const before = mediaById(h.shopify, shop);
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: [...before.keys()],
      pipeline: "instagram",
    });
    for (;;) {
      const progress = await getBatchProgress(h.db, shop, batchId);
      if (progress!.counts.PUBLISHED >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stopRedis();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await startRedis();

    // Every image handled once: published, or held for review when the fidelity check flags it.
    let progress = (await getBatchProgress(h.db, shop, batchId))!;
    const deadline = Date.now() + 90_000;
    while (progress.counts.QUEUED + progress.counts.PROCESSING > 0) {
      if (Date.now() > deadline) throw new Error(`batch did not finish: ${JSON.stringify(progress.counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      progress = (await getBatchProgress(h.db, shop, batchId))!;
    }
    expect(progress.counts.FAILED).toBe(0);
    expect(progress.counts.PUBLISHED + progress.counts.NEEDS_REVIEW).toBe(12);
    const after = mediaById(h.shopify, shop);
    expect(after.size).toBe(before.size);
    for (const [mediaId, was] of before) expect(after.get(mediaId)).toMatchObject({ position: was.position, alt: was.alt });
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: progress.counts.NEEDS_REVIEW * 3 });
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(progress.counts.PUBLISHED);
  }, 150_000);
});
