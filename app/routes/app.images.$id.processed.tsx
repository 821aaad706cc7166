import type { LoaderFunctionArgs } from "@remix-run/node";
import prisma from "~/db.server";
import { getProcessedImage } from "~/models/batches.server";
import { authenticate } from "~/shopify.server";

/** The processed bytes of one batch item (for the before/after view); only the item's own shop gets them. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const image = await getProcessedImage(prisma, session.shop, params.id ?? "");
  if (!image) throw new Response("This processed image was not found.", { status: 404 });
  return new Response(new Uint8Array(image.bytes), {
    headers: {
      "Content-Type": image.mimeType,
      "Content-Length": String(image.bytes.length),
      "Cache-Control": "private, max-age=3600",
      "X-Content-Type-Options": "nosniff",
    },
  });
};
