import { endianness } from "node:os";
import sharp, { type Metadata, type Sharp } from "sharp";
import { decodeRgb, decodeRgbRegion, type RgbImage } from "./decode";
import { ImageInputError, ImageResultError } from "./errors";
import { MAX_IMAGE_PIXELS } from "./inspect";
import {
  borderBandWidth,
  MIME_BY_OUTPUT_FORMAT,
  SOFT_SHADOW_MAX_DEPTH,
  type OutputFormat,
  type ResolvedPipeline,
  type Rgb,
  type Size,
} from "./pipelines";
import { attachIccToJpeg, attachIccToPng, isSrgbProfile, srgbIccProfile } from "./icc";
import {
  EXTERIOR,
  PRODUCT,
  refinementCrop,
  refineSegmentation,
  releaseRefinement,
  type PixelWindow,
  type RefinedSegmentation,
} from "./refine";
import { expandBox, intersectBox, segmentProduct, type Box, type Segmentation } from "./segment";

/** Distance from the backdrop above which a pixel of a model output is product. */
const PRODUCT_THRESHOLD = 32;
/**
 * Weight of tint in a pixel's distance from the backdrop (see backdropDistance): a pixel whose tint differs from the
 * backdrop's by 6 levels is as far from it as one 32 levels darker, so a pale blue or cream product part stays product
 * while a neutral shadow or the backdrop's grain (same change in every channel) does not.
 */
const CHROMA_WEIGHT = 5.5;
/**
 * An enclosed gap in the product (between a hanger and a shoulder) whose pixels are mostly this close to the backdrop
 * on the preview (its grain averaged out) is the backdrop showing through: it becomes background, not product.
 */
const BACKDROP_GAP_DISTANCE = 5;
/**
 * A concavity of the product's outline up to twice this share of the preview wide, lit by a white product's highlight,
 * keeps the product's shading (see segment.ts, litConcavities): the highlights of a white shirt run in bands this wide.
 */
const LIT_CONCAVITY_REACH = 0.024;
/** Below this distance an edge pixel is pure backdrop; between the two it is blended (anti-aliasing). */
const EDGE_LOW = 8;
/** Edge pixels within this many px of the product keep their blend; farther ones become pure background. */
const EDGE_RADIUS = 2;
/**
 * Preview size (longest side, px, about) the product is found at before the full-resolution
 * refinement. A model output is reduced by a whole factor, so preview pixels are blocks of it.
 */
const PREVIEW_SIDE = 256;
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
  /** Where the model output landed: output x = offsetX + model x * scale (y likewise), for measuring what was kept. */
  placement: { scale: number; offsetX: number; offsetY: number };
}

