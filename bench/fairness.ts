/**
 * Fair share of one model quota across shops, with several worker processes: shop A queues BENCH_FAIR_A images
 * (default 2,000); once A's run is under way, shop B queues 10 and shop C 1. Prints, as ratios:
 * - B's and C's time from submission to their last image done, over their fair-share time (their images x the 3
 *   active shops / quota); goal <= 1.5. A second ratio adds one image's own time through the pipeline (the median of
 *   A's, download to publish) to the fair-share time, since a single image can never finish faster than that;
 * - the whole queue's throughput (A, B and C together) over the quota bound; goal >= 0.95, capped at 1000/1030 =
 *   0.971 by the quota limiter's margin;
 * - every image processed once (one capture each) and the quota kept: the DashScope stand-in refuses requests past
 *   it as DashScope does and counts the most it accepted in any second.
 *   npx tsx bench/fairness.ts   (BENCH_FAIR_A, BENCH_WORKERS (3), BENCH_CONCURRENCY (3 per worker), BENCH_LATENCY_MS
 *   (1000), BENCH_RPS (4))
 * The defaults make the quota the binding term: 3 workers x 3 model slots / 1 s = 9/s against a quota of 4/s.
 * Sources are the stand-in store's photos; the DashScope stand-in's edits are computed before the clock starts.
 */
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { spawnBenchWorker } from "./lib/bench-worker";
import { machineCpuTimes, primeEdits } from "./lib/dashscope-process";
import { BENCH_DASHSCOPE_KEY, setBenchEnvironment, startBenchStore } from "./lib/bench-env";
import { benchNumber } from "./lib/bench-setting";

const A_IMAGES = benchNumber("BENCH_FAIR_A", 2000, { min: 1 });
const B_IMAGES = 10;
const C_IMAGES = 1;
const WORKERS = benchNumber("BENCH_WORKERS", 3, { min: 1 });
const CONCURRENCY = benchNumber("BENCH_CONCURRENCY", 3, { min: 1 });
const LATENCY_MS = benchNumber("BENCH_LATENCY_MS", 1000);
const RPS = benchNumber("BENCH_RPS", 4, { min: 0.1, fraction: true });

setBenchEnvironment({ maxImagesPerBatch: A_IMAGES });

await main();
// Library handles (pools, sockets) would otherwise keep the process alive.
process.exit(0);

