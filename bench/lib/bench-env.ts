/** The app's settings for the benches that run whole batches against the stand-ins (throughput, fairness). */
export const BENCH_APP = { apiKey: "bench-api-key", apiSecret: "bench-api-secret" };
export const BENCH_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/imgapp_bench";

/** Sets the environment before the app's modules are imported (they read it when loaded). */
export function setBenchEnvironment(opts: { maxImagesPerBatch: number }): void {
  process.env.DATABASE_URL = BENCH_DATABASE_URL;
  process.env.SHOPIFY_API_KEY = BENCH_APP.apiKey;
  process.env.SHOPIFY_API_SECRET = BENCH_APP.apiSecret;
  process.env.SHOPIFY_APP_URL = "https://bench.example.test";
  process.env.SCOPES = "read_products,write_products,write_files";
  process.env.ALLOWED_IMAGE_HOSTS = "127.0.0.1";
  // The stand-ins and the local CDN serve plain http on 127.0.0.1, which the download guard refuses unless named.
  process.env.SAFE_FETCH_LOCAL_HOSTS = "127.0.0.1";
  process.env.LOG_LEVEL ??= "error";
  process.env.MAX_IMAGES_PER_BATCH = String(Math.max(opts.maxImagesPerBatch, 500));
}
