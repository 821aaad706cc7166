import sharp, { type Sharp } from "sharp";
import { ImageInputError } from "./errors";
import { isSrgbProfile } from "./icc";
import { MAX_IMAGE_PIXELS } from "./inspect";
import type { Box, Rgb, Size } from "./pipelines";

/** 8-bit sRGB pixels, 3 channels, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodeOptions {
  /** Transparent pixels are composited onto this colour (default white). */
  background?: Rgb;
  /** Shrink to fit inside this box (never enlarges). Uses the decoder's shrink-on-load when it can. */
  maxWidth?: number;
  maxHeight?: number;
  /** Reduction kernel (default lanczos3, the sharpest). */
  kernel?: "linear" | "lanczos3";
  /** Skip the embedded profile's colour transform (for an sRGB profile, where it changes nothing but costs a pass). */
  ignoreIcc?: boolean;
}

/**
 * Opens any decodable input the same way everywhere: EXIF orientation applied, first frame only,
 * alpha flattened, CMYK / 16-bit / grey converted to 8-bit sRGB, pixel limit enforced.
 */
export async function openImage(bytes: Buffer, options: DecodeOptions = {}): Promise<Sharp> {
  const [r, g, b] = options.background ?? [255, 255, 255];
  const ignoreIcc = options.ignoreIcc ?? false;
  let image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "truncated", autoOrient: true, ignoreIcc })
    .flatten({ background: { r, g, b } })
    .toColourspace("srgb");
  // sharp converts a 16-bit RGB image with an embedded profile (even an sRGB one) into Display P3, its 16-bit working
  // space, and then reduces it to 8 bits as if it were sRGB: colours come out washed out. Converting the output
  // from that working space to sRGB puts them right; 8-bit images are already sRGB there and skip the extra pass.
  if (!ignoreIcc && (await isProfiled16BitRgb(bytes))) image = image.withIccProfile("srgb");
  if (options.maxWidth || options.maxHeight) {
    image = image.resize({
      width: options.maxWidth,
      height: options.maxHeight,
      fit: "inside",
      withoutEnlargement: true,
      kernel: options.kernel ?? "lanczos3",
    });
  }
  return image;
}

async function isProfiled16BitRgb(bytes: Buffer): Promise<boolean> {
  try {
    const metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
    return metadata.space === "rgb16" && Boolean(metadata.icc);
  } catch {
    return false; // the decode reports what is wrong with the file
  }
}

/** What decoding needs to know from the header: its size once oriented, and whether its profile can be ignored. */
export interface ImageHeader {
  width: number;
  height: number;
  /** The image embeds an sRGB profile, which decoding can ignore (see isSrgbProfile). */
  ignoreIcc: boolean;
}

/** Header only; an unreadable header says 0 x 0 and leaves the error to the decode. */
export async function readHeader(bytes: Buffer): Promise<ImageHeader> {
  try {
    const metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
    const width = metadata.autoOrient?.width ?? metadata.width ?? 0;
    const height = metadata.autoOrient?.height ?? metadata.height ?? 0;
    return { width, height, ignoreIcc: metadata.icc ? isSrgbProfile(metadata.icc) : false };
  } catch {
    return { width: 0, height: 0, ignoreIcc: false };
  }
}

export async function decodeRgb(bytes: Buffer, options: DecodeOptions = {}): Promise<RgbImage> {
  return toRgb(await openImage(bytes, options));
}

/**
 * Decodes only `region` of the image, after scaling it to `size` when given (the decoder's
 * shrink-on-load still applies). Rows below the region are never decoded.
 */
export async function decodeRgbRegion(
  bytes: Buffer,
  region: Box,
  options: { background?: Rgb; size?: Size; ignoreIcc?: boolean } = {},
): Promise<RgbImage> {
  let image = await openImage(bytes, { background: options.background, ignoreIcc: options.ignoreIcc });
  if (options.size) image = image.resize(options.size.width, options.size.height, { fit: "fill", kernel: "lanczos3" });
  return toRgb(image.extract(region));
}

async function toRgb(image: Sharp): Promise<RgbImage> {
  try {
    const { data, info } = await image.removeAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { data, width: info.width, height: info.height };
  } catch (cause) {
    throw asImageInputError(cause);
  }
}

export function asImageInputError(cause: unknown): ImageInputError {
  if (cause instanceof ImageInputError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) {
    return new ImageInputError(
      "too-many-pixels",
      `The image has more than ${MAX_IMAGE_PIXELS / 1e6} megapixels. Resize it and upload it again.`,
      { cause, params: { limit: MAX_IMAGE_PIXELS / 1e6 } },
    );
  }
  if (/truncat|premature end|unexpected end/i.test(message)) {
    return new ImageInputError("truncated", "The image file is incomplete (the download or upload was cut off). Upload the photo again.", {
      cause,
    });
  }
  return new ImageInputError("corrupt", "The image file is damaged and cannot be read. Upload the photo again or re-export it.", { cause });
}
