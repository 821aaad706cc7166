/**
 * Repairs what a crash between two systems can leave behind:
 * - an item in the database whose job is not in Redis (crash after commit, before enqueue; Redis
 *   restarted without persistence) is enqueued again (jobId = item id, so at most one job exists);
 * - an item whose job failed for good but whose failure was not recorded is marked FAILED;
 * - a finished item whose reservation is still held is settled (published -> capture, else release);
 * - credits held for items that were never written (a crash between reserving and writing a batch) are
 *   given back once they are old enough that no batch can still be being written;
 * - a batch with no unfinished item is marked DONE.
 * It also looks after processed images: bytes past the retention are deleted (rows stay), and rows from before the
 * object store have their bytes moved there, a few each time.
 */
import type { ItemState, PrismaClient } from "@prisma/client";
import type { Job } from "bullmq";
import { logger } from "~/lib/logger.server";
import { FINISHED_ITEM_STATES, IN_FLIGHT_ITEM_STATES, PAID_ITEM_STATES } from "~/models/batch-item-states";
import { BATCH_QUEUE_KEY, compareQueueOrder, finishBatchIfDone } from "~/models/batches.server";
import { DEFAULT_QUEUE_NAME } from "~/lib/config.server";
import type { RedisClient } from "~/lib/redis.server";
import {
  captureForItem,
  releaseAllOrphanedReservations,
  releaseForItem,
  ReservationSettledError,
} from "~/models/credit-reservations.server";
import { expireStoredImages, moveStoredImagesToObjectStore } from "~/models/stored-images.server";
import { forgetOldWebhookEvents } from "~/models/webhook-events.server";
import { failItem, unexpectedReason } from "./processor.server";
import { enqueueItemsAgain, enqueueRestores, type ImageQueue } from "./queue.server";
import type { ImageJobData } from "./jobs";
import { type PeriodicTask, startPeriodicTask } from "./periodic.server";

export interface SweepResult {
  enqueued: number;
  failed: number;
  settled: number;
  /** Credits given back that were held for items never written. */
  orphanCreditsReturned: number;
  batchesFinished: number;
  imagesExpired: number;
  webhookRecordsForgotten: number;
  imagesMovedToObjectStore: number;
}

/**
 * How long an item whose replacement was sent keeps being re-run to settle it (then it fails as any other), counted
 * from the send or from the shop's latest install, whichever is later.
 */
const SETTLE_SENT_REPLACEMENT_FOR_MS = 24 * 3600_000;

