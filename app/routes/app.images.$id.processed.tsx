import type { LoaderFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { isPreviewWidth } from "~/imaging/preview";
import { getProcessedImage, getProcessedPreview } from "~/models/stored-images.server";
import { authenticate } from "~/shopify.server";

const CACHE_CONTROL = "private, max-age=3600";

/**
 * The processed bytes of one batch item (for the before/after views); only the item's own shop gets them. `?w=480`
 * or `?w=960` answers a smaller JPEG for the gallery's tiles and comparison, with an ETag the browser revalidates.
 */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const width = Number(new URL(request.url).searchParams.get("w") ?? "");
  const id = params.id ?? "";
  if (isPreviewWidth(width)) {
    const preview = await getProcessedPreview(db, session.shop, id, width, { ifNoneMatch: request.headers.get("If-None-Match") });
    if (!preview) throw notFound();
    if (preview.notModified) return new Response(null, { status: 304, headers: { ETag: preview.etag, "Cache-Control": CACHE_CONTROL } });
    return imageResponse(preview.bytes, preview.mimeType, { ETag: preview.etag });
  }
  const image = await getProcessedImage(db, session.shop, id);
  if (!image) throw notFound();
  return imageResponse(image.bytes, image.mimeType);
};

function notFound(): Response {
  return new Response("This processed image was not found.", { status: 404 });
}

function imageResponse(bytes: Buffer, mimeType: string, extra: Record<string, string> = {}): Response {
  return new Response(new Uint8Array(bytes), {
    headers: {
      "Content-Type": mimeType,
      "Content-Length": String(bytes.length),
      "Cache-Control": CACHE_CONTROL,
      "X-Content-Type-Options": "nosniff",
      ...extra,
    },
  });
}
