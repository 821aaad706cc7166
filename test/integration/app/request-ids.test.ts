import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "~/lib/logger.server";
import { currentRequestId } from "~/lib/request-context.server";
import { authenticate } from "~/shopify.server";

/** What a loader does: authenticate first (here refused, no token), then log. */
async function loaderThatLogs(requestId: string, lines: string[]): Promise<string | undefined> {
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const log = createLogger(sink, "info");
  const request = new Request("https://app.example.test/app/batches", { headers: { "X-Request-Id": requestId } });
  await authenticate.admin(request).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 5));
  log.info({ shop: "s.myshopify.com" }, "loaded");
  return currentRequestId();
}

describe("request ids in logs", () => {
  it("stamps every log line written after authenticate with the request's X-Request-Id, per request", async () => {
    const a: string[] = [];
    const b: string[] = [];
    const [seenA, seenB] = await Promise.all([loaderThatLogs("req-a-1", a), loaderThatLogs("req-b-2", b)]);
    expect(seenA).toBe("req-a-1");
    expect(seenB).toBe("req-b-2");
    expect(JSON.parse(a[0]!)).toMatchObject({ requestId: "req-a-1", shop: "s.myshopify.com", msg: "loaded" });
    expect(JSON.parse(b[0]!)).toMatchObject({ requestId: "req-b-2" });
  });

  it("makes up an id when the request has none", async () => {
    const request = new Request("https://app.example.test/webhooks/app/uninstalled", { method: "POST", body: "{}" });
    await authenticate.webhook(request).catch(() => undefined);
    expect(currentRequestId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
