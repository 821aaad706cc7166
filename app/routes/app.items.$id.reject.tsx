import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import db from "~/db.server";
import { rejectItem } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

/** Reject an image held for review: the product keeps its original and the credits are released. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "reject", id }, async () => {
    await rejectItem({ db }, session.shop, id);
    return { text: "Rejected: the original image stays and its credits were given back.", message: { code: "itemRejected" } };
  });
};
