/**
 * Issue 17's whole-catalogue run at its own figures: a shop of BENCH_CATALOG_PRODUCTS products (default 10,000, one
 * image each, drawn from four small photos) counted with a bulk operation (JSONL) and priced, then run with a budget
 * of 300 credits on a balance of 300 by real worker processes, adding chunks of 20; the first worker is SIGKILLed
 * once 30 images are published and a second one finishes the run. Prints, as counts and ratios:
 * - the catalogue counted and priced before anything is reserved (products counted / products in the store);
 * - the images processed over the 100 the budget pays for (goal exactly 1), each replaced and charged once;
 * - the credits: the lowest balance seen (goal >= 0) and the most held at once over one chunk's cost (goal <= 2);
 * - the run paused with the merchant's reason naming the images still waiting.
 * Exits non-zero when any of these fails. `test/integration/automation/catalog-run.test.ts` runs the same path in
 * `npm test` with a budget of 60 credits.
 *   npx tsx bench/catalog-run.ts   (BENCH_CATALOG_PRODUCTS)
 */
import { randomUUID } from "node:crypto";
import { spawnBenchWorker } from "./lib/bench-worker";
import { BENCH_APP, BENCH_DASHSCOPE_KEY, setBenchEnvironment, startBenchStore } from "./lib/bench-env";
import { installShopOffline } from "../emulators/shopify-admin/install";
import { benchNumber } from "./lib/bench-setting";

const PRODUCTS = benchNumber("BENCH_CATALOG_PRODUCTS", 10_000, { min: 1 });
const BUDGET = 300;
const CHUNK = 20;
const KILL_AFTER = 30;

setBenchEnvironment({ maxImagesPerBatch: CHUNK });

const failures = await main();
if (failures.length) console.log(`FAILED: ${failures.join("; ")}`);
// Library handles (pools, sockets) would otherwise keep the process alive.
process.exit(failures.length ? 1 : 0);