/** The output frame for a product of this shape. */
function canvasFor(pipeline: ResolvedPipeline, product: Size): Size {
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

interface LocatedProduct {
  /** Size of the model output as decoded (oriented). */
  full: Size;
  /** Size of the image the product is located in: the model output, or a reduced copy of a large one. */
  working: Size;
  /** The decoded pixels of `working` that the refinement and the composite read. */
  window: PixelWindow;
  preview: Segmentation;
}

const unreadableResult = (cause: unknown) =>
  new ImageResultError("unreadable-result", "The edited image came back damaged. Try the image again.", { cause });

/**
 * A copy of a decoded image reduced by a whole factor, for finding the product: each pixel is the
 * average of its block's columns on two of its rows (libvips' box shrink over a view of every
 * `factor / 2`-th row, which reads a quarter of the pixels of a full block average).
 */
async function previewOf(image: RgbImage, factor: number): Promise<RgbImage> {
  if (factor === 1) return image;
  const width = Math.max(1, Math.round(image.width / factor));
  const height = Math.max(1, Math.round(image.height / factor));
  const rowStep = image.height >= factor * 2 ? Math.max(1, Math.floor(factor / 2)) : 1;
  // The sampled rows sit in the middle of their half-blocks, so the preview stays centred on its blocks.
  const firstRow = Math.floor(rowStep / 2);
  const sampledRows = Math.floor((image.height - firstRow) / rowStep);
  const rowBytes = image.width * 3;
  const rows = Buffer.from(image.data.buffer, image.data.byteOffset + firstRow * rowBytes, sampledRows * rowStep * rowBytes);
  // Rows `rowStep` apart, seen as one image whose rows are `rowStep` source rows long: its left part is every sampled row.
  const view = sharp(rows, { raw: { width: image.width * rowStep, height: sampledRows, channels: 3 } });
  const data = await view
    .extract({ left: 0, top: 0, width: image.width, height: sampledRows })
    .resize(width, height, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  return { data, width, height };
}

/**
 * Finds the product on a preview and decodes what the refinement needs at the resolution the
 * output needs: all of a model output, or only the product's area of a big photo, reduced (via the
 * decoder's shrink-on-load) when its product will be shrunk anyway.
 */
async function locateProduct(bytes: Buffer, pipeline: ResolvedPipeline, background: Rgb): Promise<LocatedProduct | null> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
  } catch (cause) {
    throw unreadableResult(cause);
  }
  const ignoreIcc = metadata.icc ? isSrgbProfile(metadata.icc) : false;
  const full = { width: metadata.autoOrient?.width ?? metadata.width ?? 0, height: metadata.autoOrient?.height ?? metadata.height ?? 0 };
  const longest = Math.max(full.width, full.height);
  const frameLongest =
    pipeline.canvas.kind === "fixed" ? Math.max(pipeline.canvas.size.width, pipeline.canvas.size.height) : pipeline.canvas.longestSide;
  if (longest <= frameLongest * 1.5) {
    const image = await decodeRgb(bytes, { background, ignoreIcc });
    const factor = Math.max(1, Math.floor(Math.max(image.width, image.height) / PREVIEW_SIDE));
    const preview = segmentProduct(await previewOf(image, factor), {
      threshold: PRODUCT_THRESHOLD,
      chromaWeight: CHROMA_WEIGHT,
      backdropGapDistance: BACKDROP_GAP_DISTANCE,
      litConcavityReach: LIT_CONCAVITY_REACH,
    });
    return { full, working: { width: image.width, height: image.height }, window: { ...image, left: 0, top: 0 }, preview };
  }

  const previewImage = await decodeRgb(bytes, { background, maxWidth: PREVIEW_SIDE, maxHeight: PREVIEW_SIDE, ignoreIcc });
  const preview = segmentProduct(previewImage, {
    threshold: PRODUCT_THRESHOLD,
    chromaWeight: CHROMA_WEIGHT,
    backdropGapDistance: BACKDROP_GAP_DISTANCE,
    litConcavityReach: LIT_CONCAVITY_REACH,
  });
  const found = preview.box;
  if (!found) return null;
  const previewScale = longest / Math.max(preview.width, preview.height);
  const fullBox = { width: found.width * previewScale, height: found.height * previewScale };
  const needed = productScale(fullBox, canvasFor(pipeline, fullBox), pipeline.targetCoverage);
  // A little above what is needed, so the final resize still downsamples (sharper than upsampling).
  const reduction = Math.min(1, needed * 1.15);
  const working =
    reduction < 1
      ? { width: Math.max(1, Math.round(full.width * reduction)), height: Math.max(1, Math.round(full.height * reduction)) }
      : full;
  const crop = refinementCrop(preview, working)!;
  const window = await decodeRgbRegion(bytes, crop, { background, size: reduction < 1 ? working : undefined, ignoreIcc });
  return { full, working, window: { ...window, left: crop.left, top: crop.top }, preview };
}

/** True when a PRODUCT pixel lies within EDGE_RADIUS of crop pixel (cx, cy). */
function nearProduct(state: Uint8Array, cw: number, ch: number, cx: number, cy: number): boolean {
  for (let y = Math.max(0, cy - EDGE_RADIUS); y <= Math.min(ch - 1, cy + EDGE_RADIUS); y++) {
    for (let x = Math.max(0, cx - EDGE_RADIUS); x <= Math.min(cw - 1, cx + EDGE_RADIUS); x++) {
      if (state[y * cw + x] === PRODUCT) return true;
    }
  }
  return false;
}

interface CompositeSource {
  data: Uint8Array;
  refined: RefinedSegmentation;
  /** Full-image width less one: the row backdrop is interpolated across it. */
  span: number;
  target: Rgb;
}

