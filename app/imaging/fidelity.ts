import { decodeRgb, hasIgnorableProfile, type RgbImage } from "./decode";
import type { Rgb } from "./pipelines";
import { scanlineFill } from "./scanline-fill";
import { expandBox, segmentProduct, type Box, type Segmentation } from "./segment";

export interface FidelityReport {
  /** 1 = the product looks the same; 0 = nothing in common. */
  score: number;
  threshold: number;
  verdict: "unchanged" | "altered";
  message: string | null;
}

/** Below this score the product may have been altered and the image is held for review. */
export const FIDELITY_THRESHOLD = 0.6;
export const ALTERED_MESSAGE =
  "The product may have been altered (a label, logo or colour looks different from the original). Review it before publishing.";

/** The original is analysed at this size: enough for labels and colour areas, fast to compare. */
const ANALYSIS_SIDE = 512;
/** The edited image, whose product fills most of the frame, at this size. */
const RESULT_ANALYSIS_SIDE = 384;
/** Product masks are cleaned and boxed at this size (px, longest side), the same for both images. */
const NORMALIZED_SIDE = 128;
/** The product is compared on a grid of this many px on its longest side. */
const GRID = 96;
const CELLS = 8;
/** Distance from the backdrop above which a pixel is product, for photos (grain, gradients). */
const SOURCE_THRESHOLD = 40;
/** The same for edited images, whose background is one flat colour. */
const RESULT_THRESHOLD = 32;
/** A pixel counts as changed when a channel differs by more than this, after exposure matching. */
const CHANGED_PIXEL = 56;
/** Global exposure shifts up to this are the model's lighting, not an alteration. */
const MAX_EXPOSURE_SHIFT = 24;

interface ProductPatch {
  rgb: Float32Array;
  mask: Uint8Array;
  width: number;
  height: number;
}

/** The visible product of an image: a mask over `area` of it (area-sized, row-major). */
interface ProductMask {
  mask: Uint8Array;
  area: Box;
}

/** Area-averaged resample of the product's box to a `width` x `height` patch, with its mask. */
function samplePatch(image: RgbImage, product: ProductMask, box: Box, width: number, height: number): ProductPatch {
  const rgb = new Float32Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  const { area } = product;
  const sx = box.width / width;
  const sy = box.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = box.top + Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, box.top + Math.floor((y + 1) * sy));
    for (let x = 0; x < width; x++) {
      const x0 = box.left + Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, box.left + Math.floor((x + 1) * sx));
      let r = 0;
      let g = 0;
      let b = 0;
      let inside = 0;
      let n = 0;
      for (let yy = y0; yy < y1; yy++) {
        const my = yy - area.top;
        const maskRow = my >= 0 && my < area.height ? my * area.width - area.left : -1;
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * image.width + xx) * 3;
          r += image.data[i]!;
          g += image.data[i + 1]!;
          b += image.data[i + 2]!;
          if (maskRow >= -area.left && xx >= area.left && xx < area.left + area.width) inside += product.mask[maskRow + xx]!;
          n++;
        }
      }
      const o = y * width + x;
      rgb[o * 3] = r / n;
      rgb[o * 3 + 1] = g / n;
      rgb[o * 3 + 2] = b / n;
      mask[o] = inside * 2 >= n ? 1 : 0;
    }
  }
  return { rgb, mask, width, height };
}

/** Mask shrunk by one px, so edge pixels (where a one-px misalignment is expected) are not compared. */
function erode(mask: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      out[p] = mask[p]! & mask[p - 1]! & mask[p + 1]! & mask[p - width]! & mask[p + width]!;
    }
  }
  return out;
}

/**
 * 3x3 box blur (the mean of the pixel and its neighbours inside the patch): tolerates sub-pixel
 * misalignment and resampling differences. Separable: column sums of three rows, then three columns.
 */
function blur(rgb: Float32Array, width: number, height: number): Float32Array {
  const columnSums = new Float32Array(rgb.length);
  const rowStride = width * 3;
  for (let y = 0; y < height; y++) {
    const above = y > 0 ? -rowStride : 0;
    const below = y < height - 1 ? rowStride : 0;
    const row = y * rowStride;
    for (let i = row; i < row + rowStride; i++) {
      columnSums[i] = rgb[i]! + (above ? rgb[i + above]! : 0) + (below ? rgb[i + below]! : 0);
    }
  }
  const out = new Float32Array(rgb.length);
  for (let y = 0; y < height; y++) {
    const rows = 1 + (y > 0 ? 1 : 0) + (y < height - 1 ? 1 : 0);
    blurRow(columnSums, out, y * rowStride, width, rows);
  }
  return out;
}

