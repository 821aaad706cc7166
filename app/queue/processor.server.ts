/**
 * One job = one batch item: download the source, reuse a cached result or call Qwen, post-process and
 * check (editProductImage), checkpoint the processed image, then hold it for review or publish it in
 * place on the product. Every step can be repeated after a crash without a second Qwen charge, a
 * second copy of the image on the product, or a second credit charge.
 *
 * Crash points (a worker killed at any line; the job is re-run by stalled-job recovery or the sweep):
 * - after the Qwen call, before saveStoredImage: the edit is lost and Qwen is called again on retry
 *   (one extra model call, no extra credits; nothing reached the product).
 * - after saveStoredImage, before the checkpoint: the retry finds the result under its cache key
 *   (source hash + pipeline + settings) and does not call Qwen again.
 * - after the checkpoint: resultImageId is set, so the retry goes straight to publishing.
 * - after the backup row, before fileCreate: the row has no fileId; the retry runs fileCreate.
 *   After fileCreate, before its id is saved: the retry copies the original again (an extra file in
 *   Files, never on the product). The media is replaced only once its backup is READY.
 * - after stagedUploadsCreate/upload: the resource URL is on the job (stagedUrl) or the upload is redone.
 * - after fileUpdate: the retry replaces the SAME MediaImage with the same bytes again (same id,
 *   position, alt) or, if `replaced` was saved, only waits for READY. Never a second media. Either way credits are
 *   captured only if READY shows a changed file: a failed replacement, acknowledged, shows the original READY again.
 * - after capture, before PUBLISHED: captureForItem answers "already" (keyed per item), the retry marks
 *   it PUBLISHED; failItem also turns a captured item into PUBLISHED rather than releasing.
 * The SIGKILL test (test/integration/worker/kill-recovery.test.ts) kills workers at arbitrary points
 * of a 20-image batch three times and checks every image once, 20 captures, 20 backups.
 */
import type { Job } from "bullmq";
import { UnrecoverableError } from "bullmq";
import { Prisma, type BatchItem, type PrismaClient } from "@prisma/client";
import { SessionNotFoundError } from "@shopify/shopify-app-remix/server";
import {
  checkCachedResult,
  contentHash,
  editProductImage,
  resultCacheKey,
  type ComplianceReport,
  type CutOffReport,
  type EditInput,
  type FidelityReport,
  type ImageEditor,
} from "~/imaging/edit-product-image";
import { ImageInputError, ImageResultError } from "~/imaging/errors";
import { fileExtensionFor, inspectImage } from "~/imaging/inspect";
import { isPipelineId, type PipelineId, type PipelineSettings } from "~/imaging/pipelines";
import { AppError } from "~/lib/app-error";
import { logger } from "~/lib/logger.server";
import type { MerchantText, MessageCode } from "~/lib/merchant-message";
import { fetchImage, fetchPolicyFromEnv, SHOPIFY_CDN_HOSTS, UnsafeFetchError } from "~/lib/safe-fetch.server";
import type { AltTextWriter } from "~/qwen/alt-text";
import { QwenFatalError, QwenRateLimitedError } from "~/qwen/errors";
import { IN_FLIGHT_ITEM_STATES } from "~/models/batch-item-states";
import { findItemWithBatch, transition } from "~/models/batch-items.server";
import { updatedIfMatched } from "~/lib/guarded-update.server";
import { reopenNewProductEventOf } from "~/models/auto-rule.server";
import { BATCH_REVIEW_KEY, finishBatchIfDone, pipelineSettingsOf } from "~/models/batches.server";
import { ShopifyApiError, ShopifyThrottledError, ShopifyUserError, type AdminGraphql } from "~/lib/admin-graphql.server";
import {
  ShopifyFileFailedError,
  getMediaImage,
  gidNumber,
  replaceMediaImage,
  shopPrimaryLocale,
  stagedUpload,
  waitForFileReady,
} from "~/models/catalog.server";
import { captureForItem, releaseForItem, ReservationSettledError } from "~/models/credit-reservations.server";
import { NOT_INSTALLED, RECONNECT, ShopAccessLostError } from "~/models/offline-sessions.server";
import {
  checkShopAvailable,
  markShopUnavailable,
  shopUnavailableStatusOf,
  storedUnavailableStatus,
  unavailableReason,
} from "~/models/shop-availability.server";
import { supersedeOtherVersions } from "~/models/versions.server";
import {
  ensureBackupReady,
  ensureOriginalBackedUp,
  findStoredImageById,
  findStoredImageByKey,
  saveStoredImage,
  type StoredImageData,
} from "~/models/stored-images.server";
import type { QueueConfig } from "./config.server";
import type { ImageJobData, ImageJobOutcome } from "./jobs";
import type { RateLimiter } from "./qwen-rate-limit.server";
import { workerEditor, type Semaphore } from "./worker-editor.server";