export async function sweepOnce(
  deps: { db: PrismaClient; queue: ImageQueue },
  opts: { graceMs?: number; limit?: number } = {},
): Promise<SweepResult> {
  const { db, queue } = deps;
  const result: SweepResult = {
    enqueued: 0,
    failed: 0,
    settled: 0,
    orphanCreditsReturned: 0,
    batchesFinished: 0,
    imagesExpired: 0,
    imagesMovedToObjectStore: 0,
    webhookRecordsForgotten: 0,
  };
  const olderThan = new Date(Date.now() - (opts.graceMs ?? 5_000));
  // Only this queue's items: several queues may share a database (tests, a staging worker), and an
  // item enqueued on the wrong queue would be processed by a worker that cannot reach its shop.
  // Batches that name no queue belong to the default one.
  type StuckItem = {
    id: string;
    shop: string;
    replaceSentAt: Date | null;
    batchCreatedAt: Date;
    productTitle: string;
    position: number;
    mediaId: string;
    installedAt: Date | null;
    uninstalledAt: Date | null;
  };
  const stuck = await db.$queryRaw<StuckItem[]>`
    SELECT i.id, i.shop, i."replaceSentAt", b."createdAt" AS "batchCreatedAt", i."productTitle", i.position, i."mediaId",
      s."installedAt", s."uninstalledAt"
    FROM "BatchItem" i JOIN "Batch" b ON b.id = i."batchId" LEFT JOIN "Shop" s ON s.domain = i.shop
    WHERE i.state = ANY(${IN_FLIGHT_ITEM_STATES}::"ItemState"[]) AND i."updatedAt" < ${olderThan}
      AND COALESCE(b.settings->>${BATCH_QUEUE_KEY}, ${DEFAULT_QUEUE_NAME}) = ${queue.name}
    ORDER BY i."updatedAt" ASC
    LIMIT ${opts.limit ?? 2_000}`;
  const missing: StuckItem[] = [];
  const waiting: Array<StuckItem & { waitingJob: Job<ImageJobData> }> = [];
  for (const item of stuck) {
    const job = await queue.getJob(item.id);
    if (!job) {
      missing.push(item);
      continue;
    }
    const state = await job.getState();
    if (state === "prioritized" || state === "waiting") waiting.push({ ...item, waitingJob: job });
    // Its fileUpdate was sent and the app lost access to the shop before it could tell whether it took: the image may
    // be live, so the credits stay held until a reinstall lets a run read the media (shop/redact erases it otherwise).
    if (state === "failed" && item.replaceSentAt && item.uninstalledAt) continue;
    const settleFrom = Math.max(item.replaceSentAt?.getTime() ?? 0, item.installedAt?.getTime() ?? 0);
    if (state === "failed" && item.replaceSentAt && settleFrom > Date.now() - SETTLE_SENT_REPLACEMENT_FOR_MS) {
      // Its fileUpdate was sent and the worker could not tell whether it took: run it again, which reads the media
      // (and waits for it) before anything else, instead of releasing credits for an image that may be live.
      await job.remove().catch(() => undefined);
      missing.push(item);
    } else if (state === "failed") {
      await failItem(
        db,
        item.shop,
        item.id,
        unexpectedReason(job.failedReason || "This image could not be processed; your credits were returned."),
      );
      result.failed += 1;
    } else if (state === "completed" || state === "unknown") {
      await job.remove().catch(() => undefined);
      missing.push(item);
    }
  }
  // Restores asked for whose job is gone (a crash or Redis outage between marking and enqueueing).
  const restores = await db.$queryRaw<Array<{ id: string; shop: string }>>`
    SELECT i.id, i.shop FROM "BatchItem" i JOIN "Batch" b ON b.id = i."batchId"
    WHERE i.state = 'PUBLISHED' AND i."restoreRequestedAt" < ${olderThan}
      AND COALESCE(b.settings->>${BATCH_QUEUE_KEY}, ${DEFAULT_QUEUE_NAME}) = ${queue.name}
    LIMIT ${opts.limit ?? 2_000}`;
  const lostRestores: Array<{ id: string; shop: string }> = [];
  for (const item of restores) {
    const job = await queue.getJob(`restore-${item.id}`);
    const state = job ? await job.getState() : "missing";
    if (state === "missing" || state === "completed" || state === "failed" || state === "unknown") {
      await job?.remove().catch(() => undefined);
      lostRestores.push(item);
    }
  }
  if (lostRestores.length) await enqueueRestores(queue, lostRestores);
  if (missing.length) {
    // With the same shops' waiting items, in the order they were first queued in, so each shop's images keep their
    // order (fair-share priorities follow it) even when Redis lost its data while this pass read it.
    const shops = new Set(missing.map((item) => item.shop));
    const again: Array<StuckItem & { waitingJob?: Job<ImageJobData> }> = [...missing, ...waiting.filter((item) => shops.has(item.shop))];
    again.sort((a, b) => a.batchCreatedAt.getTime() - b.batchCreatedAt.getTime() || compareQueueOrder(a, b));
    await enqueueItemsAgain(queue, again);
    result.enqueued = missing.length;
    logger.info({ count: missing.length }, "sweep re-enqueued items missing from Redis");
  }

  const unsettled = await db.$queryRaw<Array<{ id: string; shop: string; state: ItemState }>>`
    SELECT i.id, i.shop, i.state::text AS state FROM "BatchItem" i
    JOIN "CreditReservation" r ON r."batchItemId" = i.id
    WHERE r.state = 'HELD' AND i.state = ANY(${FINISHED_ITEM_STATES}::"ItemState"[])
    LIMIT 1000`;
  for (const item of unsettled) {
    try {
      if (PAID_ITEM_STATES.includes(item.state)) await captureForItem(db, item.shop, item.id);
      else await releaseForItem(db, item.shop, item.id, "settled by sweep");
      result.settled += 1;
    } catch (error) {
      if (!(error instanceof ReservationSettledError)) throw error;
    }
  }

  result.orphanCreditsReturned = await releaseAllOrphanedReservations(db);
  result.imagesExpired = await expireStoredImages(db);
  result.webhookRecordsForgotten = await forgetOldWebhookEvents(db);
  result.imagesMovedToObjectStore = await moveStoredImagesToObjectStore(db);

  const openBatches = await db.batch.findMany({ where: { status: "ACTIVE" }, select: { id: true, shop: true }, take: 1_000 });
  for (const batch of openBatches) if (await finishBatchIfDone(db, batch.shop, batch.id)) result.batchesFinished += 1;
  return result;
}

/** Runs the sweep every `intervalMs` in this process (one sweeper at a time across processes). */
export function startSweeper(
  deps: { db: PrismaClient; queue: ImageQueue },
  opts: { intervalMs: number; graceMs?: number; redis: RedisClient },
): PeriodicTask<SweepResult> {
  return startPeriodicTask({
    name: "sweep",
    redis: opts.redis,
    lockKey: `${deps.queue.qualifiedName}:sweep-lock`,
    intervalMs: opts.intervalMs,
    run: () => sweepOnce(deps, { graceMs: opts.graceMs ?? Math.min(opts.intervalMs, 5_000) }),
  });
}
