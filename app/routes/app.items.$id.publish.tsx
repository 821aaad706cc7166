import type { ActionFunctionArgs } from "@remix-run/node";
import { runItemAction } from "~/lib/item-action-response.server";
import db from "~/db.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { publishVersion } from "~/models/versions.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

/** "Publish this version": put one version of an image on the product (a version paid for before costs nothing). */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "publish-version", id }, async () => {
    const outcome = await publishVersion({ db, queue: getQueue() }, session.shop, id);
    if (outcome === "already") return { text: "This version is already on the product.", message: { code: "versionAlreadyLive" } };
    if (outcome === "approved")
      return { text: "Approved: this version will replace the product image in a moment.", message: { code: "versionApproved" } };
    if (outcome === "queued-paid") {
      return {
        text: `This version will replace the product image in a moment (${CREDITS_PER_IMAGE} credits, charged once it is live).`,
        message: { code: "versionQueuedPaid", params: { count: CREDITS_PER_IMAGE } },
      };
    }
    return { text: "This version will replace the product image in a moment, at no charge.", message: { code: "versionQueuedFree" } };
  });
};
