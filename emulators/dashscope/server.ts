// A local stand-in for DashScope's synchronous multimodal-generation endpoint as the Qwen
// image-edit models use it. It checks the key and the body against the documented contract,
// answers in DashScope's exact shapes (success and {code, message, request_id} errors) and
// serves the result images itself under pre-signed, expiring URLs, as OSS does.
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp, { type Metadata } from "sharp";
import { prng } from "../fixtures/prng";
import { emulateProductEdit, type Alteration, type EmulatedEdit } from "./edit";
import {
  composeRealPhotoEdit,
  CorpusMatcher,
  DEFAULT_STAND_IN_SEED,
  loadCorpus,
  readCorpusEntry,
  standInDraw,
  type RealPhotoAlteration,
} from "./real-photo-edit";
import { outlastClientKeepAlive } from "../keep-alive";
import { answerChatCompletion, CHAT_COMPLETIONS_PATH, type VisionRequestRecord } from "./vision";

export const GENERATION_PATH = "/api/v1/services/aigc/multimodal-generation/generation";

export interface DashScopeEmulatorOptions {
  apiKey: string;
  /** Added before every accepted request is answered. */
  latencyMs?: number;
  /** Accepted requests per sliding second; more are answered 429 Throttling.RateQuota. */
  rps?: number;
  /** Share (0..1) of accepted requests answered 500 InternalError. */
  errorRate5xx?: number;
  /** Change a label or colour inside the product: true for every edit, a number for that share of edits. */
  alterProduct?: boolean | number;
  /** Answer 400 DataInspectionFailed: always (true) or when the predicate says so. */
  dataInspectionFailed?: boolean | ((request: { prompt: string; image: Buffer }) => boolean);
  /** Answer every accepted request with this error (e.g. 400 Arrearage), to exercise error handling. */
  forceError?: { status: number; code: string; message: string } | null;
  /**
   * Directory of a real-photo corpus (index.json, photos, masks): an input showing one of its photos is edited from
   * the photo's product mask (see real-photo-edit.ts); other inputs as before.
   */
  realPhotos?: string;
  /** Seed for every random choice (framing, 5xx, alterations). */
  seed?: number;
  /** How long result URLs stay valid (DashScope: 24 h). */
  resultTtlMs?: number;
  /** Answer result downloads with a redirect to this URL (a compromised or misbehaving result host). */
  resultRedirect?: string | null;
  port?: number;
  host?: string;
}

export interface DashScopeEmulatorStats {
  requests: number;
  succeeded: number;
  throttled: number;
  failed: number;
  /** Most accepted (not throttled) requests seen in any sliding one-second window. */
  maxRequestsInAnySecond: number;
  /** The most generation requests this stand-in was working on at the same moment. */
  maxInFlight: number;
  /** Requests answered with an edit computed ahead (prime). */
  primedHits: number;
  /** Inputs recognised as corpus photos and edited from their product masks (realPhotos). */
  realPhotoEdits: number;
}

export interface RecordedRequest {
  model: string | null;
  prompt: string | null;
  parameters: Record<string, unknown> | null;
  imageKind: "data-uri" | "url" | null;
  imageBytes: number;
  status: number;
  code: string | null;
  requestId: string;
  alteration: Alteration | RealPhotoAlteration | null;
  /** Date.now() when the request arrived (throttled ones included). */
  receivedAt: number;
}

export interface DashScopeEmulator {
  url: string;
  close(): Promise<void>;
  setOptions(patch: Partial<DashScopeEmulatorOptions>): void;
  stats(): DashScopeEmulatorStats;
  /** The last requests (newest last), for tests that check what the client sent. */
  requests(): RecordedRequest[];
  /** The Qwen-VL (alt text) requests answered, oldest first. */
  visionRequests(): VisionRequestRecord[];
  /**
   * Computes now the edit that a later request with exactly these input bytes and this size will get (not for
   * altered edits). A benchmark primes the stand-in so the machine it measures spends its CPU on the app, as it
   * would with the real model running on DashScope's servers; the answer is the same edit, at the same latency.
   */
  prime(input: Buffer, size: { width: number; height: number }): Promise<void>;
}

const MODEL_PATTERN = /^qwen-image-edit(-plus|-max)?(-\d{4}-\d{2}-\d{2})?$/;
const INPUT_FORMATS = new Set(["jpeg", "png", "bmp", "tiff", "webp", "gif"]);
const MAX_INPUT_BYTES = 10 * 1024 * 1024;
const MAX_BODY_BYTES = 20 * 1024 * 1024;
const PARAMETER_KEYS = new Set(["n", "negative_prompt", "prompt_extend", "watermark", "size", "seed"]);

class ContractError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ContractError(400, "InvalidParameter", message);

interface ParsedRequest {
  model: string;
  prompt: string;
  image: string;
  parameters: Record<string, unknown>;
  size: { width: number; height: number } | undefined;
  n: number;
}

