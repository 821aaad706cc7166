// Errors the offline Admin client (shopify-api) throws reach callers as the app's own: Shopify's status kept, so a
// frozen (402) or locked (423) store is terminal and a 429 is a throttle, with Shopify's words in the message.
import { HttpResponseError, HttpThrottlingError } from "@shopify/shopify-api";
import { describe, expect, it } from "vitest";
import { runGraphql, ShopifyApiError, ShopifyThrottledError, type AdminGraphql } from "~/lib/admin-graphql.server";

const SHOP_ID = `#graphql
  query ShopAvailability {
    shop { id }
  }
`;

const throwing = (error: unknown): AdminGraphql => (async () => Promise.reject(error)) as unknown as AdminGraphql;

describe("runGraphql with shopify-api's HTTP errors", () => {
  it.each([402, 423])("turns a %i into a terminal ShopifyApiError with Shopify's message", async (code) => {
    const refused = new HttpResponseError({ message: "refused", code, statusText: "", body: { errors: "Unavailable Shop" } });
    const error = await runGraphql(throwing(refused), SHOP_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopifyApiError);
    expect(error).toMatchObject({ shopifyStatus: code, terminal: true, message: "Shopify ShopAvailability failed: Unavailable Shop" });
  });

  it("keeps a server error retryable and a 429 a throttle", async () => {
    const failed = new HttpResponseError({ message: "boom", code: 502, statusText: "Bad Gateway" });
    expect(await runGraphql(throwing(failed), SHOP_ID).catch((e: unknown) => e)).toMatchObject({ shopifyStatus: 502, terminal: false });
    const throttled = new HttpThrottlingError({ message: "slow down", code: 429, statusText: "Too Many Requests" });
    expect(await runGraphql(throwing(throttled), SHOP_ID).catch((e: unknown) => e)).toBeInstanceOf(ShopifyThrottledError);
  });

  it("says how long one request waits, and how long the shop's queued jobs wait: until the bucket is half full", async () => {
    const body = {
      errors: [{ message: "Throttled", extensions: { code: "THROTTLED" } }],
      extensions: {
        cost: { requestedQueryCost: 100, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 10, restoreRate: 50 } },
      },
    };
    const answering = (async () => new Response(JSON.stringify(body), { status: 200 })) as unknown as AdminGraphql;
    const error = await runGraphql(answering, SHOP_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopifyThrottledError);
    // (100 - 10) / 50 s for this request; (500 - 10) / 50 s until half of the 1000 points are back.
    expect(error).toMatchObject({ retryAfterMs: 1800, refillMs: 9800 });
  });
});
