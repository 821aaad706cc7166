import sharp from "sharp";

/** Widths the batch page asks previews of processed images in (a tile, the comparison). */
export const PREVIEW_WIDTHS = [480, 960] as const;
export type PreviewWidth = (typeof PREVIEW_WIDTHS)[number];

export function isPreviewWidth(value: number): value is PreviewWidth {
  return (PREVIEW_WIDTHS as readonly number[]).includes(value);
}

/**
 * A smaller JPEG of a processed image for the page, so a gallery of 30 tiles does not download 30 full-size results.
 * Transparency lands on white, as the tile shows it; an image already that small is re-encoded, never enlarged.
 */
export async function previewJpeg(bytes: Buffer, width: PreviewWidth): Promise<Buffer> {
  return sharp(bytes)
    .resize(width, width, { fit: "inside", withoutEnlargement: true })
    .flatten({ background: "#ffffff" })
    .jpeg({ quality: 82, mozjpeg: false })
    .toBuffer();
}

/**
 * Longest side of the copy of a processed image a vision model describes (alt text): it reads a product at 768 px as
 * well as at 2048 px, for a ninth of the upload and of the image tokens.
 */
const DESCRIBE_SIDE = 768;

/**
 * A JPEG of the image at most DESCRIBE_SIDE px on its longer side, reduced from its full-resolution 8-bit RGB pixels:
 * those a caller already decoded (the compliance check's), or else the file's, decoded here on white. Never from a
 * shrink-on-load decode, so both give the same bytes.
 */
export async function describePreview(image: Buffer | { data: Buffer; width: number; height: number }): Promise<Buffer> {
  const pixels = Buffer.isBuffer(image) ? await decodeOnWhite(image) : image;
  return sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } })
    .resize(DESCRIBE_SIDE, DESCRIBE_SIDE, { fit: "inside", withoutEnlargement: true })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function decodeOnWhite(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes)
    .flatten({ background: "#ffffff" })
    .toColourspace("srgb")
    .removeAlpha()
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
