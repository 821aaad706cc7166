import { AppError, type AppErrorOptions } from "~/lib/app-error";

/** A failed DashScope call: the service's error code (or ours) and its request ID, for support. */
export abstract class QwenServiceError extends AppError {
  readonly serviceCode: string;
  readonly requestId: string | null;

  constructor(message: string, opts: AppErrorOptions & { code: string; requestId: string | null }) {
    const { code, requestId, ...options } = opts;
    super(message, options);
    this.serviceCode = code;
    this.requestId = requestId;
  }
}

/** DashScope said to slow down (HTTP 429 / Throttling.*): retry the same request after `retryAfterMs`. */
export class QwenRateLimitedError extends QwenServiceError {
  readonly retryAfterMs: number;

  constructor(message: string, opts: { retryAfterMs: number; code: string; requestId: string | null }) {
    super(message, { code: opts.code, requestId: opts.requestId, httpStatus: 503, retryable: true });
    this.name = "QwenRateLimitedError";
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/**
 * A transient failure (5xx, timeout, network, a result download that broke off): retry with backoff. Its code may be
 * ours: Timeout, NetworkError, ResultDownloadFailed.
 */
export class QwenRetryableError extends QwenServiceError {
  /** Set when the edit succeeded (and was paid for) but downloading its result failed: retry the download only. */
  readonly resultUrl: string | null;

  constructor(message: string, opts: { code: string; requestId: string | null; resultUrl?: string | null; cause?: unknown }) {
    super(message, { code: opts.code, requestId: opts.requestId, httpStatus: 502, retryable: true, cause: opts.cause });
    this.name = "QwenRetryableError";
    this.resultUrl = opts.resultUrl ?? null;
  }
}

/**
 * The request cannot succeed as it is (bad key, unpaid account, refused content...). Do not retry. Its code may be
 * ours: NoResultImage, ResultTooLarge, ResultRefused.
 */
export class QwenFatalError extends QwenServiceError {
  constructor(message: string, opts: { code: string; merchantMessage: string; requestId: string | null }) {
    super(message, { code: opts.code, requestId: opts.requestId, merchantMessage: opts.merchantMessage, httpStatus: 502 });
    this.name = "QwenFatalError";
  }
}

const SUPPORT = "If it keeps happening, contact support with the request ID.";

/** What the merchant reads for each non-retryable DashScope code. */
const FATAL_MESSAGES: Record<string, string> = {
  DataInspectionFailed:
    "The image editing service refused this image because it may contain sensitive content. Use a plain product photo (no people, text overlays or sensitive material) and try again.",
  "InvalidParameter.DataInspection":
    "The image editing service could not read this image format. Re-save the photo as JPG or PNG and try again.",
  InvalidParameter: `The image editing service rejected the request for this image. Try a different photo of the product. ${SUPPORT}`,
  InvalidApiKey:
    "Image editing is not configured correctly (the service rejected the app's API key). The app's support team has to fix this; your credits were not charged.",
  Arrearage:
    "Image editing is paused because the app's image service account needs attention. Please try again later; your credits were not charged.",
  AccessDenied:
    "Image editing is not available for the app right now (access to the model was denied). Please try again later; your credits were not charged.",
  "AccessDenied.Unpurchased":
    "Image editing is not available for the app right now (the model is not enabled). Please try again later; your credits were not charged.",
  "BadRequest.InputDownloadFailed":
    "The image editing service could not download this image. Check that the image is still on the product and try again.",
  "BadRequest.TooLarge": "The image is too large for the image editing service. Upload a smaller photo (under 10 MB) and try again.",
  InvalidURL: "The image editing service could not open this image's address. Check that the image is still on the product and try again.",
  ModelNotFound: `Image editing is not configured correctly (unknown model). ${SUPPORT}`,
};

export function fatalMerchantMessage(code: string): string {
  if (FATAL_MESSAGES[code]) return FATAL_MESSAGES[code]!;
  const family = code.split(".")[0] ?? code;
  return FATAL_MESSAGES[family] ?? `The image editing service could not edit this image (${code}). ${SUPPORT}`;
}

/** Codes that are about this request or this account, never fixed by waiting. */
export function isFatalCode(code: string): boolean {
  return (
    code in FATAL_MESSAGES ||
    code.startsWith("InvalidParameter") ||
    code.startsWith("DataInspection") ||
    code.startsWith("AccessDenied") ||
    code.startsWith("BadRequest")
  );
}
