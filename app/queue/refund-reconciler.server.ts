import type { PrismaClient } from "@prisma/client";
import { logger } from "~/lib/logger.server";
import { type PartnerApiConfig, type RefundReconciliation, reconcileShopifyRefunds } from "~/models/shopify-refunds.server";
import type { RedisClient } from "~/lib/redis.server";
import { type PeriodicTask, startPeriodicTask } from "./periodic.server";

/** Reads refunded Shopify app charges every `intervalMs` in the worker, one process at a time across the deployment. */
export function startShopifyRefundReconciler(
  deps: { db: PrismaClient; redis: RedisClient; config: PartnerApiConfig },
  opts: { intervalMs: number },
): PeriodicTask<RefundReconciliation> {
  return startPeriodicTask({
    name: "shopify refund reconciliation",
    redis: deps.redis,
    lockKey: "{imgapp}:shopify-refunds-lock",
    intervalMs: opts.intervalMs,
    run: async () => {
      const result = await reconcileShopifyRefunds(deps.db, deps.config);
      if (result.applied > 0 || result.unmatched > 0) logger.info(result, "shopify app charge refunds reconciled");
      return result;
    },
  });
}
