import type { LoaderFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { isPreviewWidth } from "~/imaging/preview";
import { getProcessedImage, getProcessedPreview } from "~/models/stored-images.server";
import { authenticate } from "~/shopify.server";

/**
 * The processed bytes of one batch item (for the before/after views); only the item's own shop gets them. `?w=480`
 * or `?w=960` answers a smaller JPEG for the gallery's tiles and comparison.
 */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const width = Number(new URL(request.url).searchParams.get("w") ?? "");
  const id = params.id ?? "";
  const image = isPreviewWidth(width)
    ? await getProcessedPreview(db, session.shop, id, width)
    : await getProcessedImage(db, session.shop, id);
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
