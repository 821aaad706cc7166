/**
 * Resolving a selection of 50 images spread over a 5,000-product store (one image per product), against the Shopify
 * stand-in with a standard plan's bucket (1,000 points, 50 a second): Admin calls, requested cost, THROTTLED answers
 * and wall time, with the product of each image named (as the Images page sends it; bound: 2 answered calls, no THROTTLED answer) and
 * without (bound: 4 catalogue pages, then the rest is reported not found).
 *   npx tsx bench/selection.ts
 */
import { randomUUID } from "node:crypto";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { installEmulatorDispatcher } from "../emulators/dispatcher";

const PRODUCTS = 5_000;
const SELECTED = 50;
const BOUND_CALLS_WITH_HINTS = Math.ceil(SELECTED / 70) + Math.ceil(SELECTED / 250);

process.env.LOG_LEVEL ??= "error";
installEmulatorDispatcher();

async function main(): Promise<void> {
  const { startShopifyEmulator } = await import("../emulators/shopify-admin/server");
  const { resolveSelection, MAX_SELECTION_SCAN_PAGES } = await import("~/models/catalog.server");
  const emulator = await startShopifyEmulator({
    apiKey: "bench-api-key",
    apiSecret: "bench-api-secret",
    bucketSize: 1000,
    restoreRate: 50,
  });
  process.env.SHOPIFY_EMULATOR_URL = emulator.url;
  const shop = `bench-${randomUUID().slice(0, 8)}.myshopify.com`;
  emulator.addShop(shop, { products: PRODUCTS, imagesPerProduct: 1 });
  const token = emulator.grantAccessToken(shop);
  const graphql: AdminGraphql = (query, options) =>
    fetch(`https://${shop}/admin/api/2026-07/graphql.json`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-shopify-access-token": token },
      body: JSON.stringify({ query, variables: options?.variables ?? {} }),
    });

  const step = Math.floor(PRODUCTS / SELECTED);
  const products = emulator
    .products(shop)
    .filter((_, index) => index % step === step - 1)
    .slice(0, SELECTED);
  const mediaIds = products.map((p) => p.media[0]!.id);

  const run = async (label: string, selection: { mediaIds: string[]; productIds?: string[] }) => {
    const before = emulator.graphqlLog(shop).length;
    const t0 = performance.now();
    const result = await resolveSelection(graphql, selection);
    const ms = performance.now() - t0;
    const log = emulator.graphqlLog(shop).slice(before);
    const answered = log.filter((c) => !c.throttled);
    const cost = answered.reduce((sum, c) => sum + c.requestedCost, 0);
    console.log(
      `${label}: ${result.images.length}/${SELECTED} found, ${answered.length} answered calls (${[...new Set(answered.map((c) => c.operationName))].join(", ")}), ` +
        `requested cost ${cost}, ${log.length - answered.length} THROTTLED, ${(ms / 1000).toFixed(1)} s`,
    );
    return { found: result.images.length, calls: answered.length };
  };

  const hinted = await run("with products named", { mediaIds, productIds: products.map((p) => p.id) });
  await new Promise((resolve) => setTimeout(resolve, 20_000)); // let the bucket refill between the two runs
  const bare = await run("without products", { mediaIds });
  console.log(
    `bound: <= ${BOUND_CALLS_WITH_HINTS} calls with products named (${hinted.calls}, ratio ${(hinted.calls / BOUND_CALLS_WITH_HINTS).toFixed(2)}), ` +
      `<= ${MAX_SELECTION_SCAN_PAGES} catalogue pages without (${bare.calls}); the old search read up to ${Math.ceil(PRODUCTS / 18)} pages`,
  );
  await emulator.close();
  if (hinted.found !== SELECTED || hinted.calls > BOUND_CALLS_WITH_HINTS || bare.calls > MAX_SELECTION_SCAN_PAGES) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