async function main(): Promise<void> {
  const { createBatch } = await import("~/models/batches.server");
  const { getQueue, closeQueues } = await import("~/queue/queue.server");
  const { offlineSessions } = await import("~/shopify.server");
  const { shopify, dashscope, db, addShop } = await startBenchStore({ latencyMs: LATENCY_MS, rps: RPS });
  const queueName = `bench-fair-${randomUUID().slice(0, 8)}`;
  const queue = getQueue(queueName);

  const run = randomUUID().slice(0, 6);
  const shops = { A: `fair-a-${run}.myshopify.com`, B: `fair-b-${run}.myshopify.com`, C: `fair-c-${run}.myshopify.com` };
  const sizes = { A: A_IMAGES, B: B_IMAGES, C: C_IMAGES };
  const mediaOf: Record<keyof typeof shops, Array<{ id: string; url: string; productId: string }>> = { A: [], B: [], C: [] };
  for (const key of ["A", "B", "C"] as const) mediaOf[key] = await addShop(shops[key], sizes[key]);
  await primeEdits(
    dashscope,
    [...mediaOf.A, ...mediaOf.B, ...mediaOf.C].map((m) => m.url),
  );

  const submit = async (key: keyof typeof shops) => {
    const { batchId } = await createBatch({ db, graphql: offlineSessions.adminGraphql(shops[key]), queue }, shops[key], {
      mediaIds: mediaOf[key].map((m) => m.id),
      // As the Images page sends them: without the products as hints, a selection this large is only looked for
      // in the first catalogue pages (MAX_SELECTION_SCAN_PAGES) and the rest is skipped.
      productIds: [...new Set(mediaOf[key].map((m) => m.productId))],
      pipeline: "amazon",
    });
    return { batchId, at: Date.now() };
  };
  const finished = (batchId: string) => db.batchItem.count({ where: { batchId, state: { notIn: ["QUEUED", "PROCESSING"] } } });

  const a = await submit("A");
  const queuedA = await db.batchItem.count({ where: { batchId: a.batchId } });
  if (queuedA !== A_IMAGES) throw new Error(`shop A's batch holds ${queuedA} of its ${A_IMAGES} images`);
  const workers = Array.from({ length: WORKERS }, () =>
    spawnBenchWorker({
      QUEUE_NAME: queueName,
      WORKER_CONCURRENCY: String(CONCURRENCY),
      QWEN_MAX_RPS: String(RPS),
      DASHSCOPE_API_KEY: BENCH_DASHSCOPE_KEY,
      DASHSCOPE_BASE_URL: dashscope.url,
    }),
  );
  const machineBefore = machineCpuTimes();
  const standInCpu = process.cpuUsage();
  const dashscopeCpuBefore = await dashscope.cpuMs();
  // B and C arrive once A's run is in its steady state.
  const warm = Math.min(A_IMAGES - 1, Math.max(20, Math.round(A_IMAGES * 0.05)));
  while ((await finished(a.batchId)) < warm) await new Promise((resolve) => setTimeout(resolve, 200));
  const b = await submit("B");
  const c = await submit("C");
  console.log(`A (${A_IMAGES} images) had ${warm} done when B (${B_IMAGES}) and C (${C_IMAGES}) were submitted`);

  let lastReport = Date.now();
  for (;;) {
    const [doneA, doneB, doneC] = await Promise.all([finished(a.batchId), finished(b.batchId), finished(c.batchId)]);
    if (doneA === A_IMAGES && doneB === B_IMAGES && doneC === C_IMAGES) break;
    if (Date.now() - lastReport >= 15_000) {
      lastReport = Date.now();
      console.log(`  A ${doneA}/${A_IMAGES}, B ${doneB}/${B_IMAGES}, C ${doneC}/${C_IMAGES}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await Promise.all(workers.map((w) => w.stop()));
  const machine = machineCpuTimes();
  const standIns = process.cpuUsage(standInCpu);
  const standInsMs = (standIns.user + standIns.system) / 1000 + ((await dashscope.cpuMs()) - dashscopeCpuBefore);

  const items = await db.batchItem.findMany({
    where: { batchId: { in: [a.batchId, b.batchId, c.batchId] } },
    select: { id: true, batchId: true, state: true, startedAt: true, finishedAt: true },
  });
  const ofBatch = (batchId: string) => items.filter((i) => i.batchId === batchId);
  const lastFinish = (batchId: string) => Math.max(...ofBatch(batchId).map((i) => i.finishedAt!.getTime()));
  const durations = ofBatch(a.batchId)
    .map((i) => i.finishedAt!.getTime() - i.startedAt!.getTime())
    .sort((x, y) => x - y);
  const oneImageMs = durations[Math.floor(durations.length / 2)]!;
  const activeShops = 3;
  for (const [name, batch, count] of [
    ["B", b, B_IMAGES],
    ["C", c, C_IMAGES],
  ] as const) {
    const tookMs = lastFinish(batch.batchId) - batch.at;
    const fairMs = ((count * activeShops) / RPS) * 1000;
    console.log(
      `shop ${name} (${count} image${count === 1 ? "" : "s"}): done ${(tookMs / 1000).toFixed(1)} s after submission; fair share ${(fairMs / 1000).toFixed(1)} s ` +
        `(${count} x ${activeShops} shops / ${RPS}/s); ratio ${(tookMs / fairMs).toFixed(2)} (goal <= 1.5); ` +
        `with one image's own time through the pipeline (${(oneImageMs / 1000).toFixed(1)} s, median of A's) ratio ${(tookMs / (fairMs + oneImageMs)).toFixed(2)}`,
    );
  }
  const firstStart = Math.min(...items.map((i) => i.startedAt!.getTime()));
  const end = Math.max(...items.map((i) => i.finishedAt!.getTime()));
  const total = A_IMAGES + B_IMAGES + C_IMAGES;
  const perSecond = total / ((end - firstStart) / 1000);
  const slots = (WORKERS * CONCURRENCY) / (LATENCY_MS / 1000);
  // This machine's cores at the CPU each image took here (the workers' and the stand-ins', start-up included).
  const cpuMsPerImage = (workers.reduce((sum, w) => sum + w.last.cpuMs, 0) + standInsMs) / total;
  const cpuTerm = (cpus().length * 1000) / cpuMsPerImage;
  const published = items.filter((i) => i.state === "PUBLISHED").length;
  console.log(
    `bound terms: quota ${RPS}/s; model slots ${WORKERS} workers x ${CONCURRENCY} / ${LATENCY_MS} ms = ${slots.toFixed(1)}/s; ` +
      `CPU ${cpus().length} cores / ${cpuMsPerImage.toFixed(0)} ms per image (workers and stand-ins, measured) = ${cpuTerm.toFixed(2)}/s`,
  );
  console.log(
    `all shops together: ${total} images in ${((end - firstStart) / 1000).toFixed(1)} s = ${perSecond.toFixed(2)}/s; ratio to min(quota, slots) ` +
      `${(perSecond / Math.min(RPS, slots)).toFixed(3)} (goal >= 0.95; the limiter's margin caps it at 0.971); to min(quota, slots, CPU) ${(perSecond / Math.min(RPS, slots, cpuTerm)).toFixed(3)}`,
  );
  const captures = await db.creditEntry.count({ where: { shop: { in: Object.values(shops) }, kind: "CAPTURE" } });
  const states = items.reduce<Record<string, number>>((acc, i) => ({ ...acc, [i.state]: (acc[i.state] ?? 0) + 1 }), {});
  console.log(
    `every image once: ${JSON.stringify(states)}, ${captures} captures for ${published} published (${captures === published ? "equal" : "NOT EQUAL"})`,
  );
  const stats = await dashscope.stats();
  console.log(
    `quota kept: the stand-in refused ${stats.throttled} of ${stats.requests} requests; most accepted in any second ${stats.maxRequestsInAnySecond} (quota ${RPS})`,
  );
  console.log(
    `machine: cores busy ${(((machine.busy - machineBefore.busy) / (machine.total - machineBefore.total)) * 100).toFixed(0)}% of the run (${cpus().length} cores; everything on the machine counts)`,
  );

  await queue.obliterate({ force: true }).catch(() => undefined);
  await closeQueues();
  await db.$disconnect();
  await shopify.close();
  dashscope.close();
}
