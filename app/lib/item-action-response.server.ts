import { json } from "@remix-run/node";
import { logger } from "~/lib/logger.server";
import { errorPayload, type MerchantText, type MessageCode, type MessageParams } from "~/lib/merchant-message";
import { BatchInputError, BatchNotFoundError } from "~/models/batches.server";
import { ShopifyApiError, ShopifyThrottledError, ShopifyUserError } from "~/models/catalog.server";

/** The answer of an item action: the English sentence (API, tests) and its code for the viewer's language. */
export interface ItemActionDone {
  ok: true;
  message: string;
  messageCode: MessageCode;
  messageParams: MessageParams;
}

/**
 * Runs one review/restore action and answers JSON for `useFetcher`: `{ ok, message, messageCode }`, or
 * `{ error, errorCode }` (an ErrorPayload) with the status a merchant's problem deserves (404 not this shop's,
 * 409 wrong state, 502 Shopify).
 */
export async function runItemAction(context: { shop: string; action: string; id: string }, run: () => Promise<MerchantText>) {
  try {
    const done = await run();
    return json<ItemActionDone>({ ok: true, message: done.text, messageCode: done.message.code, messageParams: done.message.params ?? {} });
  } catch (error) {
    return itemActionError(context, error);
  }
}

/** The answer for an action's error a merchant can act on (rethrows anything else). */
export function itemActionError(context: { shop: string; action: string; id: string }, error: unknown) {
  if (error instanceof BatchNotFoundError) return json({ ok: false as const, ...errorPayload(error.message, error.merchant) }, { status: 404 });
  if (error instanceof BatchInputError) return json({ ok: false as const, ...errorPayload(error.message, error.merchant) }, { status: error.status });
  if (error instanceof ShopifyThrottledError) {
    return json({ ok: false as const, ...errorPayload("Shopify is busy with this store's requests. Try again in a few seconds.", { code: "shopifyBusy" }) }, { status: 503 });
  }
  if (error instanceof ShopifyUserError || error instanceof ShopifyApiError) {
    logger.warn({ ...context, err: error.message }, "item action refused by Shopify");
    return json(
      { ok: false as const, ...errorPayload(`Shopify refused the change: ${error.message}. Nothing was changed; try again.`, { code: "shopifyRefused", params: { detail: error.message } }) },
      { status: 502 },
    );
  }
  throw error;
}
