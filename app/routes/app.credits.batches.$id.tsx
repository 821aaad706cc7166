import { json, type LoaderFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { batchCreditLines } from "~/models/credit-history.server";
import { authenticate } from "~/shopify.server";

/** A batch's line of the credit history, opened: what each image cost (JSON for the Credits page's fetcher). */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = params.id ?? "";
  const batch = /^[0-9a-f-]{36}$/i.test(id) ? await db.batch.findFirst({ where: { id, shop: session.shop }, select: { id: true } }) : null;
  if (!batch) throw new Response("Not found", { status: 404 });
  return json({ lines: await batchCreditLines(db, session.shop, batch.id) });
};