/** Checks a request body against the documented contract; throws ContractError with DashScope's codes. */
function parseRequest(body: unknown): ParsedRequest {
  if (typeof body !== "object" || body === null) throw invalid("Request body must be a JSON object.");
  const { model, input, parameters = {} } = body as { model?: unknown; input?: unknown; parameters?: unknown };
  if (model === undefined || model === "")
    throw new ContractError(400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.');
  if (typeof model !== "string" || !MODEL_PATTERN.test(model)) throw invalid("Model not exist.");
  if (input === undefined) throw new ContractError(400, "BadRequest.EmptyInput", "Required input parameter missing from request.");
  const messages = (input as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length !== 1) throw invalid("input.messages must contain exactly one message.");
  const message = messages[0] as { role?: unknown; content?: unknown };
  if (message.role !== "user") throw invalid('input.messages[0].role must be "user".');
  if (!Array.isArray(message.content)) throw invalid("input.messages[0].content must be an array.");
  const images: string[] = [];
  const texts: string[] = [];
  for (const part of message.content as unknown[]) {
    const keys = typeof part === "object" && part !== null ? Object.keys(part) : [];
    if (keys.length !== 1) throw invalid("Each content item must have exactly one of: image, text.");
    const value = (part as Record<string, unknown>)[keys[0]!];
    if (keys[0] === "image" && typeof value === "string") images.push(value);
    else if (keys[0] === "text" && typeof value === "string") texts.push(value);
    else throw invalid(`Unsupported content item "${keys[0]}".`);
  }
  if (images.length < 1 || images.length > 3) throw invalid("Between 1 and 3 images are required.");
  if (texts.length !== 1 || texts[0]!.trim() === "") throw invalid("Exactly one non-empty text instruction is required.");
  if (texts[0]!.length > 800) throw invalid("The text instruction must not exceed 800 characters.");

  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) throw invalid("parameters must be an object.");
  const params = parameters as Record<string, unknown>;
  for (const key of Object.keys(params)) if (!PARAMETER_KEYS.has(key)) throw invalid(`Unknown parameter "${key}".`);
  const n = params.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 6) throw invalid("parameters.n must be an integer in [1, 6].");
  if (params.negative_prompt !== undefined && (typeof params.negative_prompt !== "string" || params.negative_prompt.length > 500)) {
    throw invalid("parameters.negative_prompt must be a string of at most 500 characters.");
  }
  for (const flag of ["prompt_extend", "watermark"]) {
    if (params[flag] !== undefined && typeof params[flag] !== "boolean") throw invalid(`parameters.${flag} must be a boolean.`);
  }
  if (
    params.seed !== undefined &&
    (!Number.isInteger(params.seed) || (params.seed as number) < 0 || (params.seed as number) > 2147483647)
  ) {
    throw invalid("parameters.seed must be an integer in [0, 2147483647].");
  }
  let size: ParsedRequest["size"];
  if (params.size !== undefined) {
    const match = typeof params.size === "string" ? /^(\d+)\*(\d+)$/.exec(params.size) : null;
    if (!match) throw invalid('parameters.size must look like "1024*1024".');
    size = { width: Number(match[1]), height: Number(match[2]) };
    if ([size.width, size.height].some((side) => side < 512 || side > 2048))
      throw invalid("parameters.size: width and height must be in [512, 2048].");
  }
  return { model, prompt: texts[0]!, image: images[images.length - 1]!, parameters: params, size, n: n as number };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw new ContractError(413, "BadRequest.TooLarge", "Request body too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function loadInputImage(reference: string): Promise<{ bytes: Buffer; kind: "data-uri" | "url" }> {
  const dataUri = /^data:image\/([a-z+.-]+);base64,(.*)$/is.exec(reference);
  if (dataUri) return { bytes: Buffer.from(dataUri[2]!, "base64"), kind: "data-uri" };
  if (!/^https?:\/\//i.test(reference)) throw invalid("The image must be a public http(s) URL or a data:{mime};base64 URI.");
  try {
    const response = await fetch(reference, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return { bytes: Buffer.from(await response.arrayBuffer()), kind: "url" };
  } catch {
    throw new ContractError(400, "BadRequest.InputDownloadFailed", "Failed to download the input image from the provided URL.");
  }
}

async function checkInputImage(bytes: Buffer): Promise<void> {
  if (bytes.length > MAX_INPUT_BYTES) throw invalid("The image file must not exceed 10 MB.");
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: 3072 * 3072 }).metadata();
  } catch {
    throw new ContractError(
      400,
      "InvalidParameter.DataInspection",
      "The media format is not supported or incorrect for the data inspection.",
    );
  }
  if (!metadata.format || !INPUT_FORMATS.has(metadata.format)) {
    throw new ContractError(
      400,
      "InvalidParameter.DataInspection",
      "The media format is not supported or incorrect for the data inspection.",
    );
  }
  const { width = 0, height = 0 } = metadata;
  if ([width, height].some((side) => side < 384 || side > 3072))
    throw invalid("The image width and height must be within [384, 3072] pixels.");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startDashScopeEmulator(initial: DashScopeEmulatorOptions): Promise<DashScopeEmulator> {
  let options: DashScopeEmulatorOptions = { ...initial };
  const standInSeed = () => options.seed ?? DEFAULT_STAND_IN_SEED;
  const random = prng((initial.seed ?? DEFAULT_STAND_IN_SEED) * 2654435761);
  const signingKey = randomUUID();
  const results = new Map<string, { png: Buffer; expires: number }>();
  const accepted: number[] = [];
  const log: RecordedRequest[] = [];
  const visionLog: VisionRequestRecord[] = [];
  const counters: DashScopeEmulatorStats = {
    requests: 0,
    succeeded: 0,
    throttled: 0,
    failed: 0,
    maxRequestsInAnySecond: 0,
    maxInFlight: 0,
    primedHits: 0,
    realPhotoEdits: 0,
  };
  let inFlight = 0;
  const primed = new Map<string, EmulatedEdit>();
  const primedKey = (input: Buffer, size: { width: number; height: number } | undefined) =>
    `${createHash("sha256").update(input).digest("hex")}:${size ? `${size.width}x${size.height}` : "default"}`;
  let baseUrl = "";
  let matcher: Promise<CorpusMatcher> | null = null;
  /** The corpus photo's edit, when the input shows one. */
  async function realPhotoEdit(input: Buffer, size: { width: number; height: number } | undefined, alter: boolean) {
    if (!options.realPhotos) return null;
    matcher ??= loadCorpus(options.realPhotos).then((corpus) => CorpusMatcher.build(corpus));
    const found = await matcher;
    const entry = await found.find(input);
    if (!entry) return null;
    counters.realPhotoEdits++;
    const { photo, mask } = await readCorpusEntry(found.corpus, entry);
    const { width = 1024, height = 1024 } = await sharp(photo, { autoOrient: true })
      .metadata()
      .then((m) => m.autoOrient ?? m);
    const scale = Math.sqrt((1024 * 1024) / (width * height));
    const { alteration, seed } = standInDraw(entry.id, standInSeed(), alter);
    return composeRealPhotoEdit(photo, mask, {
      size: size ?? { width: Math.round((width * scale) / 16) * 16, height: Math.round((height * scale) / 16) * 16 },
      seed,
      alteration,
    });
  }

  const sign = (id: string, expires: number) => createHmac("sha256", signingKey).update(`${id}:${expires}`).digest("base64url");

  function send(response: ServerResponse, status: number, body: unknown) {
    const text = JSON.stringify(body);
    response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    response.end(text);
  }

  function serveResult(request: IncomingMessage, response: ServerResponse, url: URL) {
    const ossError = (status: number, code: string, message: string) => {
      response.writeHead(status, { "Content-Type": "application/xml" });
      response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    // OSS refuses a pre-signed URL that also carries an Authorization header (and the key must not travel there).
    if (request.headers.authorization) return ossError(400, "InvalidArgument", "Authorization header is not allowed with a signed URL.");
    if (options.resultRedirect) {
      response.writeHead(302, { Location: options.resultRedirect });
      return response.end();
    }
    const id = url.pathname.slice("/results/".length).replace(/\.png$/, "");
    const expires = Number(url.searchParams.get("Expires"));
    const stored = results.get(id);
    if (!stored || url.searchParams.get("Signature") !== sign(id, expires))
      return ossError(403, "SignatureDoesNotMatch", "The request signature does not match.");
    if (Date.now() / 1000 > expires) {
      results.delete(id);
      return ossError(403, "AccessDenied", "Request has expired.");
    }
    response.writeHead(200, { "Content-Type": "image/png", "Content-Length": stored.png.length });
    response.end(stored.png);
  }

  async function generate(request: IncomingMessage, response: ServerResponse) {
    counters.requests++;
    counters.maxInFlight = Math.max(counters.maxInFlight, ++inFlight);
    const requestId = randomUUID();
    const record: RecordedRequest = {
      model: null,
      prompt: null,
      parameters: null,
      imageKind: null,
      imageBytes: 0,
      status: 200,
      code: null,
      requestId,
      alteration: null,
      receivedAt: Date.now(),
    };
    const editInput = async (parsed: ReturnType<typeof parseRequest>) => {
      const input = await loadInputImage(parsed.image);
      record.imageKind = input.kind;
      record.imageBytes = input.bytes.length;
      await checkInputImage(input.bytes);
      const inspection = options.dataInspectionFailed;
      if (inspection === true || (typeof inspection === "function" && inspection({ prompt: parsed.prompt, image: input.bytes }))) {
        return "inspection-failed" as const;
      }
      const alterSetting = options.alterProduct ?? false;
      const alter = alterSetting === true || (typeof alterSetting === "number" && random() < alterSetting);
      const ahead = alter || primed.size === 0 ? undefined : primed.get(primedKey(input.bytes, parsed.size));
      if (ahead) counters.primedHits++;
      const edit =
        ahead ??
        (await realPhotoEdit(input.bytes, parsed.size, alter)) ??
        (await emulateProductEdit(input.bytes, { size: parsed.size, alter, seed: standInSeed() }));
      record.alteration = edit.alteration;
      return { edit };
    };
    const fail = (status: number, code: string, message: string) => {
      record.status = status;
      record.code = code;
      if (status === 429) counters.throttled++;
      else counters.failed++;
      send(response, status, { request_id: requestId, code, message });
    };
    try {
      if (request.headers.authorization !== `Bearer ${options.apiKey}`) {
        // Drain the upload so the client sees the answer rather than a reset connection.
        await readBody(request).catch(() => undefined);
        return fail(401, "InvalidApiKey", "Invalid API-key provided.");
      }
      const now = Date.now();
      while (accepted.length > 0 && accepted[0]! <= now - 1000) accepted.shift();
      if (options.rps !== undefined && accepted.length >= options.rps) {
        await readBody(request).catch(() => undefined);
        return fail(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
      }
      accepted.push(now);
      counters.maxRequestsInAnySecond = Math.max(counters.maxRequestsInAnySecond, accepted.length);

      let body: unknown;
      const raw = await readBody(request);
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        throw invalid("Request body is not valid JSON.");
      }
      const parsed = parseRequest(body);
      record.model = parsed.model;
      record.prompt = parsed.prompt;
      record.parameters = parsed.parameters;
      // A fixed latency is the time to the answer: the stand-in's own edit runs during it, not after it.
      const latency = sleep(options.latencyMs ?? 0);
      if (options.forceError) {
        await latency;
        return fail(options.forceError.status, options.forceError.code, options.forceError.message);
      }
      if (options.errorRate5xx && random() < options.errorRate5xx) {
        await latency;
        return fail(500, "InternalError", "An internal error has occured, please try again later or contact service support.");
      }
      const editing = editInput(parsed);
      editing.catch(() => undefined); // answered after the latency, below
      await latency;
      const done = await editing;
      if (done === "inspection-failed") return fail(400, "DataInspectionFailed", "Input data may contain inappropriate content.");
      const { edit } = done;
      const expires = Math.floor((Date.now() + (options.resultTtlMs ?? 24 * 3600 * 1000)) / 1000);
      const content = Array.from({ length: parsed.n }, () => {
        const id = randomUUID();
        results.set(id, { png: edit.png, expires });
        return { image: `${baseUrl}/results/${id}.png?Expires=${expires}&OSSAccessKeyId=emulator&Signature=${sign(id, expires)}` };
      });
      counters.succeeded++;
      send(response, 200, {
        output: { choices: [{ finish_reason: "stop", message: { role: "assistant", content } }] },
        usage: { width: edit.width, height: edit.height, image_count: parsed.n },
        request_id: requestId,
      });
    } catch (error) {
      if (error instanceof ContractError) return fail(error.status, error.code, error.message);
      console.error("dashscope stand-in:", error);
      return fail(500, "InternalError", "An internal error has occured, please try again later or contact service support.");
    } finally {
      inFlight--;
      log.push(record);
      if (log.length > 500) log.shift();
    }
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "POST" && url.pathname === GENERATION_PATH) {
      void generate(request, response);
    } else if (request.method === "POST" && url.pathname === CHAT_COMPLETIONS_PATH) {
      void answerChatCompletion(request, response, { apiKey: options.apiKey, record: (entry) => visionLog.push(entry) });
    } else if (request.method === "GET" && url.pathname.startsWith("/results/")) {
      serveResult(request, response, url);
    } else {
      send(response, 404, { request_id: randomUUID(), code: "NotFound", message: `No route for ${request.method} ${url.pathname}.` });
    }
  });
  outlastClientKeepAlive(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(initial.port ?? 0, initial.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://${initial.host ?? "127.0.0.1"}:${address.port}`;

  return {
    url: baseUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
    setOptions(patch) {
      options = { ...options, ...patch };
    },
    stats: () => ({ ...counters }),
    async prime(input, size) {
      const key = primedKey(input, size);
      if (!primed.has(key)) primed.set(key, await emulateProductEdit(input, { size, alter: false, seed: standInSeed() }));
    },
    requests: () => log.map((entry) => ({ ...entry })),
    visionRequests: () => visionLog.map((entry) => ({ ...entry })),
  };
}
