import { AppError } from "~/lib/app-error";
import type { MessageCode, MessageParams } from "~/lib/merchant-message";

/** Each defect's sentence in the merchant's language; a defect without one reads as an unexpected failure. */
const DEFECT_MESSAGES: Record<string, MessageCode> = {
  empty: "itemImageEmpty",
  "too-large": "itemImageTooLarge",
  "unsupported-format": "itemImageUnsupported",
  corrupt: "itemImageCorrupt",
  truncated: "itemImageTruncated",
  "too-many-pixels": "itemImageTooManyPixels",
  "too-small": "itemImageTooSmall",
  "aspect-ratio": "itemImageAspect",
  "too-detailed": "itemImageTooDetailed",
  "unreadable-result": "itemResultDamaged",
  "no-product": "itemNoProduct",
};

function merchantFor(defect: string, params: MessageParams | undefined) {
  const code = DEFECT_MESSAGES[defect];
  return code ? { code, params: params ?? {} } : null;
}

/**
 * A source image the pipeline cannot use. Not retryable: the same bytes fail the same way.
 * `merchantMessage` is written for the merchant and says what they can do about it; `params` are its numbers and
 * names, for the same sentence in the merchant's language.
 */
export class ImageInputError extends AppError {
  /** What is wrong with the image ("corrupt", "too-many-pixels", ...). */
  readonly defect: string;

  constructor(defect: string, merchantMessage: string, options?: { cause?: unknown; detail?: string; params?: MessageParams }) {
    super(options?.detail ? `${merchantMessage} (${options.detail})` : merchantMessage, {
      merchantMessage,
      merchant: merchantFor(defect, options?.params),
      httpStatus: 422,
      cause: options?.cause,
    });
    this.name = "ImageInputError";
    this.defect = defect;
  }
}

/**
 * The edited image cannot be turned into a compliant output (unreadable, or no product left in it).
 * Retrying the same edit rarely helps; the merchant can try another pipeline or a clearer photo.
 */
export class ImageResultError extends AppError {
  /** What is wrong with the result ("unreadable-result", ...). */
  readonly defect: string;

  constructor(defect: string, merchantMessage: string, options?: { cause?: unknown }) {
    super(merchantMessage, { merchant: merchantFor(defect, undefined), httpStatus: 422, cause: options?.cause });
    this.name = "ImageResultError";
    this.defect = defect;
  }
}
