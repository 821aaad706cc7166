import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import prisma from "~/db.server";
import { restoreBatch } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

/** Restore every published image of a batch to its original. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "restore-batch", id }, async () => {
    const { restored } = await restoreBatch({ db: prisma, graphql: admin.graphql }, session.shop, id);
    return restored === 0 ? "No published images to restore." : `Restored ${restored} original image${restored === 1 ? "" : "s"}.`;
  });
};
