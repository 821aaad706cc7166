/**
 * Shared setup for batch and worker integration tests: the Shopify and DashScope stand-ins on port 0,
 * a unique shop with an offline session (token from the stand-in's token exchange), credits, a random
 * BullMQ queue, and an in-process worker built exactly like worker.ts builds it.
 */
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import type { Worker } from "bullmq";
import { createPrismaClient } from "~/db.server";
import { parseEnv } from "~/lib/config.server";
import { createBatch, getBatchProgress, type BatchProgress } from "~/models/batches.server";
import { grantCredits } from "~/models/credit-ledger.server";
import { QwenAltTextClient } from "~/qwen/alt-text";
import { QwenClient } from "~/qwen/client";
import { queueConfigFromEnv } from "~/queue/config.server";
import { createRedisConnection, type RedisClient, type RedisTarget } from "~/lib/redis.server";
import { closeQueues, openImageQueue, type ImageQueue } from "~/queue/queue.server";
import type { WorkerDeps } from "~/queue/processor.server";
import { createQwenRateLimiter } from "~/queue/qwen-rate-limit.server";
import { sweepOnce } from "~/queue/sweep.server";
import { startWorker } from "~/queue/worker.server";
import { Semaphore } from "~/queue/worker-editor.server";
import { startDashScopeEmulator, type DashScopeEmulatorOptions } from "../../../emulators/dashscope/server";
import type { ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { testDatabaseUrl } from "../../setup/urls";
import { uniqueShopDomain } from "../../factories";
import { waitFor } from "../wait";
import { installShop, offlineAdmin, startedForFile, startShopifyStandIn } from "./shop-setup";

export { installShop, offlineAdmin, startedForFile };

export const DASHSCOPE_KEY = "sk-test-dashscope";

export interface Harness {
  db: PrismaClient;
  shopify: ShopifyEmulator;
  dashscope: Awaited<ReturnType<typeof startDashScopeEmulator>>;
  queueName: string;
  queue: ImageQueue;
  limiterRedis: RedisClient;
  deps: WorkerDeps;
  workers: Worker[];
  /** `modelSlots`: model requests in flight (WORKER_CONCURRENCY), when fewer than the worker's jobs. */
  startInProcessWorker(opts?: { concurrency?: number; modelSlots?: number }): Worker;
  /** `expiringToken: false` installs with the non-expiring offline token older installs hold. */
  addShop(opts: {
    products: number;
    imagesPerProduct: number;
    credits: number;
    bucketSize?: number;
    restoreRate?: number;
    expiringToken?: boolean;
    sharedPhotos?: number;
    /** Distinct small (800x600) photos: for tests about queueing and recovery, not pixels. */
    smallPhotos?: boolean;
    primaryLocale?: string;
    /** The scopes the merchant granted (default: all the app asks for). */
    grantedScopes?: string;
  }): Promise<string>;
  waitForBatch(shop: string, batchId: string, timeoutMs?: number): Promise<BatchProgress>;
  /** Until no item of the batch is waiting for its original to be put back. */
  waitForRestores(shop: string, batchId: string, timeoutMs?: number): Promise<BatchProgress>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    dashscope?: Partial<DashScopeEmulatorOptions>;
    qwenMaxRps?: number;
    fileReadyDelayMs?: number;
    /** Another Redis than the tests' (a throwaway server, a cluster). */
    redis?: RedisTarget;
    offlineTokenSeconds?: number;
    /** Further local servers (origins) the worker may download from. */
    localHosts?: string[];
    /** Where the Shopify stand-in delivers its webhooks (product and purchase updates); none without it. */
    appUrl?: string;
  } = {},
): Promise<Harness> {
  const shopify = await startShopifyStandIn({
    fileReadyDelayMs: opts.fileReadyDelayMs ?? 20,
    ...(opts.appUrl ? { appUrl: opts.appUrl, productWebhooks: true } : {}),
    ...(opts.offlineTokenSeconds ? { offlineTokenSeconds: opts.offlineTokenSeconds } : {}),
  });
  const dashscope = await startDashScopeEmulator({ apiKey: DASHSCOPE_KEY, latencyMs: 20, ...opts.dashscope });
  // The worker downloads under the production policy; only these two stand-ins may be reached over http.
  process.env.SAFE_FETCH_LOCAL_HOSTS = [shopify.url, dashscope.url, ...(opts.localHosts ?? [])].map((url) => new URL(url).host).join(",");
  const db = createPrismaClient(testDatabaseUrl(), 8);
  const queueName = `test-${randomUUID()}`;
  const queue = openImageQueue(queueName, createRedisConnection({ target: opts.redis }));
  const limiterRedis = createRedisConnection({ forWorker: true, target: opts.redis });
  const config = queueConfigFromEnv(parseEnv({ ...process.env, FILE_READY_TIMEOUT_MS: "20000" }));
  const deps: WorkerDeps = {
    db,
    adminFor: offlineAdmin,
    editor: new QwenClient({ apiKey: DASHSCOPE_KEY, baseUrl: dashscope.url, timeoutMs: 20_000 }),
    altText: new QwenAltTextClient({ apiKey: DASHSCOPE_KEY, baseUrl: dashscope.url }),
    config,
    qwenLimiter: createQwenRateLimiter(limiterRedis, { maxPerSecond: opts.qwenMaxRps ?? 0, key: `${queueName}:qwen-rps` }),
    imageSlots: new Semaphore(config.imageSlots),
  };
  const workers: Worker[] = [];
  const harness: Harness = {
    db,
    shopify,
    dashscope,
    queueName,
    queue,
    limiterRedis,
    deps,
    workers,
    startInProcessWorker(workerOpts = {}) {
      const worker = startWorker({
        queueName,
        concurrency: workerOpts.concurrency ?? 4,
        deps: workerOpts.modelSlots ? { ...deps, modelSlots: new Semaphore(workerOpts.modelSlots) } : deps,
        connection: createRedisConnection({ forWorker: true, target: opts.redis }),
        lockDurationMs: 10_000,
        stalledIntervalMs: 5_000,
      });
      workers.push(worker);
      return worker;
    },
    async addShop(shopOpts) {
      const shop = uniqueShopDomain();
      shopify.addShop(shop, {
        products: shopOpts.products,
        imagesPerProduct: shopOpts.imagesPerProduct,
        ...(shopOpts.bucketSize ? { bucketSize: shopOpts.bucketSize } : {}),
        ...(shopOpts.restoreRate ? { restoreRate: shopOpts.restoreRate } : {}),
        ...(shopOpts.sharedPhotos ? { sharedPhotos: shopOpts.sharedPhotos } : {}),
        ...(shopOpts.smallPhotos ? { smallPhotos: true } : {}),
        ...(shopOpts.primaryLocale ? { primaryLocale: shopOpts.primaryLocale } : {}),
        ...(shopOpts.grantedScopes ? { grantedScopes: shopOpts.grantedScopes } : {}),
      });
      await installShop(db, shopify, shop, { expiring: shopOpts.expiringToken ?? true });
      if (shopOpts.credits > 0) await grantCredits(db, shop, shopOpts.credits, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
      return shop;
    },
    async waitForBatch(shop, batchId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const progress = await getBatchProgress(db, shop, batchId);
        if (!progress) throw new Error(`batch ${batchId} not found`);
        if (progress.batch.status !== "ACTIVE") return progress;
        if (Date.now() > deadline) {
          throw new Error(
            `batch ${batchId} did not finish: ${JSON.stringify(progress.counts)} ${progress.items
              .map((i) => i.reason)
              .filter(Boolean)
              .join(" | ")}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async waitForRestores(shop, batchId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const progress = await getBatchProgress(db, shop, batchId);
        if (!progress) throw new Error(`batch ${batchId} not found`);
        if (progress.restoring === 0) return progress;
        if (Date.now() > deadline) throw new Error(`batch ${batchId}: ${progress.restoring} restores still waiting`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async close() {
      await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close().catch(() => undefined);
      limiterRedis.disconnect();
      await shopify.close();
      await dashscope.close();
      await db.$disconnect();
    },
  };
  return harness;
}

/**
 * A suite's usual preamble: the harness with an in-process worker for this file's tests. `routesEnqueue` points the
 * app's own queue (getQueue, as routes enqueue) at the harness's.
 */
export function harnessForFile(
  opts: {
    harness?: Parameters<typeof startHarness>[0];
    worker?: Parameters<Harness["startInProcessWorker"]>[0];
    routesEnqueue?: boolean;
  } = {},
): Harness {
  return startedForFile(
    async () => {
      const h = await startHarness(opts.harness);
      if (opts.routesEnqueue) process.env.QUEUE_NAME = h.queueName;
      h.startInProcessWorker(opts.worker);
      return h;
    },
    async (h) => {
      if (opts.routesEnqueue) await closeQueues();
      await h.close();
    },
  );
}

/** Media of a product as the stand-in holds it, keyed by id, for before/after comparisons. */
export function mediaById(shopify: ShopifyEmulator, shop: string) {
  const map = new Map<
    string,
    { productId: string; position: number; alt: string | null; sha256: string; status: string; replacements: number }
  >();
  for (const product of shopify.products(shop)) {
    for (const media of product.media) {
      map.set(media.id, {
        productId: product.id,
        position: media.position,
        alt: media.alt,
        sha256: media.sha256,
        status: media.status,
        replacements: media.replacements,
      });
    }
  }
  return map;
}

/**
 * The shop's batch items whose media were not replaced exactly once when published, or were replaced when not:
 * [] when every edit replaced its image once (a job run twice after a crash would replace it twice).
 */
export async function unexpectedReplacements(h: Harness, shop: string) {
  const media = mediaById(h.shopify, shop);
  const items = await h.db.batchItem.findMany({ where: { shop }, select: { mediaId: true, state: true } });
  return items
    .map((item) => ({ mediaId: item.mediaId, state: item.state, replacements: media.get(item.mediaId)?.replacements ?? null }))
    .filter((item) => item.replacements !== (item.state === "PUBLISHED" ? 1 : 0));
}

/** Runs the sweep once, then waits for the item it put back to leave PROCESSING; returns the item as it ended. */
export async function settledBySweep(h: Harness, itemId: string, what: string) {
  await sweepOnce({ db: h.db, queue: h.queue }, { graceMs: 0 });
  return waitFor(
    () => h.db.batchItem.findUniqueOrThrow({ where: { id: itemId } }),
    (row) => row.state !== "PROCESSING",
    what,
  );
}

/** Submits every image of the shop's catalogue as one batch, as a merchant selecting them all would. */
export async function submitAllImages(h: Harness, shop: string, pipeline = "amazon"): Promise<string> {
  const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
    mediaIds: [...mediaById(h.shopify, shop).keys()],
    pipeline,
  });
  return batchId;
}
