import type { ActionFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { runItemAction } from "~/lib/item-action-response.server";
import { saveAltText } from "~/models/alt-text.server";
import { authenticate } from "~/shopify.server";

/** Save alt text for a processed image: written to the product when published, kept for later when held. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  const id = params.id ?? "";
  const form = await request.formData();
  return runItemAction({ shop: session.shop, action: "alt", id }, () =>
    saveAltText({ db, graphql: admin.graphql }, session.shop, id, form.get("alt") ?? undefined),
  );
};
