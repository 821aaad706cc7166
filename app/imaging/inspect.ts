import sharp, { type Metadata } from "sharp";
import { ImageInputError } from "./errors";
import { isSrgbProfile } from "./icc";

/** Decompression-bomb guard: more pixels than this are refused before decoding (an 8000 x 5000 photo). */
export const MAX_IMAGE_PIXELS = 40_000_000;
/** Larger files are refused (Shopify itself stops at 20 MB). */
const MAX_IMAGE_BYTES = 30 * 1024 * 1024;
/** Below this on the shorter side there is not enough detail to make a product photo from. */
const MIN_IMAGE_SIDE = 200;

export type SniffedFormat = "jpeg" | "png" | "webp" | "gif" | "tiff" | "avif" | "heic" | "bmp" | "svg" | "pdf" | "text" | "unknown";

const DECODABLE: ReadonlySet<SniffedFormat> = new Set(["jpeg", "png", "webp", "gif", "tiff", "avif"]);

export const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  tiff: "image/tiff",
  avif: "image/avif",
  heic: "image/heic",
  bmp: "image/bmp",
  svg: "image/svg+xml",
};

/** The usual file extension of an image type ("jpg" for JPEG), or null for a type this app does not know. */
export function fileExtensionFor(mimeType: string | null | undefined): string | null {
  const format = Object.keys(MIME_BY_FORMAT).find((key) => MIME_BY_FORMAT[key] === mimeType);
  return format === "jpeg" ? "jpg" : (format ?? null);
}

const ascii = (bytes: Buffer, start: number, end: number) => bytes.toString("latin1", start, end);

/** The real type of the data, from its first bytes (never from a file name or a Content-Type). */
export function sniffImageFormat(bytes: Buffer): SniffedFormat {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return "png";
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a")) return "gif";
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return "webp";
  if (bytes.length >= 4 && (ascii(bytes, 0, 4) === "II*\0" || ascii(bytes, 0, 4) === "MM\0*")) return "tiff";
  if (bytes.length >= 12 && ascii(bytes, 4, 8) === "ftyp") {
    const brand = ascii(bytes, 8, 12);
    if (brand === "avif" || brand === "avis") return "avif";
    if (["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].includes(brand)) return "heic";
  }
  if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return "bmp";
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === "%PDF") return "pdf";
  const head = bytes
    .toString("utf8", 0, Math.min(bytes.length, 2048))
    .replace(/^\uFEFF/, "")
    .trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return "svg";
  if (bytes.length > 0 && isMostlyText(bytes.subarray(0, 512))) return "text";
  return "unknown";
}

function isMostlyText(sample: Buffer): boolean {
  let printable = 0;
  for (const byte of sample) if (byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127) || byte >= 0xc0) printable++;
  return printable / sample.length > 0.95;
}

function unsupported(format: SniffedFormat): ImageInputError {
  const messages: Partial<Record<SniffedFormat, string>> = {
    svg: "This file is an SVG drawing, not a photo. Upload the product photo as a JPG, PNG or WebP.",
    heic: "HEIC photos are not supported yet. Export the photo as JPG or PNG and upload it again.",
    bmp: "BMP images are not supported. Save the photo as JPG or PNG and upload it again.",
    pdf: "This file is a PDF, not an image. Upload the product photo as a JPG, PNG or WebP.",
    text: "This file is text, not an image (even if its name ends in an image extension). Upload the product photo as a JPG, PNG or WebP.",
  };
  return new ImageInputError(
    "unsupported-format",
    messages[format] ?? "This file is not an image we can read. Upload the product photo as a JPG, PNG or WebP.",
    { detail: `sniffed ${format}`, params: { format: format.toUpperCase() } },
  );
}

/** Cheap structural check for a cut-off download: the format's end marker must be there. */
function looksComplete(format: SniffedFormat, bytes: Buffer): boolean {
  switch (format) {
    case "jpeg": {
      let end = bytes.length;
      while (end > 2 && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
      return bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9;
    }
    case "png":
      return bytes.includes("IEND", Math.max(0, bytes.length - 64), "latin1");
    case "gif":
      return bytes.subarray(Math.max(0, bytes.length - 4)).includes(0x3b);
    case "webp":
      return bytes.length >= 8 && bytes.readUInt32LE(4) + 8 <= bytes.length;
    default:
      return true;
  }
}

const truncated = () =>
  new ImageInputError("truncated", "The image file is incomplete (the download or upload was cut off). Upload the photo again.");

export interface ImageInfo {
  format: string;
  mimeType: string;
  /** As displayed, after the EXIF orientation is applied. */
  width: number;
  height: number;
  /** Frames in the file (animated GIF/WebP); only the first is used. */
  pages: number;
  hasAlpha: boolean;
  /** The embedded colour profile: none, an sRGB one (safe to ignore when decoding), or another. */
  iccProfile: "none" | "srgb" | "other";
}

/**
 * Checks that the bytes are an image we can process and returns its real type and displayed size.
 * Throws ImageInputError with a message for the merchant; never decodes more than MAX_IMAGE_PIXELS.
 */
export async function inspectImage(bytes: Buffer): Promise<ImageInfo> {
  if (bytes.length === 0) {
    throw new ImageInputError("empty", "The image file is empty (0 bytes). Upload the photo again.");
  }
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new ImageInputError(
      "too-large",
      `The image file is ${(bytes.length / 1024 / 1024).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / 1024 / 1024} MB. Upload a smaller JPG or PNG.`,
      { params: { size: (bytes.length / 1024 / 1024).toFixed(1), limit: MAX_IMAGE_BYTES / 1024 / 1024 } },
    );
  }
  const format = sniffImageFormat(bytes);
  if (!DECODABLE.has(format)) throw unsupported(format);

  let metadata: Metadata;
  try {
    // Header only: safe on any size, so a huge declared size gets our own clear error below.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new ImageInputError("corrupt", "The image file is damaged and cannot be read. Upload the photo again or re-export it.", {
      cause,
    });
  }
  const rawWidth = metadata.width ?? 0;
  const rawHeight = metadata.height ?? 0;
  const width = metadata.autoOrient?.width ?? rawWidth;
  const height = metadata.autoOrient?.height ?? rawHeight;
  if (rawWidth * rawHeight > MAX_IMAGE_PIXELS) {
    throw new ImageInputError(
      "too-many-pixels",
      `The image is ${width} × ${height} px (${Math.round((width * height) / 1e6)} megapixels); the limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels. Resize it (for example to 4000 px on the longest side) and upload it again.`,
      { params: { limit: MAX_IMAGE_PIXELS / 1e6 } },
    );
  }
  if (Math.min(width, height) < MIN_IMAGE_SIDE) {
    throw new ImageInputError(
      "too-small",
      `The image is only ${width} × ${height} px. Upload a photo at least ${MIN_IMAGE_SIDE} px on each side (1000 px or more gives the best result).`,
      { params: { width, height, minSide: MIN_IMAGE_SIDE } },
    );
  }
  if (!looksComplete(format, bytes)) {
    // The end marker is missing; some encoders still write decodable files, so let the decoder decide.
    try {
      await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "truncated" }).resize(64, 64, { fit: "inside" }).raw().toBuffer();
    } catch (cause) {
      throw Object.assign(truncated(), { cause });
    }
  }
  return {
    format,
    mimeType: MIME_BY_FORMAT[format] ?? "application/octet-stream",
    width,
    height,
    pages: metadata.pages ?? 1,
    hasAlpha: metadata.hasAlpha ?? false,
    iccProfile: !metadata.icc ? "none" : isSrgbProfile(metadata.icc) ? "srgb" : "other",
  };
}
