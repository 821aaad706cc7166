import sharp, { type Metadata, type Sharp } from "sharp";
import { decodeRgb, type RgbImage } from "./decode";
import { ImageInputError, ImageResultError } from "./errors";
import { MAX_IMAGE_PIXELS } from "./inspect";
import { MIME_BY_OUTPUT_FORMAT, type OutputFormat, type ResolvedPipeline, type Rgb, type Size } from "./pipelines";
import { attachIccToJpeg, attachIccToPng, srgbIccProfile } from "./icc";
import { downsample, EXTERIOR, PRODUCT, refineSegmentation, type RefinedSegmentation } from "./refine";
import { expandBox, segmentProduct, type Box, type Segmentation } from "./segment";

/** Distance from the backdrop above which a pixel of a model output is product. */
export const PRODUCT_THRESHOLD = 32;
/** Below this distance an edge pixel is pure backdrop; between the two it is blended (anti-aliasing). */
const EDGE_LOW = 8;
/** Edge pixels within this many px of the product keep their blend; farther ones become pure background. */
const EDGE_RADIUS = 2;
/** Preview size (longest side, px) the product is found at before the full-resolution refinement. */
const PREVIEW_SIDE = 512;
/** A product smaller than this share of the image means the model lost it. */
const MIN_PRODUCT_SHARE = 0.004;

export interface PostProcessResult {
  bytes: Buffer;
  format: OutputFormat;
  mimeType: string;
  width: number;
  height: number;
  /** The product's box in the output image. */
  productBox: Box;
}

/** The output frame for a product of this shape. */
export function canvasFor(pipeline: ResolvedPipeline, product: Size): Size {
  const { canvas } = pipeline;
  if (canvas.kind === "fixed") return canvas.size;
  const aspect = Math.min(canvas.maxAspect, Math.max(canvas.minAspect, product.width / product.height));
  return aspect >= 1
    ? { width: canvas.longestSide, height: Math.round(canvas.longestSide / aspect) }
    : { width: Math.round(canvas.longestSide * aspect), height: canvas.longestSide };
}

/** Scale (output px per input px) that makes the product fill `coverage` of the frame. */
function productScale(box: Size, frame: Size, coverage: number): number {
  return coverage / Math.max(box.width / frame.width, box.height / frame.height);
}

/**
 * Decodes the model output at the resolution the output needs: full size for model outputs, a
 * reduced size (via the decoder's shrink-on-load) for big photos whose product will be shrunk.
 */
async function decodeAtWorkingSize(
  bytes: Buffer,
  pipeline: ResolvedPipeline,
  background: Rgb,
): Promise<{ image: RgbImage; preview?: { image: RgbImage; segmentation: Segmentation } }> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
  } catch (cause) {
    throw new ImageResultError("unreadable-result", "The edited image came back damaged. Try the image again.", { cause });
  }
  const longest = Math.max(metadata.autoOrient?.width ?? metadata.width ?? 0, metadata.autoOrient?.height ?? metadata.height ?? 0);
  const frameLongest = pipeline.canvas.kind === "fixed" ? Math.max(pipeline.canvas.size.width, pipeline.canvas.size.height) : pipeline.canvas.longestSide;
  if (longest <= frameLongest * 1.5) return { image: await decodeRgb(bytes, { background }) };

  const preview = await decodeRgb(bytes, { background, maxWidth: PREVIEW_SIDE, maxHeight: PREVIEW_SIDE });
  const segmentation = segmentProduct(preview, { threshold: PRODUCT_THRESHOLD });
  const found = segmentation.box;
  if (!found) return { image: await decodeRgb(bytes, { background }) };
  const previewScale = longest / Math.max(preview.width, preview.height);
  const fullBox = { width: found.width * previewScale, height: found.height * previewScale };
  const needed = productScale(fullBox, canvasFor(pipeline, fullBox), pipeline.targetCoverage);
  // A little above what is needed, so the final resize still downsamples (sharper than upsampling).
  const workingLongest = Math.min(longest, Math.ceil(longest * needed * 1.15));
  // The preview covers the same frame, so it also serves the full-resolution refinement.
  return { image: await decodeRgb(bytes, { background, maxWidth: workingLongest, maxHeight: workingLongest }), preview: { image: preview, segmentation } };
}


/**
 * Replaces every background pixel of `region` by the exact target colour and removes the old
 * backdrop's tint from the product's anti-aliased edge pixels. Pixels far from the product's
 * outline are filled or copied whole runs at a time; only outline pixels are looked at one by one.
 */
