import type { ImageEditor } from "~/imaging/edit-product-image";
import { declaredDefault, getConfig, type Config } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { qwenErrors, qwenLatency } from "~/lib/metrics.server";
import { DASHSCOPE_RESULT_HOSTS, UnsafeFetchError, fetchImage, fetchPolicyFromEnv } from "~/lib/safe-fetch.server";
import { QwenFatalError, QwenRateLimitedError, QwenRetryableError, QwenServiceError, fatalMerchantMessage, isFatalCode } from "./errors";
import { prepareDashScopeImage } from "./input";

export const DEFAULT_DASHSCOPE_BASE_URL = declaredDefault("DASHSCOPE_BASE_URL");
const DEFAULT_QWEN_MODEL = declaredDefault("QWEN_MODEL");
const GENERATION_PATH = "/api/v1/services/aigc/multimodal-generation/generation";
const DEFAULT_TIMEOUT_MS = Number(declaredDefault("QWEN_TIMEOUT_MS"));
const DEFAULT_DOWNLOAD_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RESULT_BYTES = Number(declaredDefault("QWEN_MAX_RESULT_BYTES"));
/** DashScope sends no Retry-After; a per-second quota frees up within a second or two. */
const DEFAULT_RATE_LIMIT_DELAY_MS = 2_000;
/** Allocation (volume) quotas are counted per minute. */
const DEFAULT_ALLOCATION_QUOTA_DELAY_MS = 60_000;

export interface QwenClientOptions {
  apiKey: string;
  /** Region or workspace host, e.g. https://dashscope-intl.aliyuncs.com (Singapore), https://dashscope.aliyuncs.com (Beijing). */
  baseUrl?: string;
  model?: string;
  /** Time allowed for the generation call. */
  timeoutMs?: number;
  /** Largest result image accepted. */
  maxResultBytes?: number;
  /** Fixed seed for reproducible edits (default: none, the service picks one). */
  seed?: number;
  downloadTimeoutMs?: number;
  /** Hosts result URLs may point at (default: DashScope's OSS hosts, the endpoint's own host, ALLOWED_IMAGE_HOSTS). */
  resultHosts?: string[];
}

export interface EditRequest {
  image: Buffer;
  mimeType: string;
  prompt: string;
  negativePrompt: string;
  size: { width: number; height: number };
}

/** The body of a DashScope multimodal-generation call for the Qwen image-edit models. */
const DOWNLOAD_RETRY_DELAYS_MS = [500, 2_000];

export interface GenerationRequestBody {
  model: string;
  input: { messages: [{ role: "user"; content: [{ image: string }, { text: string }] }] };
  parameters: {
    n: 1;
    negative_prompt: string;
    prompt_extend: false;
    watermark: false;
    size: string;
    seed?: number;
  };
}

/** DashScope caps the negative prompt at 500 characters and the prompt at 800. */
const MAX_PROMPT = 800;
const MAX_NEGATIVE_PROMPT = 500;

function buildGenerationRequest(opts: {
  model: string;
  image: string;
  prompt: string;
  negativePrompt: string;
  size: { width: number; height: number };
  seed?: number;
}): GenerationRequestBody {
  return {
    model: opts.model,
    input: { messages: [{ role: "user", content: [{ image: opts.image }, { text: opts.prompt.slice(0, MAX_PROMPT) }] }] },
    parameters: {
      n: 1,
      negative_prompt: opts.negativePrompt.slice(0, MAX_NEGATIVE_PROMPT),
      // Off for reproducibility: the prompt is already explicit, and a rewritten prompt may restyle the product.
      prompt_extend: false,
      watermark: false,
      size: `${opts.size.width}*${opts.size.height}`,
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
    },
  };
}

interface GenerationResponseBody {
  output?: { choices?: { finish_reason?: string; message?: { content?: { image?: string; text?: string }[] } }[] };
  usage?: { width?: number; height?: number; image_count?: number };
  request_id?: string;
  code?: string;
  message?: string;
}

/** Accepts "https://host", "https://host/" or "https://host/api/v1" for the same base. */
function normalizeBaseUrl(baseUrl: string): string {
  return baseUrl
    .trim()
    .replace(/\/+$/, "")
    .replace(/\/api\/v1$/, "");
}

function retryAfterMs(header: string | null, code: string): number {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  return code === "Throttling.AllocationQuota" ? DEFAULT_ALLOCATION_QUOTA_DELAY_MS : DEFAULT_RATE_LIMIT_DELAY_MS;
}

