import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseEnv } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { prepareDashScopeImage } from "~/qwen/input";
import { QwenClient, qwenClientFromEnv } from "~/qwen/client";
import { QwenFatalError, QwenRateLimitedError, QwenRetryableError } from "~/qwen/errors";
import { startDashScopeEmulator, type DashScopeEmulator } from "../../../emulators/dashscope/server";
import { productImageSpec, renderProductImage } from "../../../emulators/fixtures/product-images";

const apiKey = `sk-test-${randomUUID()}`;
let emulator: DashScopeEmulator;
let photo: Buffer;
const request = (image: Buffer = photo) => ({
  image,
  mimeType: "image/jpeg",
  prompt: "Replace the background with pure white.",
  negativePrompt: "changed label",
  size: { width: 1024, height: 1024 },
});
const client = (options: Partial<ConstructorParameters<typeof QwenClient>[0]> = {}) =>
  new QwenClient({ apiKey, baseUrl: emulator.url, timeoutMs: 20_000, ...options });

beforeAll(async () => {
  emulator = await startDashScopeEmulator({ apiKey, seed: 5 });
  // Production download policy: only this stand-in may be reached over http on a private address.
  process.env.SAFE_FETCH_LOCAL_HOSTS = new URL(emulator.url).host;
  photo = await renderProductImage({ ...productImageSpec(0), width: 800, height: 800 });
});
afterEach(() => {
  emulator.setOptions({
    rps: undefined,
    errorRate5xx: 0,
    latencyMs: 0,
    dataInspectionFailed: false,
    forceError: null,
    resultTtlMs: undefined,
    resultRedirect: null,
  });
  vi.restoreAllMocks();
});
afterAll(async () => {
  await emulator.close();
});

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("QwenClient against the DashScope stand-in", () => {
  it("returns the edited image at the requested size with DashScope's request id", async () => {
    const result = await client().edit(request());
    const metadata = await sharp(result.image).metadata();
    expect(metadata.format).toBe("png");
    expect([metadata.width, metadata.height]).toEqual([1024, 1024]);
    const last = emulator.requests().at(-1)!;
    expect(result.requestId).toBe(last.requestId);
  });

  it("sends the documented body: one user message with the image then the text, and fixed parameters", async () => {
    await client({ model: "qwen-image-edit-plus-2025-12-15", seed: 42 }).edit(request());
    const last = emulator.requests().at(-1)!;
    expect(last.status).toBe(200);
    expect(last.model).toBe("qwen-image-edit-plus-2025-12-15");
    expect(last.prompt).toBe("Replace the background with pure white.");
    expect(last.imageKind).toBe("data-uri");
    expect(last.parameters).toEqual({
      n: 1,
      negative_prompt: "changed label",
      prompt_extend: false,
      watermark: false,
      size: "1024*1024",
      seed: 42,
    });
  });

  it("brings images outside DashScope's limits within them instead of failing", async () => {
    const tiny = await sharp(photo).resize(250, 250).png().toBuffer();
    const huge = await sharp(photo).resize(3600, 2400, { fit: "fill" }).jpeg().toBuffer();
    const tiff = await sharp(photo).tiff().toBuffer();
    for (const image of [tiny, huge, tiff]) {
      const result = await client().edit(request(image));
      expect(result.image.length).toBeGreaterThan(0);
    }
    expect(
      emulator
        .requests()
        .slice(-3)
        .map((r) => r.status),
    ).toEqual([200, 200, 200]);
  });

  it("sends inputs within the limits as they are and re-encodes the rest at no more than 2048 px", async () => {
    const sizeOf = async (dataUri: string) => {
      const meta = await sharp(Buffer.from(dataUri.slice(dataUri.indexOf(",") + 1), "base64")).metadata();
      return `${meta.format} ${meta.width}x${meta.height}`;
    };
    const fits = await sharp(photo).resize(2600, 1800, { fit: "fill" }).jpeg().toBuffer();
    const sent = await prepareDashScopeImage(fits);
    expect(sent.reencoded).toBe(false);
    expect(await sizeOf(sent.dataUri)).toBe("jpeg 2600x1800");
    const huge = await sharp(photo).resize(4800, 3200, { fit: "fill" }).jpeg().toBuffer();
    const shrunk = await prepareDashScopeImage(huge);
    expect(shrunk.reencoded).toBe(true);
    expect(await sizeOf(shrunk.dataUri)).toBe("jpeg 2048x1365");
  });

  it("maps a 429 Throttling.RateQuota to a rate-limited error with a retry delay", async () => {
    const quota = await startDashScopeEmulator({ apiKey, rps: 1 });
    const limitedClient = new QwenClient({ apiKey, baseUrl: quota.url });
    const outcomes = await Promise.all(
      [1, 2, 3].map(() =>
        limitedClient.edit(request()).then(
          () => null,
          (error: Error) => error,
        ),
      ),
    );
    const stats = quota.stats();
    await quota.close();
    const limited = outcomes.filter((o): o is QwenRateLimitedError => o instanceof QwenRateLimitedError);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]!.serviceCode).toBe("Throttling.RateQuota");
    expect(limited[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(limited[0]!.requestId).toMatch(/[0-9a-f-]{36}/);
    expect(stats.maxRequestsInAnySecond).toBe(1);
    expect(stats.throttled).toBe(limited.length);
  });

  it("maps a 5xx to a retryable error that keeps the request id", async () => {
    emulator.setOptions({ errorRate5xx: 1 });
    const error = await caught(client().edit(request()));
    expect(error).toBeInstanceOf(QwenRetryableError);
    expect((error as QwenRetryableError).serviceCode).toBe("InternalError");
    expect((error as QwenRetryableError).requestId).toBe(emulator.requests().at(-1)!.requestId);
  });

  it("maps a timeout to a retryable error", async () => {
    emulator.setOptions({ latencyMs: 1_500 });
    const error = await caught(client({ timeoutMs: 300 }).edit(request()));
    expect(error).toBeInstanceOf(QwenRetryableError);
    expect((error as QwenRetryableError).serviceCode).toBe("Timeout");
  });

  it("maps an unreachable host to a retryable error", async () => {
    const error = await caught(new QwenClient({ apiKey, baseUrl: "http://127.0.0.1:1", timeoutMs: 2_000 }).edit(request()));
    expect(error).toBeInstanceOf(QwenRetryableError);
    expect((error as QwenRetryableError).serviceCode).toBe("NetworkError");
  });

  it.each([
    ["DataInspectionFailed", 400, /sensitive content/],
    ["InvalidParameter", 400, /rejected the request/],
    ["Arrearage", 400, /account needs attention/],
    ["BadRequest.InputDownloadFailed", 400, /could not download this image/],
    ["InvalidApiKey", 401, /API key/],
  ])("maps %s to a non-retryable error with a sentence for the merchant", async (code, status, merchantText) => {
    emulator.setOptions({ forceError: { status, code, message: `stand-in ${code}` } });
    const error = await caught(client().edit(request()));
    expect(error).toBeInstanceOf(QwenFatalError);
    expect((error as QwenFatalError).serviceCode).toBe(code);
    expect((error as QwenFatalError).merchantMessage).toMatch(merchantText);
    expect((error as QwenFatalError).requestId).toBe(emulator.requests().at(-1)!.requestId);
  });

  it("gets DataInspectionFailed from the stand-in's own content check", async () => {
    emulator.setOptions({ dataInspectionFailed: true });
    const error = await caught(client().edit(request()));
    expect((error as QwenFatalError).serviceCode).toBe("DataInspectionFailed");
  });

  it("refuses a wrong key as InvalidApiKey and never puts the key in errors or logs", async () => {
    const wrongKey = `sk-wrong-${randomUUID()}`;
    const logged: unknown[] = [];
    for (const level of ["info", "warn", "error", "debug"] as const) {
      vi.spyOn(logger, level).mockImplementation(((...args: unknown[]) => void logged.push(args)) as never);
    }
    const wrong = new QwenClient({ apiKey: wrongKey, baseUrl: emulator.url });
    const refused = await caught(wrong.edit(request()));
    expect(refused).toBeInstanceOf(QwenFatalError);
    expect((refused as QwenFatalError).serviceCode).toBe("InvalidApiKey");

    emulator.setOptions({ rps: 0 });
    const limited = await caught(client().edit(request()));
    emulator.setOptions({ rps: undefined, latencyMs: 1_000 });
    const timedOut = await caught(client({ timeoutMs: 100 }).edit(request()));

    const everything = [refused, limited, timedOut].map((e) => `${e.message} ${e.stack} ${inspect(e)} ${JSON.stringify(e)}`).join(" ");
    const logs = JSON.stringify(logged);
    for (const key of [apiKey, wrongKey]) {
      expect(everything).not.toContain(key);
      expect(logs).not.toContain(key);
    }
    expect(inspect(wrong)).not.toContain(wrongKey);
    expect(JSON.stringify(wrong)).not.toContain(wrongKey);
    expect(logged.length).toBeGreaterThan(0);
  });

  it("refuses a result larger than the limit", async () => {
    const error = await caught(client({ maxResultBytes: 10_000 }).edit(request()));
    expect(error).toBeInstanceOf(QwenFatalError);
    expect((error as QwenFatalError).serviceCode).toBe("ResultTooLarge");
  });

  it("refuses a result URL that redirects to a private host, without fetching from it", async () => {
    // An internal service on the same machine, as the worker would see one on its network.
    const hits: string[] = [];
    const internal = createServer((req, res) => {
      hits.push(req.url ?? "");
      res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(16));
    });
    await new Promise<void>((resolve) => internal.listen(0, "127.0.0.1", resolve));
    try {
      const port = (internal.address() as AddressInfo).port;
      for (const target of [
        `http://127.0.0.1:${port}/admin.png`,
        `http://[::ffff:0:7f00:1]:${port}/admin.png`,
        "http://169.254.169.254/latest/meta-data/",
      ]) {
        emulator.setOptions({ resultRedirect: target });
        const error = await caught(client().edit(request()));
        expect(error).toBeInstanceOf(QwenFatalError);
        expect((error as QwenFatalError).serviceCode).toBe("ResultRefused");
      }
      expect(hits).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => internal.close(() => resolve()));
    }
  });

  it("reports a result whose URL has expired as retryable, with the URL to fetch again", async () => {
    emulator.setOptions({ resultTtlMs: -1_000 });
    const error = await caught(client().edit(request()));
    expect(error).toBeInstanceOf(QwenRetryableError);
    expect((error as QwenRetryableError).serviceCode).toBe("ResultDownloadFailed");
    expect((error as QwenRetryableError).resultUrl).toMatch(/\/results\//);
  });
});

