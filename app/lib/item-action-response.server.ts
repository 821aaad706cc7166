import { json } from "@remix-run/node";
import { AppError } from "~/lib/app-error";
import { errorResponse } from "~/lib/error-response.server";
import { logger } from "~/lib/logger.server";

/**
 * Runs one review/restore action and answers JSON for `useFetcher`: `{ ok, message }`, or `{ ok: false, error }`
 * with the status a merchant's problem deserves (404 not this shop's, 409 wrong state, 502 Shopify refused, 503 busy).
 */
export async function runItemAction(context: { shop: string; action: string; id: string }, run: () => Promise<string>) {
  try {
    const message = await run();
    return json({ ok: true as const, message });
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
