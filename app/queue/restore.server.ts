import { UnrecoverableError, type Job } from "bullmq";
import { logger } from "~/lib/logger.server";
import { restoreItem } from "~/models/batches.server";
import { ShopifyThrottledError } from "~/lib/admin-graphql.server";
import { shopUnavailableStatusOf, unavailableRestoreDetail } from "~/models/shop-availability.server";
import type { ImageJobData, ImageJobOutcome } from "./jobs";
import { terminalReason, unexpectedReason, type WorkerDeps } from "./processor.server";

/**
 * A restore job (see restoreBatch): puts one item's original back, then clears its mark. A final failure leaves the
 * processed image in place, clears the mark and says why on the item, so the merchant can try again.
 */
export async function processRestoreJob(job: Job<ImageJobData>, deps: Pick<WorkerDeps, "db" | "adminFor">): Promise<ImageJobOutcome> {
  const { db } = deps;
  const { shop, itemId } = job.data;
  const item = await db.batchItem.findFirst({ where: { id: itemId, shop }, select: { state: true, restoreRequestedAt: true } });
  if (!item?.restoreRequestedAt || item.state !== "PUBLISHED") {
    await db.batchItem.updateMany({ where: { id: itemId, shop }, data: { restoreRequestedAt: null } });
    return "already-done";
  }
  try {
    await restoreItem({ db, graphql: await deps.adminFor(shop) }, shop, itemId);
    await db.batchItem.updateMany({ where: { id: itemId, shop }, data: { restoreRequestedAt: null } });
    return "restored";
  } catch (error) {
    if (error instanceof ShopifyThrottledError) throw error;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    // A frozen or locked store: the image sentence speaks of credits, which a restore does not take.
    const unavailable = shopUnavailableStatusOf(error);
    const reason = unavailable
      ? unavailableRestoreDetail(unavailable)
      : (terminalReason(error) ?? (lastAttempt ? unexpectedReason((error as Error).message) : null));
    if (reason === null) throw error;
    await db.batchItem.updateMany({
      where: { id: itemId, shop, state: "PUBLISHED" },
      data: {
        restoreRequestedAt: null,
        reason: `The original could not be put back: ${reason.text} Try Restore again.`,
        reasonMessage: { code: "itemRestoreFailed", params: { detail: reason.text } },
      },
    });
    logger.warn({ shop, itemId, reason: reason.text }, "restore failed");
    throw new UnrecoverableError(reason.text);
  }
}