/**
 * Outline pixels of one row, `from..to` in full-image columns, in place: product pixels stay as
 * they are, backdrop pixels become the target colour, and anti-aliased edge pixels near the
 * product keep their blend with the old backdrop's tint swapped for the target's.
 */
function compositeOutline(source: CompositeSource, from: number, to: number, sy: number, rowData: number): void {
  const { data, refined, span, target } = source;
  const { crop, state, distance, rowBackground: rows } = refined;
  const cw = crop.width;
  const cy = sy - crop.top;
  const [tr, tg, tb] = target;
  const rb = sy * 6;
  const rampSpan = Math.max(1, PRODUCT_THRESHOLD - EDGE_LOW);
  for (let sx = from, p = cy * cw + from - crop.left, i = rowData + from * 3; sx < to; sx++, p++, i += 3) {
    if (state[p] === PRODUCT) continue;
    const d = distance[p]!;
    if (d <= EDGE_LOW || !nearProduct(state, cw, crop.height, sx - crop.left, cy)) {
      data[i] = tr;
      data[i + 1] = tg;
      data[i + 2] = tb;
      continue;
    }
    // Anti-aliased edge: a ramp of the distance from the backdrop, whose tint is swapped for the target's.
    const a = Math.round(((d - EDGE_LOW) / rampSpan) * 255);
    const t = sx / span;
    const keep = 1 - a / 255;
    const br = rows[rb]! + (rows[rb + 3]! - rows[rb]!) * t;
    const bg = rows[rb + 1]! + (rows[rb + 4]! - rows[rb + 1]!) * t;
    const bb = rows[rb + 2]! + (rows[rb + 5]! - rows[rb + 2]!) * t;
    data[i] = clamp(data[i]! + keep * (tr - br));
    data[i + 1] = clamp(data[i + 1]! + keep * (tg - bg));
    data[i + 2] = clamp(data[i + 2]! + keep * (tb - bb));
  }
}

/**
 * Replaces every background pixel of `region` (in the window's pixels, in place) by the exact
 * target colour and removes the old backdrop's tint from the product's anti-aliased edge pixels.
 * Runs far from the product's outline are filled whole or left as they are; only outline pixels
 * are looked at one by one.
 */
function compositeInPlace(window: PixelWindow, fullWidth: number, refined: RefinedSegmentation, region: Box, target: Rgb): void {
  const { data } = window;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stride = window.width * 3;
  const { crop, runs } = refined;
  const source: CompositeSource = { data, refined, span: Math.max(1, fullWidth - 1), target };
  const fillColour = Buffer.from(target);
  const regionEnd = region.left + region.width;
  const cropEnd = crop.left + crop.width;
  const fill = (rowData: number, from: number, to: number) => {
    if (from < to) bytes.fill(fillColour, rowData + from * 3, rowData + to * 3);
  };
  for (let sy = region.top; sy < region.top + region.height; sy++) {
    // Byte offset of full-image column 0 of this row in the window.
    const rowData = (sy - window.top) * stride - window.left * 3;
    const rowRuns = runs[sy - crop.top];
    if (!rowRuns) {
      fill(rowData, region.left, regionEnd);
      continue;
    }
    // Columns of the region outside the crop are backdrop.
    fill(rowData, region.left, Math.min(crop.left, regionEnd));
    fill(rowData, Math.max(cropEnd, region.left), regionEnd);
    for (let r = 0; r < rowRuns.length; r++) {
      const run = rowRuns[r]!;
      const from = Math.max(run.start + crop.left, region.left);
      const to = Math.min(run.end + crop.left, regionEnd);
      if (from >= to || run.kind === PRODUCT) continue;
      if (run.kind === EXTERIOR) fill(rowData, from, to);
      else compositeOutline(source, from, to, sy, rowData);
    }
  }
}

/** A kept shadow reaches this share of the frame's height below the product at most. */
const SHADOW_REACH = 0.06;
/** Smoothing radius of the shadow, as a share of the image's shorter side (the backdrop's grain averages out). */
const SHADOW_SMOOTHING = 0.004;
/** Darkening (levels) below which the backdrop counts as unshadowed: its grain and the row estimate's error. */
const SHADOW_NOISE = 2;
/** How much of the model's shadow is kept: softer than drawn. */
const SHADOW_STRENGTH = 0.75;
/** Pixels darker than this or tinted more than SHADOW_TINT are not shadow (a speck, a product part): left out of it. */
const SHADOW_DARKEST = 48;
const SHADOW_TINT = 6;
/** Gap (px) kept between a shadow and the border band the compliance check reads, in the output. */
const SHADOW_BORDER_GAP = 2;

