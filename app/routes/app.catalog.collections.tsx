import { json, type LoaderFunctionArgs } from "@remix-run/node";
import { logger } from "~/lib/logger.server";
import { listCollections } from "~/models/catalog-runs.server";
import { authenticate } from "~/shopify.server";

/**
 * The store's collections for the catalogue run's picker, read when the merchant picks "a collection" rather than
 * with the page (which the page polls while a run works: that would spend Admin API points every 2 s).
 */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  try {
    return json({ collections: await listCollections(admin.graphql) });
  } catch (error) {
    logger.warn({ shop: session.shop, err: (error as Error).message }, "could not list collections");
    return json(
      { collections: null, error: "Your collections could not be loaded. Try again in a moment, or limit the run by type or tag." },
      { status: 502 },
    );
  }
};
