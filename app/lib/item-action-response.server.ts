import { json } from "@remix-run/node";
import { AppError } from "~/lib/app-error";
import { errorResponse } from "~/lib/error-response.server";
import { logger } from "~/lib/logger.server";
import type { MerchantText, MessageCode, MessageParams } from "~/lib/merchant-message";

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
  if (!(error instanceof AppError)) throw error;
  if (error.httpStatus >= 500) logger.warn({ ...context, err: error.message }, "item action refused");
  return errorResponse(error, { ok: false as const });
}