/** One row of the blur from its column sums: the sums of up to three columns, divided by the pixel count. */
function blurRow(columnSums: Float32Array, out: Float32Array, row: number, width: number, rows: number): void {
  for (let x = 0; x < width; x++) {
    const hasLeft = x > 0;
    const hasRight = x < width - 1;
    const n = rows * (1 + (hasLeft ? 1 : 0) + (hasRight ? 1 : 0));
    const i = row + x * 3;
    for (let c = 0; c < 3; c++) {
      const sum = columnSums[i + c]! + (hasLeft ? columnSums[i + c - 3]! : 0) + (hasRight ? columnSums[i + c + 3]! : 0);
      out[i + c] = sum / n;
    }
  }
}

interface Comparison {
  score: number;
  shapeOverlap: number;
  worstCellChange: number;
}

/** Compares two aligned patches: shape overlap and, per grid cell, the share of changed pixels. */
export function comparePatches(a: ProductPatch, b: ProductPatch): Comparison {
  const { width, height } = a;
  let union = 0;
  let intersection = 0;
  for (let i = 0; i < a.mask.length; i++) {
    union += a.mask[i]! | b.mask[i]!;
    intersection += a.mask[i]! & b.mask[i]!;
  }
  const shapeOverlap = union ? intersection / union : 0;

  const both = new Uint8Array(a.mask.length);
  for (let i = 0; i < both.length; i++) both[i] = a.mask[i]! & b.mask[i]!;
  const core = erode(both, width, height);
  const ab = blur(a.rgb, width, height);
  const bb = blur(b.rgb, width, height);

  // The model may relight the product a little: remove the median per-channel shift (bounded).
  const shift = [0, 0, 0];
  let coreCount = 0;
  for (let i = 0; i < core.length; i++) coreCount += core[i]!;
  // A typed array sorts numerically in native code, far faster than a comparator.
  const diffs = new Float64Array(coreCount);
  for (let c = 0; c < 3; c++) {
    for (let i = 0, n = 0; i < core.length; i++) if (core[i]) diffs[n++] = bb[i * 3 + c]! - ab[i * 3 + c]!;
    diffs.sort();
    const median = diffs.length ? diffs[Math.floor(diffs.length / 2)]! : 0;
    shift[c] = Math.max(-MAX_EXPOSURE_SHIFT, Math.min(MAX_EXPOSURE_SHIFT, median));
  }

  const cellW = width / CELLS;
  const cellH = height / CELLS;
  const cellTotal = new Uint32Array(CELLS * CELLS);
  const cellChanged = new Uint32Array(CELLS * CELLS);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!core[i]) continue;
      let d = 0;
      for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(bb[i * 3 + c]! - shift[c]! - ab[i * 3 + c]!));
      const cell = Math.min(CELLS - 1, Math.floor(y / cellH)) * CELLS + Math.min(CELLS - 1, Math.floor(x / cellW));
      cellTotal[cell]!++;
      if (d > CHANGED_PIXEL) cellChanged[cell]!++;
    }
  }
  // Cells with little product in them are too noisy to judge.
  const minCellPixels = (cellW * cellH) / 4;
  let worstCellChange = 0;
  for (let cell = 0; cell < cellTotal.length; cell++) {
    if (cellTotal[cell]! < minCellPixels) continue;
    worstCellChange = Math.max(worstCellChange, cellChanged[cell]! / cellTotal[cell]!);
  }
  // Shape overlap of an unchanged product is ~0.9+ after bbox alignment; map 0.6..1 onto 0..1.
  const shapeScore = Math.max(0, Math.min(1, (shapeOverlap - 0.6) / 0.4));
  return { score: Math.min(1 - worstCellChange, shapeScore), shapeOverlap, worstCellChange };
}

function patchSize(box: Box): { width: number; height: number } {
  const scale = GRID / Math.max(box.width, box.height);
  return { width: Math.max(8, Math.round(box.width * scale)), height: Math.max(8, Math.round(box.height * scale)) };
}

function report(score: number, threshold: number): FidelityReport {
  return score >= threshold
    ? { score, threshold, verdict: "unchanged", message: null }
    : { score, threshold, verdict: "altered", message: ALTERED_MESSAGE };
}

/**
 * Bounding box of a mask, ignoring rows and columns with only a sliver of product (10% of the
 * other side): thin protrusions such as overhanging text or a strap would otherwise shift the
 * alignment, since they survive some edits and encodings and not others.
 */