function inSlot<T>(slots: Semaphore | undefined, fn: () => Promise<T>): Promise<T> {
  return slots ? slots.run(fn) : fn();
}

export interface WorkerDeps {
  db: PrismaClient;
  /** The Admin GraphQL client for a shop (production: `offlineSessions.adminGraphql(shop)`). */
  adminFor(shop: string): Promise<AdminGraphql>;
  editor: ImageEditor;
  /** Suggests alt text for processed images (Qwen-VL); none without it. */
  altText?: AltTextWriter;
  config: Pick<QueueConfig, "allowedImageHosts" | "maxSourceBytes" | "maxSourcePixels" | "fileReadyTimeoutMs" | "lockDurationMs">;
  qwenLimiter?: RateLimiter;
  /** How many jobs of this process may decode/encode images at once (I/O waits do not hold one). */
  imageSlots?: Semaphore;
  /** How many model requests this process keeps in flight (WORKER_CONCURRENCY); more jobs than that may run. */
  modelSlots?: Semaphore;
  /** Seam for metrics: called once per job when the item reaches an outcome for this run. */
  onOutcome?(
    outcome: ImageJobOutcome,
    info: { shop: string; itemId: string; pipeline?: string; reason?: string; durationMs: number },
  ): void;
}

/**
 * This run no longer holds its job's lock: it stalled past the lock and stalled-job recovery gave the job to another
 * run. It stops before anything irreversible (fileUpdate) and leaves the item, its credits and the job to that run.
 */
export class JobLockLostError extends Error {
  constructor(jobId: string | undefined) {
    super(`job ${jobId ?? "?"} is being run by another worker`);
    this.name = "JobLockLostError";
  }
}

/** The item cannot succeed; the reason is what the merchant reads. */
class ItemFailedError extends AppError {
  constructor(readonly reason: MerchantText) {
    super(reason.text, { merchant: reason.message });
    this.name = "ItemFailedError";
  }
}

const IN_FLIGHT: BatchItem["state"][] = [...IN_FLIGHT_ITEM_STATES];

