import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import { checkRateLimit } from "~/lib/rate-limit.server";
import db from "~/db.server";
import { restoreBatch } from "~/models/batches.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

/** Restore every published image of a batch to its original: queued for the worker, answered at once. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const limited = await checkRateLimit("batch-restore", session.shop);
  if (limited) return limited;
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "restore-batch", id }, async () => {
    const { queued } = await restoreBatch({ db, queue: getQueue() }, session.shop, id);
    if (queued === 0) return { text: "No published images to restore.", message: { code: "batchRestoreNone" } };
    return {
      text: `Restoring ${queued} original image${queued === 1 ? "" : "s"}; this page shows the progress.`,
      message: { code: "batchRestoreQueued", params: { count: queued } },
    };
  });
};