export interface GeneratedResult {
  resultUrl: string;
  requestId: string | null;
  size: string;
  started: number;
}

/** Qwen image editing through DashScope's synchronous multimodal-generation endpoint. */
export class QwenClient implements ImageEditor {
  // A private field: never enumerated, logged or serialised with the client.
  readonly #apiKey: string;
  readonly baseUrl: string;
  readonly model: string;
  readonly timeoutMs: number;
  readonly maxResultBytes: number;
  readonly downloadTimeoutMs: number;
  readonly seed: number | undefined;
  readonly resultHosts: string[];

  constructor(opts: QwenClientOptions) {
    if (!opts.apiKey) throw new Error("QwenClient needs an API key (DASHSCOPE_API_KEY)");
    this.#apiKey = opts.apiKey;
    this.baseUrl = normalizeBaseUrl(opts.baseUrl ?? DEFAULT_DASHSCOPE_BASE_URL);
    this.model = opts.model ?? DEFAULT_QWEN_MODEL;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResultBytes = opts.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.downloadTimeoutMs = opts.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
    this.seed = opts.seed;
    this.resultHosts = opts.resultHosts ?? [...DASHSCOPE_RESULT_HOSTS, new URL(this.baseUrl).hostname];
  }

  /** Removes the key from any text that might echo it (error bodies, library messages). */
  #scrub(text: string): string {
    return text.split(this.#apiKey).join("[redacted]");
  }

  async edit(req: EditRequest): Promise<{ image: Buffer; requestId: string | null }> {
    return this.send(await this.prepare(req));
  }

  /** Fits the image to DashScope's limits and builds the request body (CPU work, no network). */
  async prepare(req: EditRequest): Promise<GenerationRequestBody> {
    const input = await prepareDashScopeImage(req.image);
    return buildGenerationRequest({
      model: this.model,
      image: input.dataUri,
      prompt: req.prompt,
      negativePrompt: req.negativePrompt,
      size: req.size,
      seed: this.seed,
    });
  }

  /**
   * The paid call: one generation request, then the result downloaded at once. A download that breaks off is
   * tried again (the edit is paid for; a second edit would be paid twice).
   */
  async send(body: GenerationRequestBody): Promise<{ image: Buffer; requestId: string | null }> {
    return this.fetchResult(await this.request(body));
  }

  /** The model's part of the call: the generation request, timed and counted; its result URL is valid for 24 h. */
  async request(body: GenerationRequestBody): Promise<GeneratedResult> {
    const started = Date.now();
    const { resultUrl, requestId } = await this.generate(body).catch((error: unknown) => {
      qwenLatency.observe({ outcome: "error" }, (Date.now() - started) / 1000);
      qwenErrors.inc({ code: error instanceof QwenServiceError ? error.serviceCode : "unknown" });
      throw error;
    });
    qwenLatency.observe({ outcome: "ok" }, (Date.now() - started) / 1000);
    return { resultUrl, requestId, size: body.parameters.size, started };
  }

  /** Downloads a generated result (from DashScope's object storage, not the model). */
  async fetchResult(result: GeneratedResult): Promise<{ image: Buffer; requestId: string | null }> {
    const image = await this.downloadWithRetry(result.resultUrl, result.requestId);
    logger.info(
      { requestId: result.requestId, model: this.model, size: result.size, ms: Date.now() - result.started, bytes: image.length },
      "qwen edit done",
    );
    return { image, requestId: result.requestId };
  }

