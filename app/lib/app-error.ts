import type { MerchantMessage, MessageCode, MessageParams } from "./merchant-message";

export interface AppErrorOptions {
  /** The sentence as a code and its values, for the merchant's language (where the UI has one). */
  merchant?: MerchantMessage | null;
  /** The merchant's English sentence, when `message` is not it (a technical message for logs). */
  merchantMessage?: string;
  /** What a route answers with (default 500). */
  httpStatus?: number;
  /** Whether doing the same work again later may succeed (default false). */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * The base of the app's own errors a merchant may read: the English `message` (for logs, the extension's API and
 * tests), the merchant's sentence (`merchantMessage`, `message` unless told otherwise) with its `code` and `params`
 * for the UI's languages, the HTTP status a route answers with, and whether retrying can help. Routes turn one into
 * a Response with `errorResponse` (`lib/error-response.server.ts`). Pure code: the forms' modules may import it.
 */
export class AppError extends Error {
  readonly code: MessageCode | null;
  readonly params: MessageParams;
  readonly merchantMessage: string;
  readonly httpStatus: number;
  readonly retryable: boolean;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.merchant?.code ?? null;
    this.params = options.merchant?.params ?? {};
    this.merchantMessage = options.merchantMessage ?? message;
    this.httpStatus = options.httpStatus ?? 500;
    this.retryable = options.retryable ?? false;
  }

  /** The code and its values, or null where the sentence has no code (English only). */
  get merchant(): MerchantMessage | null {
    return this.code ? { code: this.code, params: this.params } : null;
  }
}