function compositeOntoBackground(image: RgbImage, refined: RefinedSegmentation, region: Box, target: Rgb): Buffer {
  const { data, width } = image;
  const { crop, state, distance, runs, rowBackground: rows } = refined;
  const cw = crop.width;
  const out = Buffer.allocUnsafe(region.width * region.height * 3);
  const fillColour = Buffer.from(target);
  const span = Math.max(1, width - 1);
  const [tr, tg, tb] = target;
  const rampSpan = Math.max(1, PRODUCT_THRESHOLD - EDGE_LOW);
  const regionEnd = region.left + region.width;
  const nearProduct = (cx: number, cy: number) => {
    for (let y = Math.max(0, cy - EDGE_RADIUS); y <= Math.min(crop.height - 1, cy + EDGE_RADIUS); y++) {
      for (let x = Math.max(0, cx - EDGE_RADIUS); x <= Math.min(cw - 1, cx + EDGE_RADIUS); x++) {
        if (state[y * cw + x] === PRODUCT) return true;
      }
    }
    return false;
  };
  for (let y = 0; y < region.height; y++) {
    const sy = region.top + y;
    const cy = sy - crop.top;
    const rowOut = y * region.width * 3;
    const rb = sy * 6;
    const rowRuns = runs[cy];
    if (!rowRuns) {
      out.fill(fillColour, rowOut, rowOut + region.width * 3);
      continue;
    }
    // Columns of the region outside the crop are backdrop.
    const cropEnd = crop.left + cw;
    if (region.left < crop.left) out.fill(fillColour, rowOut, rowOut + (Math.min(crop.left, regionEnd) - region.left) * 3);
    if (regionEnd > cropEnd) {
      const from = Math.max(cropEnd, region.left);
      out.fill(fillColour, rowOut + (from - region.left) * 3, rowOut + region.width * 3);
    }
    for (const run of rowRuns) {
      const from = Math.max(run.start + crop.left, region.left);
      const to = Math.min(run.end + crop.left, regionEnd);
      if (from >= to) continue;
      const o0 = rowOut + (from - region.left) * 3;
      if (run.kind === EXTERIOR) {
        out.fill(fillColour, o0, o0 + (to - from) * 3);
        continue;
      }
      if (run.kind === PRODUCT) {
        const i0 = (sy * width + from) * 3;
        out.set(data.subarray(i0, i0 + (to - from) * 3), o0);
        continue;
      }
      for (let sx = from, o = o0; sx < to; sx++, o += 3) {
        const cx = sx - crop.left;
        const p = cy * cw + cx;
        const i = (sy * width + sx) * 3;
        if (state[p] === PRODUCT) {
          out[o] = data[i]!;
          out[o + 1] = data[i + 1]!;
          out[o + 2] = data[i + 2]!;
          continue;
        }
        const d = distance[p]!;
        if (d <= EDGE_LOW || !nearProduct(cx, cy)) {
          out[o] = tr;
          out[o + 1] = tg;
          out[o + 2] = tb;
          continue;
        }
        // Anti-aliased edge: a ramp of the distance from the backdrop, whose tint is swapped for the target's.
        const a = Math.round(((d - EDGE_LOW) / rampSpan) * 255);
        const t = sx / span;
        const keep = 1 - a / 255;
        const br = rows[rb]! + (rows[rb + 3]! - rows[rb]!) * t;
        const bg = rows[rb + 1]! + (rows[rb + 4]! - rows[rb + 1]!) * t;
        const bb = rows[rb + 2]! + (rows[rb + 5]! - rows[rb + 2]!) * t;
        out[o] = clamp(data[i]! + keep * (tr - br));
        out[o + 1] = clamp(data[i + 1]! + keep * (tg - bg));
        out[o + 2] = clamp(data[i + 2]! + keep * (tb - bb));
      }
    }
  }
  return out;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

export function encodeOutput(image: Sharp, format: OutputFormat, quality: number): Sharp {
  // Metadata is dropped (sharp's default); the sRGB profile is the one thing kept, so colours display as intended.
  const tagged = image.withIccProfile("srgb");
  switch (format) {
    case "jpeg":
      return tagged.jpeg({ quality, chromaSubsampling: "4:2:0" });
    case "png":
      return tagged.png({ compressionLevel: 6 });
    case "webp":
      return tagged.webp({ quality, effort: 4 });
  }
}

/** Encodes with the sRGB profile attached (metadata otherwise dropped, as sharp does by default). */
export async function encodeTagged(image: Sharp, format: OutputFormat, quality: number): Promise<Buffer> {
  if (format === "webp") return encodeOutput(image, format, quality).toBuffer();
  const plain = format === "jpeg" ? image.jpeg({ quality, chromaSubsampling: "4:2:0" }) : image.png({ compressionLevel: 6 });
  const [bytes, icc] = await Promise.all([plain.toBuffer(), srgbIccProfile()]);
  return format === "jpeg" ? attachIccToJpeg(bytes, icc) : attachIccToPng(bytes, icc);
}

/**
 * Resizes the composited product. libvips enlarges through a generic affine transform at about
 * three times the cost of its reducing filters, so an enlargement first replicates pixels by a
 * whole factor and then reduces with lanczos3 to the exact size.
 */
async function resizeProduct(pixels: Buffer, size: Size, width: number, height: number): Promise<Sharp> {
  const raw = { width: size.width, height: size.height, channels: 3 as const };
  const enlargement = Math.max(width / size.width, height / size.height);
  if (enlargement <= 1) return sharp(pixels, { raw }).resize(width, height, { fit: "fill", kernel: "lanczos3" });
  const factor = Math.ceil(enlargement);
  const { data, info } = await sharp(pixels, { raw })
    .resize(size.width * factor, size.height * factor, { fit: "fill", kernel: "nearest" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).resize(width, height, { fit: "fill", kernel: "lanczos3" });
}

/**
 * Turns a model output into a compliant image: finds the product, trims to it, forces the
 * background to the exact colour, scales the product to the pipeline's coverage, centres it on
 * the pipeline's canvas and encodes it. Deterministic: same input, same bytes.
 */
export async function postProcessEdit(modelOutput: Buffer, pipeline: ResolvedPipeline, format: OutputFormat): Promise<PostProcessResult> {
  const background = pipeline.background;
  let decoded: Awaited<ReturnType<typeof decodeAtWorkingSize>>;
  try {
    decoded = await decodeAtWorkingSize(modelOutput, pipeline, background);
  } catch (cause) {
    if (cause instanceof ImageResultError) throw cause;
    const detail = cause instanceof ImageInputError ? cause.code : "decode";
    throw new ImageResultError("unreadable-result", "The edited image came back damaged. Try the image again.", {
      cause: Object.assign(new Error(detail), { cause }),
    });
  }
  const { image } = decoded;
  const preview = decoded.preview?.image ?? downsample(image, PREVIEW_SIDE).image;
  const previewSegmentation = decoded.preview?.segmentation ?? segmentProduct(preview, { threshold: PRODUCT_THRESHOLD });
  const refined =
    previewSegmentation.box && previewSegmentation.area >= preview.width * preview.height * MIN_PRODUCT_SHARE
      ? refineSegmentation(image, previewSegmentation, PRODUCT_THRESHOLD)
      : null;
  const box = refined?.box;
  if (!refined || !box) {
    throw new ImageResultError(
      "no-product",
      "No product could be found in the edited image. Try a photo where the product stands out clearly from its background.",
    );
  }

  const frame = canvasFor(pipeline, box);
  const scale = productScale(box, frame, pipeline.targetCoverage);
  const region = expandBox(box, EDGE_RADIUS + 2, image.width, image.height);
  const pixels = compositeOntoBackground(image, refined, region, background);

  const resizedWidth = Math.min(frame.width, Math.max(1, Math.round(region.width * scale)));
  const resizedHeight = Math.min(frame.height, Math.max(1, Math.round(region.height * scale)));
  const centreX = (box.left + box.width / 2 - region.left) * scale;
  const centreY = (box.top + box.height / 2 - region.top) * scale;
  const left = Math.min(frame.width - resizedWidth, Math.max(0, Math.round(frame.width / 2 - centreX)));
  const top = Math.min(frame.height - resizedHeight, Math.max(0, Math.round(frame.height / 2 - centreY)));
  const [r, g, b] = background;

  const resized = await resizeProduct(pixels, region, resizedWidth, resizedHeight);
  const pipelineImage = resized.extend({
    left,
    top,
    right: frame.width - resizedWidth - left,
    bottom: frame.height - resizedHeight - top,
    background: { r, g, b },
  });
  const bytes = await encodeTagged(pipelineImage, format, pipeline.definition.output.quality);
  return {
    bytes,
    format,
    mimeType: MIME_BY_OUTPUT_FORMAT[format],
    width: frame.width,
    height: frame.height,
    productBox: {
      left: left + Math.round((box.left - region.left) * scale),
      top: top + Math.round((box.top - region.top) * scale),
      width: Math.round(box.width * scale),
      height: Math.round(box.height * scale),
    },
  };
}
