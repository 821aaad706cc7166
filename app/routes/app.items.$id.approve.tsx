import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import db from "~/db.server";
import { approveItem } from "~/models/batches.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

/** Approve an image held for review: the worker publishes it from its checkpoint (no second charge). */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "approve", id }, async () => {
    await approveItem({ db, queue: getQueue() }, session.shop, id);
    return { text: "Approved: the image will replace the product image in a moment.", message: { code: "itemApproved" } };
  });
};
