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

  it("keeps secrets out of the JSON lines the app's logger writes", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger(sink, "info");
    log.error({ request: { headers: { authorization: "Bearer eyJhbGciOi" } }, shop: "s" }, "failed");
    expect(lines.join("")).not.toContain("eyJhbGciOi");
    expect(lines.join("")).toContain('"shop":"s"');
  });
});