/** Darkening of the background under the product, per pixel of `box` (working coordinates). */
interface SoftShadow {
  box: Box;
  depth: Float32Array;
}

/**
 * The model's contact shadow under the product, measured before the background is replaced: per non-product pixel
 * of the zone under the product's lower half, how much darker than its row's backdrop it is, when it is darkened
 * evenly in every channel (a shadow; a tinted or very dark pixel is something else and left out), averaged over a
 * small neighbourhood of such pixels (normalised box filter: product pixels never bleed into it). Kept softer than
 * drawn and faded out towards the zone's edges, so it never ends in a line. `limit` is the part of the working image
 * that lands inside the frame clear of its border band.
 */
function measureSoftShadow(
  window: PixelWindow,
  fullWidth: number,
  refined: RefinedSegmentation,
  product: Box,
  limit: Box,
  frameHeight: number,
  scale: number,
): SoftShadow | null {
  const reach = Math.round((SHADOW_REACH * frameHeight) / scale);
  const zone = intersectBox(
    intersectBox(
      {
        left: product.left - Math.round(product.width * 0.05),
        top: product.top + Math.round(product.height * 0.5),
        width: Math.round(product.width * 1.1),
        height: Math.round(product.height * 0.5) + reach,
      },
      limit,
    ),
    window,
  );
  if (zone.width < 4 || zone.height < 4) return null;
  const { data } = window;
  const { crop, state, rowBackground: rows } = refined;
  const span = Math.max(1, fullWidth - 1);
  const stride = window.width * 3;
  const n = zone.width * zone.height;
  const dark = new Float32Array(n);
  const weight = new Float32Array(n);
  for (let y = 0; y < zone.height; y++) {
    const sy = zone.top + y;
    const rb = sy * 6;
    const cy = sy - crop.top;
    const inCropRow = cy >= 0 && cy < crop.height;
    for (let x = 0; x < zone.width; x++) {
      const sx = zone.left + x;
      const cx = sx - crop.left;
      if (inCropRow && cx >= 0 && cx < crop.width && state[cy * crop.width + cx] === PRODUCT) continue;
      const t = sx / span;
      const i = (sy - window.top) * stride + (sx - window.left) * 3;
      const dr = rows[rb]! + (rows[rb + 3]! - rows[rb]!) * t - data[i]!;
      const dg = rows[rb + 1]! + (rows[rb + 4]! - rows[rb + 1]!) * t - data[i + 1]!;
      const db = rows[rb + 2]! + (rows[rb + 5]! - rows[rb + 2]!) * t - data[i + 2]!;
      const mean = (dr + dg + db) / 3;
      if (mean > SHADOW_DARKEST || Math.max(dr, dg, db) - Math.min(dr, dg, db) > SHADOW_TINT) continue;
      dark[y * zone.width + x] = mean > 0 ? mean : 0;
      weight[y * zone.width + x] = 1;
    }
  }
  const radius = Math.max(2, Math.round(Math.min(fullWidth, refined.rowBackground.length / 6) * SHADOW_SMOOTHING));
  boxBlur(dark, zone.width, zone.height, radius);
  boxBlur(weight, zone.width, zone.height, radius);
  const depth = dark;
  let any = false;
  const fadeX = Math.max(1, zone.width * 0.08);
  const fadeY = Math.max(1, reach * 0.4);
  const zoneBottom = zone.top + zone.height;
  for (let y = 0; y < zone.height; y++) {
    const toBottom = Math.min(1, (zoneBottom - (zone.top + y)) / fadeY);
    for (let x = 0; x < zone.width; x++) {
      const p = y * zone.width + x;
      const w = weight[p]!;
      const mean = w > 0.2 ? dark[p]! / w : 0;
      const fade = Math.min(1, x / fadeX, (zone.width - 1 - x) / fadeX) * toBottom;
      const d = Math.min(SOFT_SHADOW_MAX_DEPTH, Math.max(0, (mean - SHADOW_NOISE) * SHADOW_STRENGTH)) * fade;
      depth[p] = d;
      if (d >= 1) any = true;
    }
  }
  return any ? { box: zone, depth } : null;
}

