/** A unique shop on the Shopify stand-in with an offline session, as an install leaves it. */
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { createPrismaClient } from "~/db.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { createRedisConnection } from "~/lib/redis.server";
import { openImageQueue, type ImageQueue } from "~/queue/queue.server";
import { mintIdToken } from "../../../emulators/app-bridge/tokens";
import { installShopOffline } from "../../../emulators/shopify-admin/install";
import { startShopifyEmulator, type ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { testDatabaseUrl } from "../../setup/urls";

export const API_KEY = process.env.SHOPIFY_API_KEY ?? "test-api-key";
export const API_SECRET = process.env.SHOPIFY_API_SECRET ?? "test-api-secret";

/** An App Bridge id token for the shop, signed with the app secret (what the admin sends the app). */
export function idToken(shop: string): string {
  return mintIdToken(shop, API_KEY, API_SECRET);
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
  const shopify = await startShopifyEmulator({ apiKey: API_KEY, apiSecret: API_SECRET });
  process.env.SHOPIFY_EMULATOR_URL = shopify.url;
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