  private async downloadWithRetry(resultUrl: string, requestId: string | null): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.downloadResult(resultUrl, requestId);
      } catch (error) {
        const delay = DOWNLOAD_RETRY_DELAYS_MS[attempt];
        if (!(error instanceof QwenRetryableError) || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Sends one generation request; returns the result image URL or throws a typed Qwen error. */
  async generate(body: GenerationRequestBody): Promise<{ resultUrl: string; requestId: string | null }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${GENERATION_PATH}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.#apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw this.transportError(cause, null, null);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      throw this.transportError(cause, null, null);
    }
    let parsed: GenerationResponseBody = {};
    try {
      parsed = JSON.parse(text) as GenerationResponseBody;
    } catch {
      // Not JSON (a proxy's error page): handled by status below.
    }
    const requestId = parsed.request_id ?? response.headers.get("x-request-id");
    const code = parsed.code ?? (response.ok ? "" : `HTTP${response.status}`);
    const message = this.#scrub(parsed.message ?? text.slice(0, 200));
    const describe = () => `DashScope ${response.status} ${code}: ${message}${requestId ? ` [request ${requestId}]` : ""}`;

    if (response.status === 429 || code.startsWith("Throttling")) {
      const delay = retryAfterMs(response.headers.get("retry-after"), code);
      logger.warn({ requestId, code, status: response.status, retryAfterMs: delay }, "qwen rate limited");
      throw new QwenRateLimitedError(describe(), { retryAfterMs: delay, code: code || "Throttling", requestId });
    }
    if (response.status >= 500 || response.status === 408 || code === "RequestTimeOut") {
      logger.warn({ requestId, code, status: response.status }, "qwen transient failure");
      throw new QwenRetryableError(describe(), { code: code || `HTTP${response.status}`, requestId });
    }
    if (!response.ok || (code && isFatalCode(code))) {
      const fatalCode = code || `HTTP${response.status}`;
      logger.warn({ requestId, code: fatalCode, status: response.status }, "qwen request refused");
      throw new QwenFatalError(describe(), { code: fatalCode, merchantMessage: fatalMerchantMessage(fatalCode), requestId });
    }
    const resultUrl = parsed.output?.choices?.[0]?.message?.content?.find((part) => typeof part.image === "string")?.image;
    if (!resultUrl || !/^https?:\/\//i.test(resultUrl)) {
      throw new QwenRetryableError(`DashScope returned no result image${requestId ? ` [request ${requestId}]` : ""}`, {
        code: "NoResultImage",
        requestId,
      });
    }
    return { resultUrl, requestId };
  }

  /**
   * Downloads a result at once (its URL expires after 24 hours), without the API key (the URL is
   * pre-signed) and never more than maxResultBytes.
   */
  async downloadResult(resultUrl: string, requestId: string | null = null): Promise<Buffer> {
    const tooLarge = () =>
      new QwenFatalError(`The edited image exceeds the ${this.maxResultBytes} byte limit`, {
        code: "ResultTooLarge",
        merchantMessage: "The edited image came back larger than the app accepts. Try the image again or contact support.",
        requestId,
      });
    // Through the allow-listed fetcher: a result URL is data from a remote service, never trusted as a destination.
    const policy = fetchPolicyFromEnv({
      overrides: { maxBytes: this.maxResultBytes, timeoutMs: this.downloadTimeoutMs },
    });
    policy.allowedHosts = [...new Set([...this.resultHosts, ...policy.allowedHosts])];
    try {
      return (await fetchImage(resultUrl, policy)).bytes;
    } catch (cause) {
      if (cause instanceof UnsafeFetchError && cause.code === "TOO_LARGE") throw tooLarge();
      if (cause instanceof UnsafeFetchError && cause.permanent && cause.code !== "HTTP_ERROR") {
        throw new QwenFatalError(`The edited image could not be fetched safely: ${cause.code}`, {
          code: "ResultRefused",
          merchantMessage: "The image service returned an edited image the app cannot accept. Try the image again or contact support.",
          requestId,
        });
      }
      const detail = this.#scrub(cause instanceof Error ? cause.message : String(cause));
      throw new QwenRetryableError(`Could not download the edited image: ${detail}${requestId ? ` [request ${requestId}]` : ""}`, {
        code: "ResultDownloadFailed",
        requestId,
        resultUrl,
        cause,
      });
    }
  }

  private transportError(cause: unknown, requestId: string | null, resultUrl: string | null): QwenRetryableError {
    const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
    const detail = this.#scrub(cause instanceof Error ? cause.message : String(cause));
    logger.warn({ code: timedOut ? "Timeout" : "NetworkError" }, "qwen request did not complete");
    return new QwenRetryableError(
      timedOut ? `DashScope did not answer within ${this.timeoutMs} ms` : `Could not reach DashScope: ${detail}`,
      {
        code: timedOut ? "Timeout" : "NetworkError",
        requestId,
        resultUrl,
      },
    );
  }
}

/** The image editor the configuration names; DASHSCOPE_API_KEY is required here (the web process does without it). */
export function qwenClientFromEnv(config: Config = getConfig()): QwenClient {
  const apiKey = config.DASHSCOPE_API_KEY;
  if (!apiKey) throw new Error("DASHSCOPE_API_KEY is not set: image editing needs a DashScope API key");
  return new QwenClient({
    apiKey,
    baseUrl: config.DASHSCOPE_BASE_URL,
    model: config.QWEN_MODEL,
    timeoutMs: config.QWEN_TIMEOUT_MS,
    maxResultBytes: config.QWEN_MAX_RESULT_BYTES,
    seed: config.QWEN_SEED,
  });
}
