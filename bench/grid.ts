/**
 * The Images page loader for a store of 250 products x 8 images, against the Shopify stand-in:
 * GraphQL calls and requested query cost per page (goals: 1 call, cost <= 1,000) and the loader's own
 * server time, p50/p95, excluding the time spent waiting for the stand-in (goal: p95 <= 150 ms).
 * Half the images have a batch history, so the status lookup does real work.
 *   npx tsx bench/grid.ts        (BENCH_GRID_ROUNDS, default 20 passes over all pages)
 */
import { randomUUID } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import { availableParallelism, loadavg } from "node:os";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { installEmulatorDispatcher } from "../emulators/dispatcher";
import { ensureMigratedDatabase } from "../scripts/migrate";
import { benchNumber } from "./lib/bench-setting";

const PRODUCTS = 250;
const IMAGES_PER_PRODUCT = 8;
const ROUNDS = benchNumber("BENCH_GRID_ROUNDS", 20, { min: 1 });
const PG_BASE = "postgresql://postgres@127.0.0.1:5432";
const DB_NAME = "imgapp_bench";
const API_KEY = "bench-api-key";
const API_SECRET = "bench-api-secret";
const BOUNDS = { callsPerPage: 1, costPerPage: 1000, p95Ms: 150 };

process.env.DATABASE_URL = `${PG_BASE}/${DB_NAME}`;
process.env.SHOPIFY_API_KEY = API_KEY;
process.env.SHOPIFY_API_SECRET = API_SECRET;
process.env.SHOPIFY_APP_URL = "https://bench.example.test";
process.env.SCOPES = "read_products,write_products,write_files,read_locales";
process.env.LOG_LEVEL ??= "error";
process.env.NODE_ENV = "production";
installEmulatorDispatcher();

// Time spent in requests to the stand-in (start of request to its last byte), to subtract it.
let standInMs = 0;
const started = new WeakMap<object, number>();
subscribe("undici:request:create", (message) => {
  const { request } = message as { request: { origin?: string } };
  if (String(request.origin ?? "").startsWith("http://127.0.0.1")) started.set(request, performance.now());
});
subscribe("undici:request:trailers", (message) => {
  const { request } = message as { request: object };
  const t0 = started.get(request);
  if (t0 !== undefined) standInMs += performance.now() - t0;
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  await ensureMigratedDatabase(process.env.DATABASE_URL!);

  const { startShopifyEmulator } = await import("../emulators/shopify-admin/server");
  const { default: prisma } = await import("~/db.server");
  const { loader } = await import("~/routes/app._index/route");

  const emulator = await startShopifyEmulator({ apiKey: API_KEY, apiSecret: API_SECRET });
  process.env.SHOPIFY_EMULATOR_URL = emulator.url;
  const shop = `bench-${randomUUID().slice(0, 8)}.myshopify.com`;
  // A bucket that never empties: this measures the app, not the wait for Shopify's rate limit.
  emulator.addShop(shop, { products: PRODUCTS, imagesPerProduct: IMAGES_PER_PRODUCT, bucketSize: 10_000_000, restoreRate: 10_000_000 });
  const token = emulator.grantAccessToken(shop);
  await prisma.session.create({
    data: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope: process.env.SCOPES, accessToken: token },
  });
  await prisma.shop.create({ data: { domain: shop } });

  // Batch history for every other image.
  const media = emulator.products(shop).flatMap((p) => p.media.map((m) => ({ product: p, m })));
  const batch = await prisma.batch.create({
    data: { shop, pipeline: "amazon", settings: {}, total: Math.ceil(media.length / 2), status: "DONE" },
  });
  await prisma.batchItem.createMany({
    data: media
      .filter((_, i) => i % 2 === 0)
      .map(({ product, m }, i) => ({
        batchId: batch.id,
        shop,
        productId: product.id,
        productTitle: product.title,
        mediaId: m.id,
        sourceUrl: m.url,
        position: m.position,
        state: i % 5 === 0 ? "FAILED" : "PUBLISHED",
      })),
  });

  const { token: jwt } = await getJwt(shop.replace(".myshopify.com", ""), API_KEY, API_SECRET);
  const loadPage = async (after: string | null) => {
    const url = new URL("/app", process.env.SHOPIFY_APP_URL);
    if (after) url.searchParams.set("after", after);
    const request = new Request(url, { headers: { Authorization: `Bearer ${jwt}` } });
    const response = (await loader({ request, params: {}, context: {} })) as Response;
    return (await response.json()) as { images: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  };

  const serverMs: number[] = [];
  const callsPerPage: number[] = [];
  const costPerPage: number[] = [];
  let pages = 0;
  let images = 0;
  for (let round = -1; round < ROUNDS; round++) {
    let after: string | null = null;
    do {
      const logBefore = emulator.graphqlLog(shop).length;
      standInMs = 0;
      const t0 = performance.now();
      const page = await loadPage(after);
      const total = performance.now() - t0;
      const calls = emulator.graphqlLog(shop).slice(logBefore);
      if (round >= 0) {
        // Round -1 warms up (JIT, connection pools) and is not counted.
        serverMs.push(total - standInMs);
        callsPerPage.push(calls.length);
        costPerPage.push(Math.max(0, ...calls.map((c) => c.requestedCost)));
        pages += 1;
        if (round === 0) images += page.images.length;
      }
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
  }

  serverMs.sort((a, b) => a - b);
  const p50 = percentile(serverMs, 50);
  const p95 = percentile(serverMs, 95);
  const maxCalls = Math.max(...callsPerPage);
  const maxCost = Math.max(...costPerPage);
  console.log(
    `Images loader, ${PRODUCTS} products x ${IMAGES_PER_PRODUCT} images (${images} images over ${pages / ROUNDS} pages), ${pages} page loads`,
  );
  console.log(
    `  GraphQL calls per page: max ${maxCalls}  (bound ${BOUNDS.callsPerPage}; ratio ${(maxCalls / BOUNDS.callsPerPage).toFixed(2)})`,
  );
  console.log(
    `  requested query cost per page: max ${maxCost}  (bound ${BOUNDS.costPerPage}; ratio ${(maxCost / BOUNDS.costPerPage).toFixed(2)})`,
  );
  console.log(`  machine: ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} (timings inflate under load)`);
  console.log(
    `  server time excluding the stand-in: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms  (bound p95 ${BOUNDS.p95Ms} ms; ratio ${(p95 / BOUNDS.p95Ms).toFixed(2)})`,
  );

  await prisma.batchItem.deleteMany({ where: { shop } });
  await prisma.batch.deleteMany({ where: { shop } });
  await prisma.session.deleteMany({ where: { shop } });
  await prisma.shop.deleteMany({ where: { domain: shop } });
  await prisma.$disconnect();
  await emulator.close();
}

await main();
