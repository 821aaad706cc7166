import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import db from "~/db.server";
import { restoreItem } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

/** Put the original image back on the product, in the same place. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "restore", id }, async () => {
    await restoreItem({ db, graphql: admin.graphql }, session.shop, id);
    return { text: "Original image restored.", message: { code: "itemRestored" } };
  });
};