export function robustBox(mask: Uint8Array, width: number, height: number, minShare: number): Box | null {
  const columns = new Uint32Array(width);
  const rows = new Uint32Array(height);
  for (let y = 0; y < height; y++) rows[y] = countRow(mask, y * width, width, columns);
  const loose = (counts: Uint32Array) => [counts.findIndex((c) => c > 0), counts.findLastIndex((c) => c > 0)] as const;
  const [x0, x1] = loose(columns);
  const [y0, y1] = loose(rows);
  if (x0 < 0 || y0 < 0) return null;
  const minInColumn = Math.max(1, Math.round((y1 - y0 + 1) * minShare));
  const minInRow = Math.max(1, Math.round((x1 - x0 + 1) * minShare));
  const left = columns.findIndex((c) => c >= minInColumn);
  const right = columns.findLastIndex((c) => c >= minInColumn);
  const top = rows.findIndex((c) => c >= minInRow);
  const bottom = rows.findLastIndex((c) => c >= minInRow);
  if (left < 0 || top < 0 || right < left || bottom < top) return null;
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** Mask pixels (value 1) of one row; adds each to its column's count. */
function countRow(mask: Uint8Array, row: number, width: number, columns: Uint32Array): number {
  let count = 0;
  for (let x = 0; x < width; x++) {
    if (mask[row + x] === 1) {
      columns[x]!++;
      count++;
    }
  }
  return count;
}

/** Morphological opening with a 3x3 square: removes lines and specks up to 2 px thick. */
function open3x3(mask: Uint8Array, width: number, height: number): Uint8Array {
  const eroded = new Uint8Array(mask.length);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      let all = 1;
      for (let dy = -1; dy <= 1 && all; dy++) for (let dx = -1; dx <= 1; dx++) all &= mask[(y + dy) * width + x + dx]!;
      eroded[y * width + x] = all;
    }
  }
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let any = 0;
      for (let dy = -1; dy <= 1 && !any; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && eroded[yy * width + xx]) any = 1;
        }
      }
      out[y * width + x] = any;
    }
  }
  return out;
}

/** Marks as product every pixel the outside cannot reach (enclosed areas such as a white label). */
function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  const outside = new Uint8Array(mask.length);
  const seeds: number[] = [];
  for (let x = 0; x < width; x++) seeds.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) seeds.push(y * width, y * width + width - 1);
  scanlineFill(outside, 0, 1, width, seeds, mask, 1);
  for (let i = 0; i < outside.length; i++) outside[i] = outside[i]! ^ 1;
  return outside;
}

/**
 * The product as it can appear on `background`: parts that match the new background (a white
 * sole on white) vanish in any honest edit, so they are left out; enclosed areas (a white label)
 * stay.
 */
function visibleProduct(image: RgbImage, segmentation: Segmentation, background: Rgb): ProductMask {
  if (!segmentation.box) return { mask: new Uint8Array(0), area: { left: 0, top: 0, width: 0, height: 0 } };
  // Everything outside the product's box (and a 1 px ring, for the hole filling) is not product.
  const area = expandBox(segmentation.box, 1, image.width, image.height);
  const distinct = new Uint8Array(area.width * area.height);
  for (let y = 0; y < area.height; y++) markDistinctRow(image, segmentation.product, background, area, y, distinct);
  return { mask: fillHoles(distinct, area.width, area.height), area };
}

/** Row `y` of `area`: product pixels that differ from `background`. */
function markDistinctRow(image: RgbImage, product: Uint8Array, background: Rgb, area: Box, y: number, distinct: Uint8Array): void {
  const [br, bg, bb] = background;
  const { data } = image;
  const row = (area.top + y) * image.width + area.left;
  for (let x = 0, p = row, i = row * 3, o = y * area.width; x < area.width; x++, p++, i += 3, o++) {
    if (product[p] !== 1) continue;
    const d = Math.max(Math.abs(data[i]! - br), Math.abs(data[i + 1]! - bg), Math.abs(data[i + 2]! - bb));
    if (d > RESULT_THRESHOLD) distinct[o] = 1;
  }
}

