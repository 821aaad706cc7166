/**
 * Issue 17, whole-catalogue runs: 10,000 products read with a bulk operation (JSONL), counted and priced before
 * the merchant confirms, then processed a chunk at a time by real worker processes, one of which is killed, until
 * the run's budget is spent. The products share four small photos, so the run's time goes to the run itself rather
 * than to editing pixels. The budget pays for 20 images here (chunks of 5); `bench/catalog-run.ts` runs the issue's
 * own figures (300 credits, exactly 100 images, chunks of 20), whose time is the images' own.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelCatalogRun, confirmCatalogRun, getCatalogRun, startCatalogRun, type CatalogRunView } from "~/models/catalog-runs.server";
import { getBalance } from "~/models/credit-ledger.server";
import { closeAutomationQueues, getAutomationQueue } from "~/queue/automation.server";
import { offlineAdmin, startHarness, unexpectedReplacements, type Harness } from "../batches/harness";
import { killed, spawnWorkerProcess } from "../worker/worker-processes";

const CHUNK = 5;
const BUDGET = 60;
let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ dashscope: { latencyMs: 5 }, fileReadyDelayMs: 5 });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await getAutomationQueue(h.queueName)
    .obliterate({ force: true })
    .catch(() => undefined);
  await closeAutomationQueues();
  await h?.close();
});

function spawnWorker(): ChildProcess {
  // The run reads its bulk operation and looks at its chunk's progress every 200 ms rather than every 10 s and 1 s.
  const child = spawnWorkerProcess(h, {
    CATALOG_RUN_CHUNK: String(CHUNK),
    CATALOG_BULK_POLL_MS: "200",
    CATALOG_RUN_TICK_MS: "200",
  });
  children.push(child);
  return child;
}

async function waitForRun(
  shop: string,
  runId: string,
  done: (run: CatalogRunView) => boolean,
  what: string,
  onPoll?: () => Promise<void>,
  timeoutMs = 120_000,
): Promise<CatalogRunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await onPoll?.();
    const run = (await getCatalogRun(h.db, shop, runId))!;
    if (done(run)) return run;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("whole-catalogue run", () => {
  it("counts 10,000 products, processes exactly what its budget pays for, survives a killed worker and says why the rest wait", async () => {
    const shop = await h.addShop({
      products: 10_000,
      imagesPerProduct: 1,
      credits: BUDGET,
      sharedPhotos: 4,
      bucketSize: 20_000,
      restoreRate: 2_000,
    });
    const automationQueue = getAutomationQueue(h.queueName);
    const started = await startCatalogRun({ db: h.db, automationQueue, graphql: await offlineAdmin(shop) }, shop, {
      filterKind: "all",
      pipeline: "amazon",
      budget: String(BUDGET),
    });
    if (!started.ok) throw new Error(JSON.stringify(started.errors));

    let worker = spawnWorker();
    const counted = await waitForRun(shop, started.runId, (r) => r.status !== "COUNTING", "the catalogue to be counted");
    // The count and the cost are known before anything is reserved.
    expect(counted).toMatchObject({ status: "READY", total: 10_000, cost: 30_000, added: 0 });
    expect(await getBalance(h.db, shop)).toEqual({ available: BUDGET, reserved: 0, total: BUDGET });

    await confirmCatalogRun({ db: h.db, automationQueue }, shop, started.runId);
    let lowestAvailable = BUDGET;
    let mostHeld = 0;
    const watchCredits = async () => {
      const balance = await getBalance(h.db, shop);
      lowestAvailable = Math.min(lowestAvailable, balance.available);
      mostHeld = Math.max(mostHeld, balance.reserved);
    };
    const midway = await waitForRun(shop, started.runId, (r) => r.published >= 8, "8 images to be published", watchCredits);
    expect(midway.status).toBe("RUNNING");
    expect(midway.etaSeconds === null || midway.etaSeconds > 0).toBe(true);
    await killed(worker);

    worker = spawnWorker();
    const paused = await waitForRun(
      shop,
      started.runId,
      (r) => r.status !== "RUNNING" && r.waiting === 0,
      "the run to stop at its budget",
      watchCredits,
    );
    await killed(worker);

    // Nothing failed, and if something did, its reason shows why.
    expect(await h.db.batchItem.findMany({ where: { shop, state: "FAILED" }, select: { reason: true }, distinct: ["reason"] })).toEqual([]);
    expect(paused).toMatchObject({ status: "PAUSED", added: 20, published: 20, failed: 0, creditsUsed: BUDGET, creditsHeld: 0 });
    expect(paused.reason).toBe(
      "Paused: this run's budget of 60 credits is used up and your balance is empty, and 9,980 images of 10,000 are waiting. " +
        "Buy credits on the Credits page, raise the budget and resume to clean them.",
    );
    expect(await h.db.batchItem.count({ where: { shop } })).toBe(20);
    expect(new Set((await h.db.batchItem.findMany({ where: { shop }, select: { mediaId: true } })).map((i) => i.mediaId)).size).toBe(20);
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(20);
    // Killed mid-run, yet each of the 20 images was replaced once.
    expect(await unexpectedReplacements(h, shop)).toEqual([]);
    expect(await getBalance(h.db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(lowestAvailable).toBeGreaterThanOrEqual(0);
    // Credits were reserved a chunk at a time, never the whole run's cost at once.
    expect(mostHeld).toBeLessThanOrEqual(2 * CHUNK * 3);
    const batch = await h.db.batch.findUnique({ where: { id: paused.batchId! } });
    expect(batch).toMatchObject({ origin: "CATALOG", note: paused.reason });

    await cancelCatalogRun({ db: h.db, imageQueue: h.queue }, shop, started.runId);
    expect((await getCatalogRun(h.db, shop, started.runId))!.status).toBe("CANCELLED");
  }, 300_000);
});