/** In place: each value the sum of the values within `radius` of it, along rows and then columns (a box filter). */
function boxBlur(values: Float32Array, width: number, height: number, radius: number): void {
  const line = new Float32Array(Math.max(width, height));
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) line[x] = values[row + x]!;
    let sum = 0;
    for (let x = 0; x < Math.min(radius, width); x++) sum += line[x]!;
    for (let x = 0; x < width; x++) {
      if (x + radius < width) sum += line[x + radius]!;
      if (x - radius - 1 >= 0) sum -= line[x - radius - 1]!;
      values[row + x] = sum;
    }
  }
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) line[y] = values[y * width + x]!;
    let sum = 0;
    for (let y = 0; y < Math.min(radius, height); y++) sum += line[y]!;
    for (let y = 0; y < height; y++) {
      if (y + radius < height) sum += line[y + radius]!;
      if (y - radius - 1 >= 0) sum -= line[y - radius - 1]!;
      values[y * width + x] = sum;
    }
  }
}

/** Darkens the (already replaced) background under the product by the kept shadow, in place; product pixels stay. */
function applySoftShadow(window: PixelWindow, refined: RefinedSegmentation, shadow: SoftShadow): void {
  const { data } = window;
  const { crop, state } = refined;
  const { box, depth } = shadow;
  const stride = window.width * 3;
  for (let y = 0; y < box.height; y++) {
    const sy = box.top + y;
    const cy = sy - crop.top;
    const inCropRow = cy >= 0 && cy < crop.height;
    for (let x = 0; x < box.width; x++) {
      const d = depth[y * box.width + x]!;
      if (d < 0.5) continue;
      const sx = box.left + x;
      const cx = sx - crop.left;
      if (inCropRow && cx >= 0 && cx < crop.width && state[cy * crop.width + cx] === PRODUCT) continue;
      const i = (sy - window.top) * stride + (sx - window.left) * 3;
      const keep = 1 - d / 255;
      data[i] = clamp(data[i]! * keep);
      data[i + 1] = clamp(data[i + 1]! * keep);
      data[i + 2] = clamp(data[i + 2]! * keep);
    }
  }
}