/** The visible product mask at a common scale (longest side of its loose box = NORMALIZED_SIDE). */
function normalizedBox(product: ProductMask): Box | null {
  const { mask, area } = product;
  const { width, height } = area;
  const loose = robustBox(mask, width, height, 0);
  if (!loose) return null;
  const scale = Math.min(1, NORMALIZED_SIDE / Math.max(loose.width, loose.height));
  const margin = 2;
  const nw = Math.max(1, Math.round(loose.width * scale)) + margin * 2;
  const nh = Math.max(1, Math.round(loose.height * scale)) + margin * 2;
  const small = new Uint8Array(nw * nh);
  // Area sampling: a small pixel is product when at least half of what it covers is.
  for (let y = 0; y < nh - margin * 2; y++) {
    const y0 = loose.top + Math.floor(y / scale);
    const y1 = Math.max(y0 + 1, Math.min(height, loose.top + Math.floor((y + 1) / scale)));
    for (let x = 0; x < nw - margin * 2; x++) {
      const x0 = loose.left + Math.floor(x / scale);
      const x1 = Math.max(x0 + 1, Math.min(width, loose.left + Math.floor((x + 1) / scale)));
      let inside = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) inside += mask[yy * width + xx]!;
      small[(y + margin) * nw + x + margin] = inside * 2 >= (y1 - y0) * (x1 - x0) ? 1 : 0;
    }
  }
  // Thin slivers (overhanging text, a strap, an anti-aliased edge line) are judged at the same
  // scale in both images, so they either count in both or in neither.
  const cleaned = fillHoles(open3x3(small, nw, nh), nw, nh);
  const box = robustBox(cleaned, nw, nh, 0.1);
  if (!box) return null;
  return {
    left: area.left + loose.left + (box.left - margin) / scale,
    top: area.top + loose.top + (box.top - margin) / scale,
    width: box.width / scale,
    height: box.height / scale,
  };
}

/** Pixel box (integers, inside the image) around a fractional one. */
function pixelBox(box: Box, width: number, height: number): Box {
  const left = Math.max(0, Math.min(width - 1, Math.round(box.left)));
  const top = Math.max(0, Math.min(height - 1, Math.round(box.top)));
  return {
    left,
    top,
    width: Math.max(1, Math.min(width - left, Math.round(box.width))),
    height: Math.max(1, Math.min(height - top, Math.round(box.height))),
  };
}

/**
 * Compares the product in the original with the product in the edited image, aligned by their
 * bounding boxes. A label, logo or colour the model changed shows as a block of changed pixels.
 */
export async function checkFidelity(original: Buffer, edited: Buffer): Promise<FidelityReport> {
  const { score } = await measureFidelity(original, edited);
  return report(score, FIDELITY_THRESHOLD);
}

export interface FidelityMeasurement extends Comparison {
  sourceBox: Box | null;
  resultBox: Box | null;
}

/** The numbers behind checkFidelity (for diagnostics and calibration). */
export async function measureFidelity(original: Buffer, edited: Buffer): Promise<FidelityMeasurement> {
  const [sourceImage, resultImage] = await Promise.all([
    hasIgnorableProfile(original).then((ignoreIcc) => decodeRgb(original, { maxWidth: ANALYSIS_SIDE, maxHeight: ANALYSIS_SIDE, ignoreIcc })),
    // The edited image is a clean render of a product that fills most of its frame: smaller and
    // with a linear reduction, it still gives the product more pixels than the comparison grid.
    hasIgnorableProfile(edited).then((ignoreIcc) =>
      decodeRgb(edited, { maxWidth: RESULT_ANALYSIS_SIDE, maxHeight: RESULT_ANALYSIS_SIDE, kernel: "linear", ignoreIcc }),
    ),
  ]);
  return compareProducts(sourceImage, resultImage);
}

/** The fidelity measurement of decoded analysis-size images (see measureFidelity). */
export function compareProducts(sourceImage: RgbImage, resultImage: RgbImage): FidelityMeasurement {
  const sourceSegmentation = segmentProduct(sourceImage, { threshold: SOURCE_THRESHOLD });
  const resultSegmentation = segmentProduct(resultImage, { threshold: RESULT_THRESHOLD });
  const background = resultSegmentation.borderColor;
  const resultMask = visibleProduct(resultImage, resultSegmentation, background);
  const resultBox = normalizedBox(resultMask);
  if (!resultBox) return { score: 0, shapeOverlap: 0, worstCellChange: 1, sourceBox: null, resultBox: null };

  const visibleSource = visibleProduct(sourceImage, sourceSegmentation, background);
  const sourceBox = normalizedBox(visibleSource);
  // Without a clear product in the original (a busy photo), compare the whole frame.
  const whole = { left: 0, top: 0, width: sourceImage.width, height: sourceImage.height };
  const alignedSourceBox = sourceBox ?? whole;
  const sourceMask = sourceBox ? visibleSource : { mask: new Uint8Array(whole.width * whole.height).fill(1), area: whole };
  const size = patchSize(alignedSourceBox);
  const a = samplePatch(sourceImage, sourceMask, pixelBox(alignedSourceBox, sourceImage.width, sourceImage.height), size.width, size.height);
  const b = samplePatch(resultImage, resultMask, pixelBox(resultBox, resultImage.width, resultImage.height), size.width, size.height);
  const comparison = comparePatches(a, b);
  return { ...comparison, score: Math.round(comparison.score * 1000) / 1000, sourceBox, resultBox };
}
