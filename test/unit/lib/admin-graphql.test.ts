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
});
