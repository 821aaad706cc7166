import { AppError } from "~/lib/app-error";

/**
 * A source image the pipeline cannot use. Not retryable: the same bytes fail the same way.
 * `merchantMessage` is written for the merchant and says what they can do about it.
 */
export class ImageInputError extends AppError {
  /** What is wrong with the image ("corrupt", "too-many-pixels", ...). */
  readonly defect: string;

  constructor(defect: string, merchantMessage: string, options?: { cause?: unknown; detail?: string }) {
    super(options?.detail ? `${merchantMessage} (${options.detail})` : merchantMessage, { merchantMessage, httpStatus: 422, cause: options?.cause });
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
    super(merchantMessage, { httpStatus: 422, cause: options?.cause });
    this.name = "ImageResultError";
    this.defect = defect;
  }
}
