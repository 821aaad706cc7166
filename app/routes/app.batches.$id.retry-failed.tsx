import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import { checkRateLimit } from "~/lib/rate-limit.server";
import db from "~/db.server";
import { retryFailedImages } from "~/models/versions.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

/** "Try the failed images again": a new try of each failed image of the batch a new try may cure, 3 credits each if it succeeds. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  // One bucket with the single "Try again": both queue model calls.
  const limited = await checkRateLimit("image-retry", session.shop);
  if (limited) return limited;
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "retry-failed", id }, async () => {
    const { queued, creditsReserved } = await retryFailedImages({ db, queue: getQueue() }, session.shop, id);
    if (queued === 0) {
      return {
        text: "No failed image of this batch can be tried again now: a new version is already being made, or its reason says what to do instead.",
        message: { code: "retryFailedNone" },
      };
    }
    const perImage = creditsReserved / queued;
    return {
      text:
        `Making a new version of ${queued} failed image${queued === 1 ? "" : "s"} (${perImage} credits` +
        `${queued === 1 ? ", charged only if it succeeds" : " each, charged only for those that succeed"}); this page shows the progress.`,
      message: { code: "retryFailedQueued", params: { count: queued, credits: perImage } },
    };
  });
};