function json(value: unknown): Prisma.InputJsonValue {
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

/** Results DashScope made that this app refuses (too large, or from an address it will not fetch). */
const REFUSED_RESULT_CODES = new Set(["ResultTooLarge", "ResultRefused"]);
/** DashScope codes (or their family) that say the service, not the image, is the problem. */
const SERVICE_UNAVAILABLE_CODES = new Set(["InvalidApiKey", "Arrearage", "AccessDenied", "ModelNotFound"]);

function editRefusedCode(code: string): MessageCode {
  if (REFUSED_RESULT_CODES.has(code)) return "itemResultRefused";
  if (code === "DataInspectionFailed") return "itemEditSensitive";
  return SERVICE_UNAVAILABLE_CODES.has(code.split(".")[0] ?? code) ? "itemEditUnavailable" : "itemEditRefused";
}

/** Text we do not control (Shopify's, DashScope's), carried as it is inside a sentence in the merchant's language. */
export function unexpectedReason(text: string): MerchantText {
  return { text, message: { code: "itemFailedUnexpected", params: { detail: text } } };
}

/** A merchant-readable sentence (and its message) for a terminal error, or null when the error is worth retrying. */
export function terminalReason(error: unknown): MerchantText | null {
  if (error instanceof ItemFailedError) return error.reason;
  if (error instanceof QwenFatalError) {
    return { text: error.merchantMessage, message: { code: editRefusedCode(error.serviceCode), params: { code: error.serviceCode } } };
  }
  // Retrying an ImageResultError would pay Qwen again for an edit that rarely comes out better.
  if (error instanceof ImageInputError || error instanceof ImageResultError) {
    return error.merchant ? { text: error.merchantMessage, message: error.merchant } : unexpectedReason(error.merchantMessage);
  }
  if (error instanceof ShopifyFileFailedError) return unexpectedReason(error.merchantMessage);
  if (error instanceof ShopifyUserError) return shopifyRefused(error.message);
  if (error instanceof ShopAccessLostError) return error.lost;
  if (error instanceof ShopifyApiError && error.terminal) {
    const unavailable = shopUnavailableStatusOf(error);
    if (unavailable) return unavailableReason(unavailable);
    return error.shopifyStatus === 401 || error.shopifyStatus === 403 ? RECONNECT : shopifyRefused(error.message);
  }
  if (error instanceof UnsafeFetchError && error.permanent) {
    return {
      text: `The original image could not be downloaded: ${error.message}`,
      message: { code: "itemDownloadFailed", params: { detail: error.message } },
    };
  }
  if (error instanceof SessionNotFoundError) return NOT_INSTALLED;
  return null;
}

function shopifyRefused(detail: string): MerchantText {
  return { text: `${detail}.`, message: { code: "itemShopifyRefused", params: { detail } } };
}

/**
 * Processes one item. Rate-limit errors (QwenRateLimitedError, ShopifyThrottledError) are rethrown
 * for the Worker to turn into a queue pause or a delay; terminal errors and the last retryable
 * failure mark the item FAILED, release its credits and throw UnrecoverableError.
 */
export async function processImageJob(job: Job<ImageJobData>, deps: WorkerDeps, token?: string): Promise<ImageJobOutcome> {
  const { itemId, shop } = job.data;
  const started = Date.now();
  const seen: { pipeline?: string } = {};
  const report = (outcome: ImageJobOutcome, reason?: string) => {
    deps.onOutcome?.(outcome, { shop, itemId, pipeline: seen.pipeline, reason, durationMs: Date.now() - started });
    return outcome;
  };
  try {
    return report(await runItem(deps, job, seen, token));
  } catch (error) {
    if (error instanceof QwenRateLimitedError || error instanceof ShopifyThrottledError) throw error;
    if (error instanceof JobLockLostError) {
      logger.info({ shop, itemId, jobId: job.id }, "job taken over by another run after this one stalled; stopping");
      throw error;
    }
    // Shopify refuses the whole store (frozen or locked): the shop's next jobs ask before they pay for a model call.
    const unavailable = shopUnavailableStatusOf(error);
    if (unavailable) await markShopUnavailable(deps.db, shop, unavailable);
    const reason = terminalReason(error);
    const attempts = job.opts.attempts ?? 1;
    const lastAttempt = job.attemptsMade + 1 >= attempts;
    if (reason === null && !lastAttempt) {
      logger.warn(
        { shop, itemId, jobId: job.id, attempt: job.attemptsMade + 1, err: (error as Error).message },
        "item attempt failed; will retry",
      );
      throw error;
    }
    const detail = (error as Error).message;
    const finalReason: MerchantText = reason ?? {
      text: `This image could not be finished after ${attempts} attempts (${detail}). Your credits were returned; try it again later.`,
      message: { code: "itemFailedAfterAttempts", params: { attempts, detail } },
    };
    // One read of the item serves both the settlement and the failure.
    const current = await deps.db.batchItem.findFirst({ where: { id: itemId, shop } });
    const settled = await settleSentReplacement(deps, shop, current, finalReason.text);
    if (settled === "undecided") throw error;
    if (settled === "published") return report("published");
    if (settled === "access-lost") {
      logger.warn({ shop, itemId, jobId: job.id }, "replacement sent, then access to the shop was lost: credits held until it returns");
      throw new UnrecoverableError(finalReason.text);
    }
    // The automatic rule adds such an image again once the store answers (a catalogue run finds its own in its batch):
    // its event opens again with the move to FAILED, in one transaction, or neither happens and the job's retry fails it.
    const withFailure = unavailable ? (tx: Prisma.TransactionClient) => reopenNewProductEventOf(tx, shop, itemId) : undefined;
    const outcome = await failItem(deps.db, shop, itemId, finalReason, current, withFailure);
    report(outcome, finalReason.text);
    logger.warn({ shop, itemId, jobId: job.id, reason: finalReason.text }, "item failed");
    throw new UnrecoverableError(finalReason.text);
  }
}

async function runItem(
  deps: WorkerDeps,
  job: Job<ImageJobData>,
  seen: { pipeline?: string },
  token: string | undefined,
): Promise<ImageJobOutcome> {
  const { db } = deps;
  const { shop, itemId } = job.data;
  const item = await findItemWithBatch(db, shop, itemId);
  if (!item) return "already-done";
  if (!IN_FLIGHT.includes(item.state)) return "already-done";
  const started = await transition(db, {
    shop,
    itemId,
    from: IN_FLIGHT,
    to: "PROCESSING",
    data: { startedAt: item.startedAt ?? new Date(), attempts: { increment: 1 } },
  });
  // Cancelled or settled since it was read: nothing to download or edit.
  if (started === 0) return "already-done";
  if (!isPipelineId(item.batch.pipeline)) {
    throw new ItemFailedError({
      text: `The pipeline "${item.batch.pipeline}" no longer exists.`,
      message: { code: "itemPipelineGone", params: { pipeline: item.batch.pipeline } },
    });
  }
  const pipeline = item.batch.pipeline;
  seen.pipeline = pipeline;
  const settings = pipelineSettingsOf(item.batch.settings);
  const graphql = await deps.adminFor(shop);
  // A job of this shop met Shopify refusing the store (frozen or locked): ask once before downloading the original or
  // paying for a model call. Still refused: the ShopifyApiError fails the item with its reason (credits returned, or
  // held as they are when a replacement was already sent); answered: the mark is cleared and the job goes on.
  if (storedUnavailableStatus(item.shopUnavailableStatus)) await checkShopAvailable(db, graphql, shop);

  let resultImageId = item.resultImageId;
  let produced: StoredImageData | undefined;
  if (!resultImageId) {
    const checkpoint = await produceResult(deps, graphql, item, pipeline, settings, item.batch.settings);
    if (checkpoint === "cancelled") return "cancelled";
    if (checkpoint.needsReview) {
      await finishBatchIfDone(db, shop, item.batchId);
      return "needs-review";
    }
    resultImageId = checkpoint.resultImageId;
    produced = checkpoint.image;
    item.suggestedAlt = checkpoint.suggestedAlt;
  }
  return publishItem(deps, graphql, item, resultImageId, { job, token, produced });
}

/** Source -> (cache or Qwen) -> post-processed, checked image, checkpointed in one update. */
async function produceResult(
  deps: WorkerDeps,
  graphql: AdminGraphql,
  item: BatchItem,
  pipeline: PipelineId,
  settings: PipelineSettings,
  batchSettings: Prisma.JsonValue,
): Promise<"cancelled" | { resultImageId: string; image: StoredImageData; needsReview: boolean; suggestedAlt: string | null }> {
  const { db } = deps;
  // Product sources come from Shopify's CDN (plus configured stand-ins), re-checked on every redirect.
  // Held in a box that is emptied once the model's input is made: a 20 MP original need not wait for the model.
  const source: { bytes: Buffer | null } = {
    bytes: (
      await fetchImage(
        item.sourceUrl,
        fetchPolicyFromEnv({
          overrides: { allowedHosts: [...SHOPIFY_CDN_HOSTS, ...deps.config.allowedImageHosts], maxBytes: deps.config.maxSourceBytes },
        }),
      )
    ).bytes,
  };
  const sourceBytes = () => {
    if (!source.bytes) throw new Error("the original was already let go");
    return source.bytes;
  };
  const info = await inspectImage(sourceBytes());
  if (info.width * info.height > deps.config.maxSourcePixels) {
    const limit = Math.round(deps.config.maxSourcePixels / 1e6);
    throw new ItemFailedError({
      text: `The original image is ${info.width}x${info.height} pixels, more than the ${limit} MP this app accepts. Upload a smaller image and try again.`,
      message: { code: "itemSourceTooLarge", params: { width: info.width, height: info.height, limit } },
    });
  }
  const sourceHash = contentHash(sourceBytes());
  // A "Try again" is a new edit of the same source: its own key, so it is never served the earlier result.
  const cacheKey = resultCacheKey(sourceHash, pipeline, settings, item.retryOfId ? `try:${item.id}` : undefined);

  let stored = await findStoredImageByKey(db, item.shop, cacheKey);
  let compliance: ComplianceReport;
  let fidelity: FidelityReport;
  let framing: CutOffReport;
  // The alt text's copy of the result comes from the check's decode when an alt text will be asked for.
  const describe = Boolean(deps.altText) && !item.suggestedAlt;
  let preview: Buffer | null;
  if (stored) {
    // Same bytes, same pipeline and settings: reuse the result, no second Qwen charge.
    const cached = stored;
    ({
      compliance,
      fidelity,
      framing,
      describePreview: preview,
    } = await inSlot(deps.imageSlots, () =>
      checkCachedResult(sourceBytes(), cached.bytes, pipeline, settings, { describe, sourceInfo: info }),
    ));
  } else {
    const current = await db.batchItem.findFirst({ where: { id: item.id, shop: item.shop }, select: { state: true } });
    if (!current || !IN_FLIGHT.includes(current.state)) return "cancelled";
    // The Qwen quota slot is taken inside the editor, right before the request leaves.
    const editor = workerEditor(deps.editor, { limiter: deps.qwenLimiter, imageSlots: deps.imageSlots, modelSlots: deps.modelSlots });
    const input: EditInput = {
      source: sourceBytes(),
      sourceMimeType: info.mimeType,
      sourceInfo: info,
      pipeline,
      settings,
      editor,
      instruction: item.instruction,
      describe,
    };
    input.onModelInputReady = () => {
      input.source = Buffer.alloc(0);
      source.bytes = null;
    };
    const result = await inSlot(deps.imageSlots, () => editProductImage(input));
    const saved = await saveStoredImage(db, item.shop, cacheKey, result);
    stored = { id: saved.id, bytes: result.bytes, mimeType: result.mimeType, width: result.width, height: result.height };
    compliance = result.compliance;
    fidelity = result.fidelity;
    framing = result.framing;
    preview = result.describePreview;
  }

  const review = reviewChoiceOf(batchSettings) ?? (await shopReviews(db, item.shop));
  const held = heldReason(fidelity, framing, compliance, review);
  const needsReview = held !== null;
  const suggestedAlt = item.suggestedAlt ?? (await suggestAltText(deps, graphql, item, { bytes: stored.bytes, preview }));

  // The checkpoint and the review decision land together: a retry finds either nothing or both.
  const checkpoint = {
    resultImageId: stored.id,
    contentHash: sourceHash,
    compliance: json(compliance),
    fidelity: json(fidelity),
    framing: json(framing),
    suggestedAlt,
  };
  const updated = held
    ? (await transition(db, {
        shop: item.shop,
        itemId: item.id,
        from: IN_FLIGHT,
        to: "NEEDS_REVIEW",
        data: { ...checkpoint, reason: held.text, reasonMessage: held.message, finishedAt: new Date() },
      })) > 0
    : await updatedIfMatched(
        db.batchItem.update({ where: { id: item.id, shop: item.shop, state: { in: IN_FLIGHT } }, data: checkpoint, select: { id: true } }),
      );
  if (!updated) return "cancelled";
  return { resultImageId: stored.id, image: stored, needsReview, suggestedAlt };
}

/**
 * Why a result waits for the merchant, or null when it may be published. The English text lists every reason; the
 * message names the first (the gallery words all of them from the stored reports, in the viewer's language).
 */
function heldReason(fidelity: FidelityReport, framing: CutOffReport, compliance: ComplianceReport, review: boolean): MerchantText | null {
  const reasons: Array<{ text: string; code: MessageCode }> = [];
  if (fidelity.verdict === "altered")
    reasons.push({ text: fidelity.message ?? "The product may have been altered.", code: "itemHeldAltered" });
  // Held, so that bulk publishing never publishes a cropped-looking product unseen; the merchant may still approve it.
  if (framing.message) reasons.push({ text: framing.message, code: "itemHeldCutOff" });
  if (!compliance.passed) {
    const failed = compliance.rules.filter((r) => !r.passed).map((r) => `${r.label} (${r.measured}, expected ${r.expected})`);
    reasons.push({ text: `Does not meet every rule: ${failed.join("; ")}.`, code: "itemHeldRules" });
  }
  if (reasons.length === 0 && review)
    reasons.push({ text: "Waiting for your review (review before publishing is on).", code: "itemHeldForReview" });
  if (reasons.length === 0) return null;
  return { text: reasons.map((r) => r.text).join(" "), message: { code: reasons[0]!.code } };
}

const primaryLocales = new Map<string, { locale: string; at: number }>();
const LOCALE_TTL_MS = 60 * 60 * 1000;

/**
 * Alt text for the processed image in the shop's primary language, or null: it never holds up or fails the image
 * (the merchant can still write one), and a shop whose language cannot be read gets English.
 */
async function suggestAltText(
  deps: WorkerDeps,
  graphql: AdminGraphql,
  item: BatchItem,
  image: { bytes: Buffer; preview: Buffer | null },
): Promise<string | null> {
  if (!deps.altText) return null;
  try {
    let known = primaryLocales.get(item.shop);
    if (!known || Date.now() - known.at > LOCALE_TTL_MS) {
      const locale = await shopPrimaryLocale(graphql).catch((error: Error) => {
        logger.warn({ shop: item.shop, err: error.message }, "could not read the shop's language; alt text in English");
        return "en";
      });
      known = { locale, at: Date.now() };
      primaryLocales.set(item.shop, known);
    }
    return await deps.altText.describe({
      image: image.bytes,
      preview: image.preview,
      productTitle: item.productTitle,
      locale: known.locale,
    });
  } catch (error) {
    logger.warn({ shop: item.shop, itemId: item.id, err: (error as Error).message }, "no alt text suggested");
    return null;
  }
}

/**
 * Back up the original once, upload the result, fileUpdate the SAME MediaImage (once: a run that finds an earlier
 * run's replacement already live does not send another), wait until Shopify shows it, capture the credits, done.
 */
async function publishItem(
  deps: WorkerDeps,
  graphql: AdminGraphql,
  item: BatchItem,
  resultImageId: string,
  {
    job,
    token,
    produced,
  }: {
    job: Job<ImageJobData>;
    token: string | undefined;
    /** The result as this run made it (found or saved): not read again. */
    produced?: StoredImageData;
  },
): Promise<ImageJobOutcome> {
  const { db } = deps;
  // Extending the lock right before fileUpdate keeps any other run off this job until Shopify has the replacement.
  const holdJobLock = async () => {
    if (token && !(await job.extendLock(token, deps.config.lockDurationMs))) throw new JobLockLostError(job.id);
  };
  const remember = async (patch: Partial<ImageJobData>) => {
    await job
      .updateData({ ...job.data, ...patch })
      .catch((error: Error) => logger.warn({ itemId: item.id, err: error.message }, "could not save job progress"));
  };
  if (!job.data.replaced) {
    const image = produced ?? (await findStoredImageById(db, item.shop, resultImageId));
    if (!image) {
      throw new ItemFailedError({
        text: "The processed image was lost before it could be published; your credits were returned.",
        message: { code: "itemResultLost" },
      });
    }

    let media = await getMediaImage(graphql, item.mediaId);
    if (!media) {
      throw new ItemFailedError({
        text: "This image was deleted from the product before it could be replaced; your credits were returned.",
        message: { code: "itemMediaDeleted" },
      });
    }
    // A previous run may have left the media mid-update; let Shopify finish before replacing again.
    if (media.fileStatus === "PROCESSING" || media.fileStatus === "UPLOADED") {
      media = await waitForFileReady(graphql, item.mediaId, { timeoutMs: deps.config.fileReadyTimeoutMs }).catch((error: unknown) => {
        if (!(error instanceof ShopifyFileFailedError)) throw error;
        return media;
      });
    } else if (media.fileStatus === "FAILED") {
      await waitForFileReady(graphql, item.mediaId, { timeoutMs: 1 }).catch(() => undefined);
    }

    // Start the copy of the original first; Shopify makes it while the result is uploaded.
    const backup = await ensureOriginalBackedUp(db, graphql, item.shop, item);
    let resourceUrl = job.data.stagedUrl;
    if (!resourceUrl) {
      resourceUrl = await stagedUpload(graphql, {
        bytes: image.bytes,
        filename: `${gidNumber(item.mediaId)}-${item.id.slice(0, 8)}.${fileExtensionFor(image.mimeType) ?? "jpg"}`,
        mimeType: image.mimeType,
      });
      await remember({ stagedUrl: resourceUrl });
    }
    await ensureBackupReady(db, graphql, item.shop, item, { timeoutMs: deps.config.fileReadyTimeoutMs, backup });
    // The cancel check and the mark are one update: an uninstall (cancelShopWork) either cancels the item before it,
    // or finds the replacement on its way and leaves the item to be published and paid (restorable) or settled.
    // Alt text goes with the image only where the merchant has written none; theirs is changed only when they ask.
    const altWithImage = !item.alt?.trim() && item.suggestedAlt ? item.suggestedAlt : undefined;
    const markedByThisRun = await updatedIfMatched(
      db.batchItem.update({
        where: { id: item.id, shop: item.shop, state: { in: IN_FLIGHT }, replaceSentAt: null },
        // What the media showed before: another version of this image may be live, so the item's source is not it.
        data: { replaceSentAt: new Date(), writtenAlt: altWithImage ?? null, replaceFromUrl: media?.url ?? null },
        select: { id: true },
      }),
    );
    if (markedByThisRun) item.replaceFromUrl = media?.url ?? null;
    else {
      const sentBefore = await db.batchItem.findFirst({
        where: { id: item.id, shop: item.shop, state: { in: IN_FLIGHT }, replaceSentAt: { not: null } },
        select: { replaceFromUrl: true },
      });
      if (!sentBefore) return "cancelled";
      // Another run may have marked it since this one read the item.
      item.replaceFromUrl = sentBefore.replaceFromUrl;
    }
    // An earlier run sent the replacement and died before recording it (a crash or SIGKILL between fileUpdate and
    // the capture): if it took, it is not sent again, so each edit replaces the media once.
    const tookBefore = !markedByThisRun && replacementTook(await getMediaImage(graphql, item.mediaId), item);
    if (!tookBefore)
      await sendReplacement(deps, graphql, item, resourceUrl, {
        markedByThisRun,
        beforeSend: holdJobLock,
        alt: altWithImage,
      });
    await remember({ replaced: true });
  }
  const ready = await waitForFileReady(graphql, item.mediaId, { timeoutMs: deps.config.fileReadyTimeoutMs });
  // READY is not enough, nor is `replaced`: an earlier run may have seen Shopify fail the replacement and acknowledged
  // it (the original shows again, READY) before a passing error had the job retried. Only a changed file is paid for.
  if (!replacementTook(ready, item)) throw new ShopifyFileFailedError("Shopify could not process the new image.");

  try {
    await captureForItem(db, item.shop, item.id);
  } catch (error) {
    if (error instanceof ReservationSettledError) {
      logger.warn({ shop: item.shop, itemId: item.id }, "reservation was released before capture (cancelled?)");
      return "cancelled";
    }
    throw error;
  }
  await markPublished(db, item);
  logger.info({ shop: item.shop, itemId: item.id, mediaId: item.mediaId }, "image published");
  return "published";
}

/** The item is live: PUBLISHED, and the version of the same image that was live before (if any) is SUPERSEDED. */
async function markPublished(db: PrismaClient, item: Pick<BatchItem, "id" | "shop" | "batchId" | "retryOfId">): Promise<void> {
  const moved = await transition(db, {
    shop: item.shop,
    itemId: item.id,
    from: IN_FLIGHT,
    to: "PUBLISHED",
    data: { reason: null, reasonMessage: Prisma.DbNull, finishedAt: new Date(), pickedAt: null },
  });
  // Superseding finishes the item's batch if it is done.
  if (moved > 0) await supersedeOtherVersions(db, item);
  else await finishBatchIfDone(db, item.shop, item.batchId);
}

/** fileUpdate of the item's media with the uploaded result; a concurrent duplicate run's update is waited out. */
async function sendReplacement(
  deps: WorkerDeps,
  graphql: AdminGraphql,
  item: BatchItem,
  resourceUrl: string,
  opts: { markedByThisRun: boolean; beforeSend: () => Promise<void>; alt: string | undefined },
): Promise<void> {
  const { db } = deps;
  const replacement = { mediaId: item.mediaId, originalSource: resourceUrl, ...(opts.alt ? { alt: opts.alt } : {}) };
  try {
    await opts.beforeSend();
    await replaceMediaImage(graphql, replacement);
  } catch (error) {
    if (error instanceof ShopAccessLostError && opts.markedByThisRun) {
      // Shopify refused this request itself (or it could not be sent), and no earlier run sent one: nothing was
      // replaced, so the item may fail and give its credits back.
      await db.batchItem.updateMany({ where: { id: item.id, shop: item.shop }, data: { replaceSentAt: null } });
    }
    if (!(error instanceof ShopifyUserError) || !error.userErrors.some((e) => e.code === "NON_READY_STATE")) throw error;
    // Another run of this job (a duplicate after a lost lock) is replacing the media with the same processed image
    // right now: let Shopify finish it, and send ours only if that one did not take.
    const media = await waitForFileReady(graphql, item.mediaId, { timeoutMs: deps.config.fileReadyTimeoutMs }).catch(
      (waitError: unknown) => {
        if (!(waitError instanceof ShopifyFileFailedError)) throw waitError;
        return null;
      },
    );
    if (!replacementTook(media, item)) {
      await opts.beforeSend();
      await replaceMediaImage(graphql, replacement);
    }
  }
}

/** The media shows another file than it showed before the item's replacement was sent: the replacement took. */
function replacementTook(media: { url: string | null } | null, item: Pick<BatchItem, "sourceUrl" | "replaceFromUrl">): boolean {
  return media?.url != null && fileVersionOf(media.url) !== fileVersionOf(item.replaceFromUrl ?? item.sourceUrl);
}

/**
 * A final failure after fileUpdate was sent must not release the credits blindly: Shopify may still finish the
 * replacement, leaving the image live, unpaid and (as the item is not PUBLISHED) not restorable. So the media is
 * read again. READY with another file than the original (its CDN URL's version changed, see fileVersionOf):
 * the replacement took, the credits are captured and the item is PUBLISHED. Deleted, FAILED (acknowledged, so the
 * original stays) or READY with the original: nothing of ours is live ("not-replaced": the caller fails the item).
 * Still processing, or unreadable: "undecided", the item keeps its credits held and the sweep runs it again.
 * Unreadable because the app has lost access to the shop (uninstalled, token refused for good): "access-lost", the
 * item keeps its credits held as for "undecided", but no retry can read it until the merchant opens the app again.
 * Items whose replacement was never sent are "not-replaced" at once.
 */
async function settleSentReplacement(
  deps: Pick<WorkerDeps, "db" | "adminFor">,
  shop: string,
  item: BatchItem | null,
  reason: string,
): Promise<"published" | "not-replaced" | "undecided" | "access-lost"> {
  const { db } = deps;
  if (!item?.replaceSentAt || !IN_FLIGHT.includes(item.state)) return "not-replaced";
  const itemId = item.id;
  let media: Awaited<ReturnType<typeof getMediaImage>>;
  try {
    const graphql = await deps.adminFor(shop);
    media = await getMediaImage(graphql, item.mediaId);
    if (media?.fileStatus === "FAILED") media = await waitForFileReady(graphql, item.mediaId, { timeoutMs: 1 }).catch(() => null);
  } catch (error) {
    const unavailable = shopUnavailableStatusOf(error);
    if (unavailable) await markShopUnavailable(db, shop, unavailable);
    if (await accessLostForGood(db, shop, error)) return "access-lost";
    logger.warn({ shop, itemId, err: (error as Error).message }, "replacement sent but the media cannot be read: settled later");
    return "undecided";
  }
  if (media && media.fileStatus !== "READY") return "undecided";
  if (!replacementTook(media, item)) return "not-replaced";
  await captureForItem(db, shop, itemId).catch((error: unknown) => {
    if (!(error instanceof ReservationSettledError)) throw error;
  });
  await markPublished(db, item);
  logger.warn({ shop, itemId, mediaId: item.mediaId, reason }, "replacement finished after the worker gave up waiting: published");
  return "published";
}

/**
 * No retry can reach the shop until the merchant opens the app again: its offline session is gone or refused for good,
 * Shopify refuses the token, or the shop is marked uninstalled (whatever the read failed with).
 */
async function accessLostForGood(db: PrismaClient, shop: string, error: unknown): Promise<boolean> {
  if (error instanceof ShopAccessLostError || error instanceof SessionNotFoundError) return true;
  if (error instanceof ShopifyApiError && error.terminal && (error.shopifyStatus === 401 || error.shopifyStatus === 403)) return true;
  const row = await db.shop.findUnique({ where: { domain: shop }, select: { uninstalledAt: true } });
  return row?.uninstalledAt != null;
}

/** The shop's "review before publishing" setting, read when the result is decided so a change applies to the next image. */
async function shopReviews(db: PrismaClient, shop: string): Promise<boolean> {
  const row = await db.shop.findUnique({ where: { domain: shop }, select: { reviewBeforePublish: true } });
  return row?.reviewBeforePublish ?? false;
}

/** An automatic batch carries its rule's review choice; a manual batch follows the shop's setting (null). */
function reviewChoiceOf(batchSettings: Prisma.JsonValue): boolean | null {
  const value =
    batchSettings && typeof batchSettings === "object" && !Array.isArray(batchSettings) ? batchSettings[BATCH_REVIEW_KEY] : undefined;
  return typeof value === "boolean" ? value : null;
}

/**
 * Which file a Shopify CDN URL serves: its path and its `v` (version). Replacing a file's content keeps the path and
 * changes `v`; size transforms (`width`, `height`) name the same file.
 */
function fileVersionOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}?v=${parsed.searchParams.get("v") ?? ""}`;
  } catch {
    return url;
  }
}

/**
 * Final failure: the item becomes FAILED with its reason, then its credits are released. If the
 * credits were already captured, the image was in fact published (a crash hit after the capture).
 * `withFailure` runs in the same transaction as this call's move to FAILED (not when another writer moved it): if it
 * throws, the item stays in flight for the job's retry.
 */
export async function failItem(
  db: PrismaClient,
  shop: string,
  itemId: string,
  reason: MerchantText,
  /** The item as the caller just read it, or undefined to read it here. */
  known?: Pick<BatchItem, "id" | "shop" | "batchId" | "retryOfId" | "pickedAt"> | null,
  withFailure?: (tx: Prisma.TransactionClient) => Promise<void>,
): Promise<ImageJobOutcome> {
  const item =
    known !== undefined
      ? known
      : await db.batchItem.findFirst({
          where: { id: itemId, shop },
          select: { id: true, shop: true, batchId: true, retryOfId: true, pickedAt: true },
        });
  if (!item) return "failed";
  if (item.pickedAt) {
    // A version paid for earlier, picked to go on the product again: it stays paid and off the product; the version
    // the product showed keeps being what it is.
    await transition(db, {
      shop,
      itemId,
      from: IN_FLIGHT,
      to: "SUPERSEDED",
      data: {
        pickedAt: null,
        reason: `This version could not be published again: ${reason.text}`,
        reasonMessage: { code: "itemRepublishFailed", params: { detail: reason.text } },
        finishedAt: new Date(),
      },
    });
    await finishBatchIfDone(db, shop, item.batchId);
    return "failed";
  }
  const reservation = await db.creditReservation.findFirst({ where: { shop, batchItemId: itemId }, select: { state: true } });
  if (reservation?.state === "CAPTURED") {
    await markPublished(db, item);
    return "published";
  }
  const toFailed = (tx: Prisma.TransactionClient) =>
    transition(tx, {
      shop,
      itemId,
      from: IN_FLIGHT,
      to: "FAILED",
      data: { reason: reason.text, reasonMessage: reason.message, finishedAt: new Date() },
    });
  const moved = withFailure
    ? await db.$transaction(
        async (tx) => {
          const count = await toFailed(tx);
          if (count > 0) await withFailure(tx);
          return count;
        },
        // Longer than finishNewProductEvent's hold on the event's row, which a reopen waits for.
        { maxWait: 15_000, timeout: 30_000 },
      )
    : await toFailed(db);
  // FAILED is final, so only an item this update did not move needs reading again.
  const after =
    moved > 0 ? { state: "FAILED" as const } : await db.batchItem.findFirst({ where: { id: itemId, shop }, select: { state: true } });
  if (after?.state === "FAILED" || after?.state === "CANCELLED") {
    await releaseForItem(db, shop, itemId, reason.text.slice(0, 200)).catch((error: unknown) => {
      if (!(error instanceof ReservationSettledError)) throw error;
    });
  }
  await finishBatchIfDone(db, shop, item.batchId);
  return after?.state === "CANCELLED" ? "cancelled" : "failed";
}
