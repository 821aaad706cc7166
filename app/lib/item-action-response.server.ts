import { json } from "@remix-run/node";
import { logger } from "~/lib/logger.server";
import { BatchInputError, BatchNotFoundError } from "~/models/batches.server";
import { ShopifyApiError, ShopifyThrottledError, ShopifyUserError } from "~/lib/admin-graphql.server";

/**
 * Runs one review/restore action and answers JSON for `useFetcher`: `{ ok, message }`, or `{ error }`
 * with the status a merchant's problem deserves (404 not this shop's, 409 wrong state, 502 Shopify).
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
  if (error instanceof BatchNotFoundError) return json({ ok: false as const, error: error.message }, { status: 404 });
  if (error instanceof BatchInputError) return json({ ok: false as const, error: error.message }, { status: error.status });
  if (error instanceof ShopifyThrottledError) {
    return json({ ok: false as const, error: "Shopify is busy with this store's requests. Try again in a few seconds." }, { status: 503 });
  }
  if (error instanceof ShopifyUserError || error instanceof ShopifyApiError) {
    logger.warn({ ...context, err: error.message }, "item action refused by Shopify");
    return json({ ok: false as const, error: `Shopify refused the change: ${error.message}. Nothing was changed; try again.` }, { status: 502 });
  }
  throw error;
}
