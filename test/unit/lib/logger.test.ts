import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubSecrets } from "~/lib/logger.server";

describe("log scrubbing", () => {
  it("redacts secrets at any depth, whatever their key's case", () => {
    const scrubbed = scrubSecrets({
      shop: "a.myshopify.com",
      err: { config: { headers: { Authorization: "Bearer sk-live", Accept: "json" } } },
      session: { accessToken: "shpat_123", scope: "read_products" },
      list: [{ apiKey: "k" }, { X_Shopify_Hmac_Sha256: "abc" }],
    });
    const text = JSON.stringify(scrubbed);
    for (const secret of ["sk-live", "shpat_123", '"k"', "abc"]) expect(text).not.toContain(secret);
    expect(text).toContain("a.myshopify.com");
    expect(text).toContain("read_products");
    expect(text).toContain('"Accept":"json"');
  });

  it("logs an error's type, message and stack, with credentials inside them removed", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger(sink, "info");
    const error = Object.assign(new Error("token exchange failed for shpat_0123456789abcdef"), { code: "E_TOKEN" });
    log.error({ err: error, shop: "s" }, "failed");
    const line = JSON.parse(lines[0]!) as { err: { type: string; message: string; stack: string; code: string } };
    expect(line.err).toMatchObject({ type: "Error", message: "token exchange failed for [redacted]", code: "E_TOKEN" });
    expect(line.err.stack).toContain("token exchange failed");
    expect(lines.join("")).not.toContain("shpat_0123456789abcdef");
  });

  it("redacts the values of the variables the configuration declares secret, wherever they appear", () => {
    const saved = { METRICS_TOKEN: process.env.METRICS_TOKEN, REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES };
    process.env.METRICS_TOKEN = "operators-only-9876";
    process.env.REDIS_CLUSTER_NODES = "rediss://default:cluster-pass-42@node-1.example.test:6379";
    try {
      const lines: string[] = [];
      const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
      const log = createLogger(sink, "info");
      log.warn({ probe: "presented operators-only-9876" }, "connect failed: rediss://default:cluster-pass-42@node-1.example.test:6379");
      const text = lines.join("");
      expect(text).not.toContain("operators-only-9876");
      expect(text).not.toContain("cluster-pass-42");
      expect(text).toContain("rediss://default:[redacted]@node-1.example.test:6379");
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("scrubs credentials out of plain-string messages, as libraries write them", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger(sink, "info");
    log.warn(
      "Request failed: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln with key sk_live_51Habc and sk-0123456789abcdef01",
    );
    log.info({ url: "https://x.test/cb?access=shpua_deadbeef" }, "GET %s", "https://x.test/?k=whsec_abc123");
    const text = lines.join("");
    for (const secret of ["eyJhbGciOi", "sk_live_51Habc", "sk-0123456789abcdef01", "shpua_deadbeef", "whsec_abc123"])
      expect(text).not.toContain(secret);
    expect(text).toContain("Request failed: Authorization: Bearer [redacted]");
  });

  it("keeps secrets out of the JSON lines the app's logger writes", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger(sink, "info");
    log.error({ request: { headers: { authorization: "Bearer eyJhbGciOi" } }, shop: "s" }, "failed");
    expect(lines.join("")).not.toContain("eyJhbGciOi");
    expect(lines.join("")).toContain('"shop":"s"');
  });
});