/** Union of two boxes. */
function unionBox(a: Box, b: Box): Box {
  const left = Math.min(a.left, b.left);
  const top = Math.min(a.top, b.top);
  return {
    left,
    top,
    width: Math.max(a.left + a.width, b.left + b.width) - left,
    height: Math.max(a.top + a.height, b.top + b.height) - top,
  };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function encodeOutput(image: Sharp, format: OutputFormat, quality: number): Sharp {
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
async function encodeTagged(image: Sharp, format: OutputFormat, quality: number): Promise<Buffer> {
  if (format === "webp") return encodeOutput(image, format, quality).toBuffer();
  const plain = format === "jpeg" ? image.jpeg({ quality, chromaSubsampling: "4:2:0" }) : image.png({ compressionLevel: 6 });
  const [bytes, icc] = await Promise.all([plain.toBuffer(), srgbIccProfile()]);
  return format === "jpeg" ? attachIccToJpeg(bytes, icc) : attachIccToPng(bytes, icc);
}

/** Writes each pixel of `pixels[from..to)` `factor` times from `out[o]` on. */
function repeatPixels(pixels: Uint8Array, from: number, to: number, factor: number, out: Buffer, o: number): void {
  for (let i = from; i < to; i += 3) {
    const r = pixels[i]!;
    const g = pixels[i + 1]!;
    const b = pixels[i + 2]!;
    for (let k = 0; k < factor; k++, o += 3) {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
}

/**
 * Writes each of `count` pixels from `pixels[from]` on twice, from 32-bit word `w` of `out` on:
 * two pixels (6 bytes) become three little-endian words, a quarter of the stores of byte writes.
 */
function repeatPixelsTwice(pixels: Uint8Array, from: number, count: number, out: Uint32Array, w: number): void {
  let i = from;
  for (let n = count >> 1; n > 0; n--, i += 6, w += 3) {
    const r0 = pixels[i]!;
    const g0 = pixels[i + 1]!;
    const b0 = pixels[i + 2]!;
    const r1 = pixels[i + 3]!;
    const g1 = pixels[i + 4]!;
    const b1 = pixels[i + 5]!;
    out[w] = r0 | (g0 << 8) | (b0 << 16) | (r0 << 24);
    out[w + 1] = g0 | (b0 << 8) | (r1 << 16) | (g1 << 24);
    out[w + 2] = b1 | (r1 << 8) | (g1 << 16) | (b1 << 24);
  }
  if (count & 1) {
    const bytes = new Uint8Array(out.buffer, out.byteOffset + w * 4, 6);
    bytes[0] = bytes[3] = pixels[i]!;
    bytes[1] = bytes[4] = pixels[i + 1]!;
    bytes[2] = bytes[5] = pixels[i + 2]!;
  }
}

const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Backing memory of replicated images, kept for the next image: at tens of MB each, a fresh one
 * per image costs page faults and about one full garbage collection per image.
 */
const spareReplicaMemory: ArrayBuffer[] = [];
const MAX_SPARE_REPLICAS = 2;

function takeReplicaBuffer(size: number): Buffer {
  const index = spareReplicaMemory.findLastIndex((memory) => memory.byteLength >= size);
  const memory = index >= 0 ? spareReplicaMemory.splice(index, 1)[0]! : new ArrayBuffer(size);
  return Buffer.from(memory, 0, size);
}

/** Keeps the largest spare memory blocks (every image fits the next image of a similar size). */
function giveBackReplicaBuffer(buffer: Buffer): void {
  if (!(buffer.buffer instanceof ArrayBuffer)) return;
  spareReplicaMemory.push(buffer.buffer);
  spareReplicaMemory.sort((a, b) => b.byteLength - a.byteLength);
  spareReplicaMemory.length = Math.min(spareReplicaMemory.length, MAX_SPARE_REPLICAS);
}

/** `area` of the image, each pixel repeated as a `factor` x `factor` block (give the buffer back when done). */
function replicate(image: RgbImage, area: Box, factor: number): Buffer {
  const rowBytes = area.width * 3 * factor;
  const out = takeReplicaBuffer(rowBytes * area.height * factor);
  // Rows of a doubled image start on 32-bit boundaries (12 bytes per source pixel pair).
  const words =
    factor === 2 && LITTLE_ENDIAN && out.byteOffset % 4 === 0
      ? new Uint32Array(out.buffer, out.byteOffset, Math.floor(out.length / 4))
      : null;
  for (let y = 0; y < area.height; y++) {
    const rowStart = y * factor * rowBytes;
    const from = ((area.top + y) * image.width + area.left) * 3;
    if (words) repeatPixelsTwice(image.data, from, area.width, words, rowStart / 4);
    else repeatPixels(image.data, from, from + area.width * 3, factor, out, rowStart);
    for (let k = 1; k < factor; k++) out.copyWithin(rowStart + k * rowBytes, rowStart, rowStart + rowBytes);
  }
  return out;
}

/**
 * Resizes `area` of the image. A reduction uses lanczos3. libvips enlarges through a generic affine
 * transform at about three times the cost of its reducing filters, so an enlargement first
 * replicates pixels by a whole factor (here, cheaper than a libvips pass and its copy back) and then
 * reduces to the exact size with a triangle filter: against renders made at the target size, it
 * scores within about 1 dB PSNR (42-47 dB) of lanczos3 at two thirds of its cost.
 */
function resizeArea(image: RgbImage, area: Box, width: number, height: number): { resized: Sharp; replica: Buffer | null } {
  const enlargement = Math.max(width / area.width, height / area.height);
  if (enlargement <= 1) {
    const whole = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
    return { resized: whole.extract(area).resize(width, height, { fit: "fill", kernel: "lanczos3" }), replica: null };
  }
  const factor = Math.ceil(enlargement);
  const raw = { width: area.width * factor, height: area.height * factor, channels: 3 as const };
  const replica = replicate(image, area, factor);
  return { resized: sharp(replica, { raw }).resize(width, height, { fit: "fill", kernel: "linear" }), replica };
}

/**
 * Turns a model output into a compliant image: finds the product, trims to it, forces the
 * background to the exact colour, scales the product to the pipeline's coverage, centres it on
 * the pipeline's canvas and encodes it. Deterministic: same input, same bytes.
 */
export async function postProcessEdit(modelOutput: Buffer, pipeline: ResolvedPipeline, format: OutputFormat): Promise<PostProcessResult> {
  const background = pipeline.background;
  let located: LocatedProduct | null;
  try {
    located = await locateProduct(modelOutput, pipeline, background);
  } catch (cause) {
    if (cause instanceof ImageResultError) throw cause;
    const detail = cause instanceof ImageInputError ? cause.defect : "decode";
    throw unreadableResult(Object.assign(new Error(detail), { cause }));
  }
  const preview = located?.preview;
  const refined =
    located && preview?.box && preview.area >= preview.width * preview.height * MIN_PRODUCT_SHARE
      ? refineSegmentation(located.window, located.working, preview, PRODUCT_THRESHOLD, { chromaWeight: CHROMA_WEIGHT })
      : null;
  const box = refined?.box;
  if (!located || !refined || !box) {
    throw new ImageResultError(
      "no-product",
      "No product could be found in the edited image. Try a photo where the product stands out clearly from its background.",
    );
  }
  const { full, working, window } = located;

  const frame = canvasFor(pipeline, box);
  const scale = productScale(box, frame, pipeline.targetCoverage);
  // The box lies in the refinement crop, which the window covers.
  let region = intersectBox(expandBox(box, EDGE_RADIUS + 2, working.width, working.height), window);
  let shadow: SoftShadow | null = null;
  if (pipeline.definition.shadow === "keep-soft") {
    // The part of the working image that lands inside the frame clear of the compliance check's border band.
    const clear = borderBandWidth(frame) + SHADOW_BORDER_GAP;
    const cx = box.left + box.width / 2;
    const cy = box.top + box.height / 2;
    const limitLeft = Math.ceil(cx - (frame.width / 2 - clear) / scale);
    const limitTop = Math.ceil(cy - (frame.height / 2 - clear) / scale);
    const limit = {
      left: limitLeft,
      top: limitTop,
      width: Math.floor(cx + (frame.width / 2 - clear) / scale) - limitLeft,
      height: Math.floor(cy + (frame.height / 2 - clear) / scale) - limitTop,
    };
    shadow = measureSoftShadow(window, working.width, refined, box, limit, frame.height, scale);
    if (shadow) region = intersectBox(unionBox(region, shadow.box), window);
  }
  compositeInPlace(window, working.width, refined, region, background);
  if (shadow) applySoftShadow(window, refined, shadow);
  releaseRefinement(refined);

  const resizedWidth = Math.min(frame.width, Math.max(1, Math.round(region.width * scale)));
  const resizedHeight = Math.min(frame.height, Math.max(1, Math.round(region.height * scale)));
  const centreX = (box.left + box.width / 2 - region.left) * scale;
  const centreY = (box.top + box.height / 2 - region.top) * scale;
  const left = Math.min(frame.width - resizedWidth, Math.max(0, Math.round(frame.width / 2 - centreX)));
  const top = Math.min(frame.height - resizedHeight, Math.max(0, Math.round(frame.height / 2 - centreY)));
  const [r, g, b] = background;

  const regionInWindow = { ...region, left: region.left - window.left, top: region.top - window.top };
  const { resized, replica } = resizeArea(window, regionInWindow, resizedWidth, resizedHeight);
  const pipelineImage = resized.extend({
    left,
    top,
    right: frame.width - resizedWidth - left,
    bottom: frame.height - resizedHeight - top,
    background: { r, g, b },
  });
  let bytes: Buffer;
  try {
    bytes = await encodeTagged(pipelineImage, format, pipeline.definition.output.quality);
  } finally {
    if (replica) giveBackReplicaBuffer(replica);
  }
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
    placement: {
      scale: (resizedWidth / region.width) * (working.width / full.width),
      offsetX: left - region.left * (resizedWidth / region.width),
      offsetY: top - region.top * (resizedHeight / region.height),
    },
  };
}
