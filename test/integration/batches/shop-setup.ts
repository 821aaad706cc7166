/**
 * The Shopify stand-in as the integration tests start it (for the whole file, the app's Admin calls pointed at it) and
 * a unique shop on it with an offline session, as an install leaves it.
 */
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll } from "vitest";
import { createPrismaClient } from "~/db.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { createRedisConnection } from "~/lib/redis.server";
import { openImageQueue, type ImageQueue } from "~/queue/queue.server";
import { mintIdToken } from "../../../emulators/app-bridge/tokens";
import { installShopOffline } from "../../../emulators/shopify-admin/install";
import { startShopifyEmulator, type ShopifyEmulator, type ShopifyEmulatorOptions } from "../../../emulators/shopify-admin/server";
import { testDatabaseUrl } from "../../setup/urls";

export const API_KEY = process.env.SHOPIFY_API_KEY ?? "test-api-key";
export const API_SECRET = process.env.SHOPIFY_API_SECRET ?? "test-api-secret";

/** An App Bridge id token for the shop, signed with the app secret (what the admin sends the app). */
export function idToken(shop: string): string {
  return mintIdToken(shop, API_KEY, API_SECRET);
}

/** The Shopify stand-in, answering for the app's key and secret unless `opts` name others; the app's Admin calls go to it. */
export async function startShopifyStandIn(opts: Partial<ShopifyEmulatorOptions> = {}): Promise<ShopifyEmulator> {
  const shopify = await startShopifyEmulator({ apiKey: API_KEY, apiSecret: API_SECRET, ...opts });
  process.env.SHOPIFY_EMULATOR_URL = shopify.url;
  return shopify;
}

/**
 * startShopifyStandIn before this file's tests, closed after them. `opts` may be a function when they are known only
 * once an earlier beforeAll has run (the URL of an app server of the file's own).
 */
export function shopifyStandInForFile(
  opts: Partial<ShopifyEmulatorOptions> | (() => Partial<ShopifyEmulatorOptions>) = {},
): ShopifyEmulator {
  return startedForFile(
    () => startShopifyStandIn(typeof opts === "function" ? opts() : opts),
    (shopify) => shopify.close(),
  );
}

/**
 * What `start` gives, started before this file's tests and stopped after them. It is returned at once and stands for
 * the started thing from the first hook or test on.
 */
export function startedForFile<T extends object>(start: () => Promise<T>, stop: (started: T) => Promise<void>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    if (started) await stop(started);
  });
  return new Proxy({} as T, {
    get(_, property) {
      if (!started) throw new Error("started in beforeAll: use it in tests and hooks, not while the file loads");
      return Reflect.get(started, property);
    },
  });
}

/** Token exchange against the stand-in, then the offline Session row shopify-app-remix reads. */
export function installShop(db: PrismaClient, shopify: ShopifyEmulator, shop: string, opts: { expiring?: boolean } = {}): Promise<string> {
  return installShopOffline(db, shopify.url, shop, { apiKey: API_KEY, apiSecret: API_SECRET }, opts);
}

/** The production path: the shop's offline session, renewed when it is about to expire (as the worker uses it). */
export async function offlineAdmin(shop: string): Promise<AdminGraphql> {
  const { offlineSessions } = await import("~/shopify.server");
  return offlineSessions.adminGraphql(shop);
}

/** What createBatch's tests run against: the Shopify stand-in, a database client and a queue of their own. */
export interface BatchTestEnv {
  shopify: ShopifyEmulator;
  db: PrismaClient;
  queue: ImageQueue;
  close(): Promise<void>;
}

export async function startBatchTestEnv(): Promise<BatchTestEnv> {
  const shopify = await startShopifyStandIn();
  const db = createPrismaClient(testDatabaseUrl(), 4);
  const queue = openImageQueue(`test-${randomUUID()}`, createRedisConnection());
  const close = async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await shopify.close();
    await db.$disconnect();
  };
  return { shopify, db, queue, close };
}
