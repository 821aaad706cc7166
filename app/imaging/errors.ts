/**
 * A source image the pipeline cannot use. Not retryable: the same bytes fail the same way.
 * `merchantMessage` is written for the merchant and says what they can do about it.
 */
export class ImageInputError extends Error {
  readonly code: string;
  readonly merchantMessage: string;
  /** The numbers and names in `merchantMessage`, for the same sentence in the merchant's language. */
  readonly params: Record<string, string | number>;

  constructor(code: string, merchantMessage: string, options?: { cause?: unknown; detail?: string; params?: Record<string, string | number> }) {
    super(options?.detail ? `${merchantMessage} (${options.detail})` : merchantMessage, { cause: options?.cause });
    this.name = "ImageInputError";
    this.code = code;
    this.merchantMessage = merchantMessage;
    this.params = options?.params ?? {};
  }
}

/**
 * The edited image cannot be turned into a compliant output (unreadable, or no product left in it).
 * Retrying the same edit rarely helps; the merchant can try another pipeline or a clearer photo.
 */
export class ImageResultError extends Error {
  readonly code: string;
  readonly merchantMessage: string;

  constructor(code: string, merchantMessage: string, options?: { cause?: unknown }) {
    super(merchantMessage, options);
    this.name = "ImageResultError";
    this.code = code;
    this.merchantMessage = merchantMessage;
  }
}
