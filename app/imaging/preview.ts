import sharp from "sharp";

/** Widths the batch page asks previews of processed images in (a tile, the comparison). */
const PREVIEW_WIDTHS = [480, 960] as const;
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
