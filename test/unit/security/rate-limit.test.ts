import { describe, expect, it } from "vitest";
import { rateLimitedResponse, rateLimitMessage } from "~/lib/rate-limit.server";

describe("rate limit answers", () => {
  it("tells the merchant the limit and how long to wait", () => {
    const message = rateLimitMessage("batch-create", { allowed: false, retryAfterMs: 1500, window: { max: 10, windowMs: 1000 } });
    expect(message).toBe("Too many batches created in a short time (limit: 10 per 1 second). Please wait 2 seconds and try again.");
    expect(rateLimitMessage("purchase-create", { allowed: false, retryAfterMs: 200, window: { max: 60, windowMs: 60_000 } })).toContain(
      "Too many purchases created in a short time (limit: 60 per 1 minute). Please wait 1 second",
    );
  });

  it("answers 429 with Retry-After in whole seconds and a JSON error", async () => {
    const response = rateLimitedResponse("batch-create", { allowed: false, retryAfterMs: 42_100, window: { max: 60, windowMs: 60_000 } });
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("43");
    // The English sentence for APIs and logs, and its code for the merchant's language (issue 18).
    expect(await response.json()).toEqual({
      error: expect.stringContaining("Please wait 43 seconds"),
      errorCode: "rateLimited",
      errorParams: { seconds: 43 },
    });
  });
});
