import sharp from "sharp";
import type { BlobRecord, EmulatorStore } from "./store";

const VARIANT_CACHE_LIMIT = 300;
const MAX_TRANSFORM_SIZE = 5760;

export type CdnResult = { status: number; headers: Record<string, string>; body: Buffer | string };

/**
 * GET /cdn/shop/files/<name>_<file id>.<ext>[?width=N&height=M]: the file's current bytes, or a
 * resized copy (fit inside, never enlarged, same format) like Shopify's CDN image transforms.
 */
export class Cdn {
  private readonly variants = new Map<string, Promise<Buffer>>();

  constructor(private readonly store: EmulatorStore) {}

  async serve(url: URL): Promise<CdnResult> {
    const blob = this.store.fileForUrl(url.toString())?.blob;
    if (!blob) return { status: 404, headers: { "Content-Type": "text/plain" }, body: "Not Found" };
    const width = dimension(url.searchParams.get("width"));
    const height = dimension(url.searchParams.get("height"));
    if (width === null || height === null)
      return { status: 400, headers: { "Content-Type": "text/plain" }, body: "width and height must be positive integers" };
    const body = width || height ? await this.variant(blob, width, height) : await this.store.blobBytes(blob);
    return {
      status: 200,
      headers: {
        "Content-Type": blob.mimeType,
        "Content-Length": String(body.length),
        "Cache-Control": "public, max-age=31536000, immutable",
      },
      body,
    };
  }

  private variant(blob: BlobRecord, width: number | undefined, height: number | undefined): Promise<Buffer> {
    const key = `${blob.id}:${width ?? ""}x${height ?? ""}`;
    let pending = this.variants.get(key);
    if (!pending) {
      pending = this.store
        .blobBytes(blob)
        .then((bytes) => sharp(bytes).resize({ width, height, fit: "inside", withoutEnlargement: true }).toBuffer());
      pending.catch(() => this.variants.delete(key));
      if (this.variants.size >= VARIANT_CACHE_LIMIT) this.variants.delete(this.variants.keys().next().value!);
      this.variants.set(key, pending);
    }
    return pending;
  }
}

/** undefined when absent, null when invalid. */
function dimension(raw: string | null): number | undefined | null {
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) return null;
  return Math.min(n, MAX_TRANSFORM_SIZE);
}
