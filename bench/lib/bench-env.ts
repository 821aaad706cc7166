import { installEmulatorDispatcher } from "../../emulators/dispatcher";
import { installShopOffline } from "../../emulators/shopify-admin/install";
import { ensureMigratedDatabase } from "../../scripts/migrate";
import { startDashScopeProcess } from "./dashscope-process";

/** The app's settings for the benches that run whole batches against the stand-ins (throughput, fairness). */
export const BENCH_APP = { apiKey: "bench-api-key", apiSecret: "bench-api-secret" };
export const BENCH_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/imgapp_bench";
export const BENCH_DASHSCOPE_KEY = "sk-bench";

/** Sets the environment before the app's modules are imported (they read it when loaded). */
export function setBenchEnvironment(opts: { maxImagesPerBatch: number }): void {
  process.env.DATABASE_URL = BENCH_DATABASE_URL;
  process.env.SHOPIFY_API_KEY = BENCH_APP.apiKey;
  process.env.SHOPIFY_API_SECRET = BENCH_APP.apiSecret;
  process.env.SHOPIFY_APP_URL = "https://bench.example.test";
  process.env.SCOPES = "read_products,write_products,write_files,read_locales";
  process.env.ALLOWED_IMAGE_HOSTS = "127.0.0.1";
  // The stand-ins and the local CDN serve plain http on 127.0.0.1, which the download guard refuses unless named.
  process.env.SAFE_FETCH_LOCAL_HOSTS = "127.0.0.1";
  process.env.LOG_LEVEL ??= "error";
  process.env.MAX_IMAGES_PER_BATCH = String(Math.max(opts.maxImagesPerBatch, 500));
}

/**
 * The stand-ins a whole-batch bench runs against: the Shopify stand-in in this process (with a bucket no bench
 * drains), the DashScope stand-in in its own, and the bench database migrated. Call after setBenchEnvironment.
 */
export async function startBenchStore(opts: { latencyMs: number; rps: number }) {
  await ensureMigratedDatabase(BENCH_DATABASE_URL);
  installEmulatorDispatcher();
  const { startShopifyEmulator } = await import("../../emulators/shopify-admin/server");
  const { createPrismaClient } = await import("~/db.server");
  const shopify = await startShopifyEmulator({ ...BENCH_APP, bucketSize: 1_000_000, restoreRate: 100_000, fileReadyDelayMs: 50 });
  process.env.SHOPIFY_EMULATOR_URL = shopify.url;
  const dashscope = await startDashScopeProcess({ apiKey: BENCH_DASHSCOPE_KEY, latencyMs: opts.latencyMs, rps: opts.rps });
  const db = createPrismaClient(undefined, 4);

  /** A shop with `images` photos (4 per product), the app installed, and credits for all of them; its media. */
  const addShop = async (shop: string, images: number): Promise<Array<{ id: string; url: string; productId: string }>> => {
    const { grantCredits } = await import("~/models/credit-ledger.server");
    shopify.addShop(shop, { products: Math.ceil(images / 4), imagesPerProduct: 4, bucketSize: 1_000_000, restoreRate: 100_000 });
    await installShopOffline(db, shopify.url, shop, { ...BENCH_APP });
    await grantCredits(db, shop, images * 3, { kind: "GRANT", idempotencyKey: `bench:${shop}` });
    return shopify
      .products(shop)
      .flatMap((p) => p.media.map((m) => ({ id: m.id, url: m.url, productId: p.id })))
      .slice(0, images);
  };
  return { shopify, dashscope, db, addShop };
}
