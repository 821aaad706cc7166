import sharp from "sharp";
import { asImageInputError, openImage } from "~/imaging/decode";
import { ImageInputError } from "~/imaging/errors";
import { inspectImage, MIME_BY_FORMAT } from "~/imaging/inspect";

/** DashScope's documented limits for an input image of the Qwen image-edit models. */
export const DASHSCOPE_INPUT_LIMITS = {
  maxBytes: 10 * 1024 * 1024,
  minSide: 384,
  maxSide: 3072,
  formats: ["jpeg", "png", "bmp", "tiff", "webp", "gif"] as readonly string[],
};

export interface DashScopeImage {
  /** `data:<mime>;base64,...` */
  dataUri: string;
  width: number;
  height: number;
  /** True when the bytes had to be resized or re-encoded to fit the limits. */
  reencoded: boolean;
}

/**
 * Longest side of a re-encoded input: the edit models draw at most 2048 px, so more input detail only
 * costs decoding, upload and memory (a 20 MP JPEG then decodes at half scale, shrunk on load).
 */
export const REENCODED_INPUT_MAX_SIDE = 2048;

/** A size within [minSide, maxSide] on both sides, keeping the aspect ratio as far as possible. */
function fitWithinLimits(width: number, height: number): { width: number; height: number } {
  const { minSide } = DASHSCOPE_INPUT_LIMITS;
  const maxSide = REENCODED_INPUT_MAX_SIDE;
  let scale = Math.min(1, maxSide / Math.max(width, height));
  if (Math.min(width, height) * scale < minSide) scale = minSide / Math.min(width, height);
  return {
    width: Math.min(maxSide, Math.max(minSide, Math.round(width * scale))),
    height: Math.min(maxSide, Math.max(minSide, Math.round(height * scale))),
  };
}

/**
 * The image as DashScope accepts it. Bytes already within the limits are sent as they are;
 * anything else (too big, too small, an unsupported format, an EXIF rotation the model might
 * ignore) is resized (longest side at most REENCODED_INPUT_MAX_SIDE) and re-encoded as JPEG rather
 * than refused.
 */
export async function prepareDashScopeImage(image: Buffer): Promise<DashScopeImage> {
  const info = await inspectImage(image);
  const { maxBytes, minSide, maxSide, formats } = DASHSCOPE_INPUT_LIMITS;
  const orientation = info.format === "jpeg" ? ((await sharp(image).metadata()).orientation ?? 1) : 1;
  const fits =
    formats.includes(info.format) &&
    image.length <= maxBytes &&
    Math.min(info.width, info.height) >= minSide &&
    Math.max(info.width, info.height) <= maxSide &&
    info.pages === 1 &&
    orientation === 1;
  if (fits) {
    return {
      dataUri: `data:${info.mimeType};base64,${image.toString("base64")}`,
      width: info.width,
      height: info.height,
      reencoded: false,
    };
  }
  const size = fitWithinLimits(info.width, info.height);
  for (const quality of [92, 85, 75]) {
    let bytes: Buffer;
    try {
      bytes = await (
        await openImage(image)
      )
        .resize(size.width, size.height, { fit: "fill", kernel: "lanczos3" })
        .removeAlpha()
        .jpeg({ quality })
        .toBuffer();
    } catch (cause) {
      throw asImageInputError(cause);
    }
    if (bytes.length <= maxBytes) {
      return { dataUri: `data:${MIME_BY_FORMAT.jpeg};base64,${bytes.toString("base64")}`, ...size, reencoded: true };
    }
  }
  throw new ImageInputError(
    "too-detailed",
    "The image is too detailed to send for editing even after compression. Upload a smaller photo.",
  );
}
