import { describe, expect, it } from "vitest";
import { AppError } from "~/lib/app-error";
import { errorResponse } from "~/lib/error-response.server";
import { BatchInputError, BatchNotFoundError } from "~/models/batches.server";
import { ShopifyApiError, ShopifyThrottledError } from "~/lib/admin-graphql.server";
import { InsufficientCreditsError } from "~/models/credit-ledger.server";
import { StripeSignatureError } from "~/models/stripe.server";

async function answer(response: Response): Promise<{ status: number; body: unknown }> {
  return { status: response.status, body: await response.json() };
}

describe("errorResponse", () => {
  it("answers the error's status with the merchant's sentence and its code for the UI", async () => {
    const error = new InsufficientCreditsError(36, 30);
    expect(await answer(errorResponse(error))).toEqual({
      status: 422,
      body: {
        error: "This batch needs 36 credits; you have 30. Buy a credit pack on the Credits page, or select fewer images.",
        errorCode: "insufficientCredits",
        errorParams: { needed: 36, available: 30 },
      },
    });
  });

  it("puts the caller's fields first and leaves the code out where the sentence has none", async () => {
    expect(await answer(errorResponse(new BatchInputError("Only published images can be restored.", 409), { ok: false as const }))).toEqual(
      {
        status: 409,
        body: { ok: false, error: "Only published images can be restored." },
      },
    );
    expect(await answer(errorResponse(new BatchNotFoundError("This image")))).toEqual({
      status: 404,
      body: { error: "This image was not found.", errorCode: "itemNotFound", errorParams: {} },
    });
  });

  it("answers what the merchant can do, not the technical message, when they differ", async () => {
    const busy = await answer(errorResponse(new ShopifyThrottledError(2_000)));
    expect(busy).toEqual({
      status: 503,
      body: { error: "Shopify is busy with this store's requests. Try again in a few seconds.", errorCode: "shopifyBusy", errorParams: {} },
    });
    const refused = await answer(errorResponse(new ShopifyApiError("Access denied for fileUpdate", 403)));
    expect(refused).toEqual({
      status: 502,
      body: {
        error: "Shopify refused the change: Access denied for fileUpdate. Nothing was changed; try again.",
        errorCode: "shopifyRefused",
        errorParams: { detail: "Access denied for fileUpdate" },
      },
    });
    const forged = await answer(errorResponse(new StripeSignatureError("No signatures found matching the expected signature for payload")));
    expect(forged).toEqual({ status: 400, body: { error: "Invalid signature" } });
    const plain = new AppError("pg: relation missing", { merchantMessage: "Something went wrong on our side; try again." });
    expect(await answer(errorResponse(plain))).toEqual({ status: 500, body: { error: "Something went wrong on our side; try again." } });
  });

  it("says whether retrying can help, where Shopify's own status says so", () => {
    expect(new ShopifyApiError("Service unavailable", 503)).toMatchObject({ shopifyStatus: 503, httpStatus: 502, retryable: true });
    expect(new ShopifyApiError("Access denied", 403)).toMatchObject({ shopifyStatus: 403, retryable: false, terminal: true });
    expect(new ShopifyThrottledError(1_000).retryable).toBe(true);
  });
});
