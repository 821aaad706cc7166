/** ZIP download of a batch's processed images, streamed as it is built. */
import type { LoaderFunctionArgs } from "@remix-run/node";
import prisma from "~/db.server";
import { streamBatchZip } from "~/models/batch-zip.server";
import { authenticate } from "~/shopify.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const zip = await streamBatchZip(prisma, session.shop, params.id ?? "");
  if (!zip) throw new Response("This batch was not found.", { status: 404 });
  return new Response(zip.stream, {
    headers: {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="${zip.filename}"`,
      "Cache-Control": "private, no-store",
    },
  });
};