async function main(): Promise<string[]> {
  // The bench database is migrated first: the app's session storage looks at it when loaded.
  const { shopify, dashscope, db } = await startBenchStore({ latencyMs: 5, rps: 1_000 });
  const { cancelCatalogRun, confirmCatalogRun, getCatalogRun, startCatalogRun } = await import("~/models/catalog-runs.server");
  const { getBalance, grantCredits } = await import("~/models/credit-ledger.server");
  const { getAutomationQueue, closeAutomationQueues } = await import("~/queue/automation.server");
  const { getQueue, closeQueues } = await import("~/queue/queue.server");
  const { offlineSessions } = await import("~/shopify.server");
  const queueName = `bench-catalog-${randomUUID().slice(0, 8)}`;
  const automationQueue = getAutomationQueue(queueName);
  const shop = `catalog-${randomUUID().slice(0, 6)}.myshopify.com`;
  shopify.addShop(shop, { products: PRODUCTS, imagesPerProduct: 1, sharedPhotos: 4, bucketSize: 1_000_000, restoreRate: 100_000 });
  await installShopOffline(db, shopify.url, shop, BENCH_APP);
  await grantCredits(db, shop, BUDGET, { kind: "GRANT", idempotencyKey: `bench:${shop}` });

  const workers: ReturnType<typeof spawnBenchWorker>[] = [];
  const spawnWorker = () => {
    const worker = spawnBenchWorker({
      QUEUE_NAME: queueName,
      DASHSCOPE_API_KEY: BENCH_DASHSCOPE_KEY,
      DASHSCOPE_BASE_URL: dashscope.url,
      CATALOG_RUN_CHUNK: String(CHUNK),
      // Most of an image's time here is waiting for the stand-in's file processing: many images at once.
      WORKER_JOBS: String(CHUNK),
      // A killed worker's jobs are taken over within seconds rather than the production 30 s.
      WORKER_LOCK_MS: "2000",
      WORKER_STALLED_INTERVAL_MS: "1000",
      SWEEP_INTERVAL_MS: "1000",
    });
    workers.push(worker);
    return worker;
  };
  const kill = (worker: ReturnType<typeof spawnBenchWorker>) => worker.stop("SIGKILL");
  type Run = NonNullable<Awaited<ReturnType<typeof getCatalogRun>>>;
  let lowestAvailable = BUDGET;
  let mostHeld = 0;
  const waitForRun = async (runId: string, done: (run: Run) => boolean, what: string): Promise<Run> => {
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const balance = await getBalance(db, shop);
      lowestAvailable = Math.min(lowestAvailable, balance.available);
      mostHeld = Math.max(mostHeld, balance.reserved);
      const run = (await getCatalogRun(db, shop, runId))!;
      if (done(run)) return run;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const failures: string[] = [];
  const check = (ok: boolean, line: string) => {
    console.log(`${ok ? "ok  " : "FAIL"} ${line}`);
    if (!ok) failures.push(line);
  };
  try {
    const started = await startCatalogRun({ db, automationQueue, graphql: offlineSessions.adminGraphql(shop) }, shop, {
      filterKind: "all",
      pipeline: "amazon",
      budget: String(BUDGET),
    });
    if (!started.ok) throw new Error(JSON.stringify(started.errors));
    const first = spawnWorker();
    const counted = await waitForRun(started.runId, (r) => r.status !== "COUNTING", "the catalogue to be counted");
    const heldWhenCounted = (await getBalance(db, shop)).reserved;
    check(
      counted.status === "READY" && counted.total === PRODUCTS && counted.cost === PRODUCTS * 3 && heldWhenCounted === 0,
      `counted ${counted.total} of ${PRODUCTS} products (ratio ${(counted.total / PRODUCTS).toFixed(3)}), priced ${counted.cost} credits, ` +
        `${heldWhenCounted} held before the merchant confirmed`,
    );

    await confirmCatalogRun({ db, automationQueue }, shop, started.runId);
    const midway = await waitForRun(started.runId, (r) => r.published >= KILL_AFTER, `${KILL_AFTER} images to be published`);
    await kill(first);
    console.log(`first worker SIGKILLed with ${midway.published} published, ${midway.added} added`);
    const second = spawnWorker();
    const paused = await waitForRun(started.runId, (r) => r.status !== "RUNNING" && r.waiting === 0, "the run to stop at its budget");
    await kill(second);

    const expected = BUDGET / 3;
    const captures = await db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });
    const items = await db.batchItem.findMany({ where: { shop }, select: { mediaId: true, state: true } });
    const replacements = new Map(shopify.products(shop).flatMap((p) => p.media.map((m) => [m.id, m.replacements] as const)));
    const replacedOnce = items.filter((i) => i.state === "PUBLISHED" && replacements.get(i.mediaId) === 1).length;
    const untouched = [...replacements.values()].filter((n) => n === 0).length;
    check(
      paused.status === "PAUSED" && paused.published === expected && paused.added === expected && paused.failed === 0,
      `processed ${paused.published} of the ${expected} images the budget pays for (ratio ${(paused.published / expected).toFixed(3)}), ` +
        `${paused.failed} failed, run ${paused.status}`,
    );
    check(
      captures === expected && replacedOnce === expected && untouched === PRODUCTS - expected && items.length === expected,
      `${captures} captures and ${replacedOnce} images replaced exactly once for ${items.length} items; ${untouched} images untouched`,
    );
    const balance = await getBalance(db, shop);
    check(
      lowestAvailable >= 0 && balance.available === 0 && balance.reserved === 0 && paused.creditsUsed === BUDGET,
      `credits: lowest available ${lowestAvailable}, ${paused.creditsUsed} used of the ${BUDGET} budget, ${balance.reserved} still held`,
    );
    check(
      mostHeld <= 2 * CHUNK * 3,
      `most credits held at once ${mostHeld}, ratio ${(mostHeld / (CHUNK * 3)).toFixed(2)} of one chunk's cost (goal <= 2)`,
    );
    const waiting = (PRODUCTS - expected).toLocaleString("en-US");
    const reason = `Paused: this run's budget of ${BUDGET} credits is used up and your balance is empty, and ${waiting} images of ${PRODUCTS.toLocaleString("en-US")} are waiting. Buy credits on the Credits page, raise the budget and resume to clean them.`;
    check(paused.reason === reason, `the merchant reads: ${paused.reason}`);
    await cancelCatalogRun({ db, imageQueue: getQueue(queueName) }, shop, started.runId);
  } finally {
    await Promise.all(workers.map(kill));
    await automationQueue.obliterate({ force: true }).catch(() => undefined);
    await getQueue(queueName)
      .obliterate({ force: true })
      .catch(() => undefined);
    await closeAutomationQueues();
    await closeQueues();
    await db.$disconnect();
    await shopify.close();
    dashscope.close();
  }
  return failures;
}