describe("qwenClientFromEnv", () => {
  it("reads the key, region, model and timeout, and refuses to start without a key", () => {
    const env = (vars: Record<string, string>) => parseEnv({ NODE_ENV: "test", ...vars });
    const configured = qwenClientFromEnv(
      env({
        DASHSCOPE_API_KEY: "sk-env",
        DASHSCOPE_BASE_URL: "https://dashscope.aliyuncs.com/api/v1/",
        QWEN_MODEL: "qwen-image-edit-max",
        QWEN_TIMEOUT_MS: "5000",
      }),
    );
    expect(configured.baseUrl).toBe("https://dashscope.aliyuncs.com");
    expect(configured.model).toBe("qwen-image-edit-max");
    expect(configured.timeoutMs).toBe(5000);
    expect(qwenClientFromEnv(env({ DASHSCOPE_API_KEY: "sk-env" })).baseUrl).toBe("https://dashscope-intl.aliyuncs.com");
    expect(() => qwenClientFromEnv(env({}))).toThrow(/DASHSCOPE_API_KEY/);
  });
});

describe("DashScope stand-in contract", () => {
  const post = (body: unknown, key = apiKey) =>
    fetch(`${emulator.url}/api/v1/services/aigc/multimodal-generation/generation`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("answers malformed bodies with DashScope's error shape", async () => {
    const image = `data:image/jpeg;base64,${photo.toString("base64")}`;
    const good = {
      model: "qwen-image-edit-plus",
      input: { messages: [{ role: "user", content: [{ image }, { text: "edit" }] }] },
      parameters: {},
    };
    const cases: [unknown, string][] = [
      [{ ...good, model: "not-a-model" }, "InvalidParameter"],
      [{ input: good.input }, "BadRequest.EmptyModel"],
      [{ model: good.model }, "BadRequest.EmptyInput"],
      [{ ...good, input: { messages: [{ role: "user", content: [{ text: "no image" }] }] } }, "InvalidParameter"],
      [{ ...good, parameters: { size: "4096*4096" } }, "InvalidParameter"],
      [{ ...good, parameters: { negativePrompt: "typo" } }, "InvalidParameter"],
    ];
    for (const [body, code] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      const json = (await response.json()) as Record<string, unknown>;
      expect(json).toMatchObject({ code });
      expect(Object.keys(json).sort()).toEqual(["code", "message", "request_id"]);
    }
    expect((await post(good, "sk-nope")).status).toBe(401);
  });

  it("serves results only without an Authorization header, as a pre-signed URL", async () => {
    await client().edit(request());
    const ok = (await post({
      model: "qwen-image-edit-plus",
      input: { messages: [{ role: "user", content: [{ image: `data:image/jpeg;base64,${photo.toString("base64")}` }, { text: "edit" }] }] },
    }).then((r) => r.json())) as { output: { choices: { message: { content: { image: string }[] } }[] } };
    const url = ok.output.choices[0]!.message.content[0]!.image;
    expect((await fetch(url, { headers: { Authorization: `Bearer ${apiKey}` } })).status).toBe(400);
    expect((await fetch(url.replace(/Signature=[^&]+/, "Signature=forged"))).status).toBe(403);
    expect((await fetch(url)).headers.get("content-type")).toBe("image/png");
  });
});

describe("Qwen metrics", () => {
  it("records each call's latency by outcome and each refusal by its DashScope code on /metrics", async () => {
    const { registry } = await import("~/lib/metrics.server");
    const count = async (pattern: RegExp) => Number((await registry.metrics()).match(pattern)?.[1] ?? 0);
    const okBefore = await count(/imgapp_qwen_request_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} (\d+)/);
    const refusedBefore = await count(/imgapp_qwen_errors_total\{[^}]*code="DataInspectionFailed"[^}]*\} (\d+)/);
    await client().edit(request());
    emulator.setOptions({ dataInspectionFailed: true });
    await client()
      .edit(request())
      .catch(() => undefined);
    expect(await count(/imgapp_qwen_request_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} (\d+)/)).toBe(okBefore + 1);
    expect(await count(/imgapp_qwen_errors_total\{[^}]*code="DataInspectionFailed"[^}]*\} (\d+)/)).toBe(refusedBefore + 1);
  });
});
