/** ZIP download of a batch's processed images, streamed as it is built. */
import type { LoaderFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { streamBatchZip } from "~/models/batch-zip.server";
import { authenticate } from "~/shopify.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  // Each download reads every processed image of the batch from the database.
  await enforceRateLimit("zip-download", session.shop);
  const zip = await streamBatchZip(db, session.shop, params.id ?? "");
  if (!zip) throw new Response("This batch was not found.", { status: 404 });
  return new Response(zip.stream, {
    headers: {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="${zip.filename}"`,
      "Cache-Control": "private, no-store",
    },
  });
};
