import type { PrismaClient } from "@prisma/client";
import { logger } from "~/lib/logger.server";
import { type PartnerApiConfig, type RefundReconciliation, reconcileShopifyRefunds } from "~/models/shopify-refunds.server";
import type { RedisClient } from "./connection.server";

/**
 * Runs a pass every `intervalMs` in the worker; one process at a time across the deployment (a Redis lock), though a
 * second pass would change nothing.
 */
export function startShopifyRefundReconciler(
  deps: { db: PrismaClient; redis: RedisClient; config: PartnerApiConfig },
  opts: { intervalMs: number },
): { stop(): Promise<void>; runNow(): Promise<RefundReconciliation | null> } {
  let running: Promise<RefundReconciliation | null> | null = null;
  const run = (): Promise<RefundReconciliation | null> => {
    running ??= (async () => {
      const lock = await deps.redis.set("{imgapp}:shopify-refunds-lock", "1", "PX", Math.max(opts.intervalMs - 50, 100), "NX");
      if (lock !== "OK") return null;
      const result = await reconcileShopifyRefunds(deps.db, deps.config);
      if (result.applied > 0 || result.unmatched > 0) logger.info(result, "shopify app charge refunds reconciled");
      return result;
    })()
      .catch((error: Error) => {
        logger.warn({ err: error.message }, "shopify refund reconciliation failed; will try again");
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void run(), opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
    runNow: run,
  };
}
