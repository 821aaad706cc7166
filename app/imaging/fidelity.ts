import { decodeRgb, decodeRgbRegion, readHeader, type RgbImage } from "./decode";
import type { Rgb } from "./pipelines";
import { expandBox, RowRuns, segmentProduct, unreachedFromBorder, unreachedRuns, type Box, type Segmentation } from "./segment";

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
/**
 * A product smaller than DETAIL_MIN_SIDE (px, longest side) in the original's analysis image is read
 * again around its box at a scale that gives it DETAIL_SIDE px (at most the original's own), so that
 * a small product is not compared blurred against the sharp one the model drew.
 */
const DETAIL_MIN_SIDE = GRID * 1.5;
const DETAIL_SIDE = GRID * 2;
/** Backdrop kept around a small product's box when it is read again (analysis px). */
const DETAIL_MARGIN = 8;
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

/** A visible product, with the bounding box of its mask (in `area`; null when the mask is empty). */
interface VisibleProduct extends ProductMask {
  bounds: Box | null;
}

/** Area-averaged resample of the product's box to a `width` x `height` patch, with its mask. */
function samplePatch(image: RgbImage, product: ProductMask, box: Box, width: number, height: number): ProductPatch {
  const rgb = new Float32Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  const { data } = image;
  const productMask = product.mask;
  const { area } = product;
  const sx = box.width / width;
  const sy = box.height / height;
  // The image columns x0[x]..x1[x] that patch column x covers, and the part of them inside the mask's area.
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const maskX0 = new Int32Array(width);
  const maskX1 = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    x0[x] = box.left + Math.floor(x * sx);
    x1[x] = Math.max(x0[x]! + 1, box.left + Math.floor((x + 1) * sx));
    maskX0[x] = Math.max(x0[x]!, area.left);
    maskX1[x] = Math.min(x1[x]!, area.left + area.width);
  }
  const rowStride = image.width * 3;
  const maskRows = new Int32Array(Math.ceil(sy) + 1);
  for (let y = 0; y < height; y++) {
    const y0 = box.top + Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, box.top + Math.floor((y + 1) * sy));
    const rows = y1 - y0;
    for (let k = 0; k < rows; k++) maskRows[k] = maskRowOffset(area, y0 + k);
    for (let x = 0; x < width; x++) {
      const from = x0[x]! * 3;
      const to = x1[x]! * 3;
      const maskFrom = maskX0[x]!;
      const maskTo = maskX1[x]!;
      let r = 0;
      let g = 0;
      let b = 0;
      let inside = 0;
      for (let k = 0, row = y0 * rowStride; k < rows; k++, row += rowStride) {
        for (let i = row + from; i < row + to; i += 3) {
          r += data[i]!;
          g += data[i + 1]!;
          b += data[i + 2]!;
        }
        const maskRow = maskRows[k]!;
        if (maskRow === NO_MASK_ROW) continue;
        for (let q = maskRow + maskFrom; q < maskRow + maskTo; q++) inside += productMask[q]!;
      }
      const n = rows * (x1[x]! - x0[x]!);
      const o = y * width + x;
      rgb[o * 3] = r / n;
      rgb[o * 3 + 1] = g / n;
      rgb[o * 3 + 2] = b / n;
      mask[o] = inside * 2 >= n ? 1 : 0;
    }
  }
  return { rgb, mask, width, height };
}

const NO_MASK_ROW = -0x80000000;

/**
 * Offset of image row `yy` in the product mask, less `area.left` (so that adding an image column
 * gives the mask index), or NO_MASK_ROW for a row outside the mask's area.
 */
function maskRowOffset(area: Box, yy: number): number {
  const my = yy - area.top;
  return my >= 0 && my < area.height ? my * area.width - area.left : NO_MASK_ROW;
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
  for (let y = 0; y < height; y++) columnSumRow(rgb, columnSums, y * rowStride, rowStride, y > 0, y < height - 1);
  const out = new Float32Array(rgb.length);
  for (let y = 0; y < height; y++) {
    const rows = 1 + (y > 0 ? 1 : 0) + (y < height - 1 ? 1 : 0);
    blurRow(columnSums, out, y * rowStride, width, rows);
  }
  return out;
}

/**
 * One row of column sums: each value plus the ones above and below it, where those rows exist. The
 * same additions in the same order as with a missing row counted as 0 (adding 0 changes nothing).
 */
function columnSumRow(rgb: Float32Array, sums: Float32Array, row: number, rowStride: number, hasAbove: boolean, hasBelow: boolean): void {
  const end = row + rowStride;
  if (hasAbove && hasBelow) for (let i = row; i < end; i++) sums[i] = rgb[i]! + rgb[i - rowStride]! + rgb[i + rowStride]!;
  else if (hasAbove) for (let i = row; i < end; i++) sums[i] = rgb[i]! + rgb[i - rowStride]!;
  else if (hasBelow) for (let i = row; i < end; i++) sums[i] = rgb[i]! + rgb[i + rowStride]!;
  else for (let i = row; i < end; i++) sums[i] = rgb[i]!;
}

/**
 * One row of the blur from its column sums: the sums of up to three columns (centre, left, right,
 * added in that order), divided by the pixel count.
 */
function blurRow(columnSums: Float32Array, out: Float32Array, row: number, width: number, rows: number): void {
  const last = row + (width - 1) * 3;
  if (width === 1) {
    for (let i = row; i < row + 3; i++) out[i] = columnSums[i]! / rows;
    return;
  }
  const edge = rows * 2;
  const inner = rows * 3;
  for (let i = row; i < row + 3; i++) out[i] = (columnSums[i]! + columnSums[i + 3]!) / edge;
  for (let i = row + 3; i < last; i++) out[i] = (columnSums[i]! + columnSums[i - 3]! + columnSums[i + 3]!) / inner;
  for (let i = last; i < last + 3; i++) out[i] = (columnSums[i]! + columnSums[i - 3]!) / edge;
}

interface Comparison {
  score: number;
  shapeOverlap: number;
  worstCellChange: number;
}

/** Compares two aligned patches: shape overlap and, per grid cell, the share of changed pixels. */
export function comparePatches(a: ProductPatch, b: ProductPatch): Comparison {
  const { width, height } = a;
  const maskA = a.mask;
  const maskB = b.mask;
  const both = new Uint8Array(maskA.length);
  let union = 0;
  let intersection = 0;
  for (let i = 0; i < both.length; i++) {
    const inBoth = maskA[i]! & maskB[i]!;
    union += maskA[i]! | maskB[i]!;
    intersection += inBoth;
    both[i] = inBoth;
  }
  const shapeOverlap = union ? intersection / union : 0;

  const core = erode(both, width, height);
  const ab = blur(a.rgb, width, height);
  const bb = blur(b.rgb, width, height);
  const shift = exposureShift(core, ab, bb);

  const cellW = width / CELLS;
  const cellH = height / CELLS;
  const cellOfX = new Int32Array(width);
  for (let x = 0; x < width; x++) cellOfX[x] = Math.min(CELLS - 1, Math.floor(x / cellW));
  const cellTotal = new Uint32Array(CELLS * CELLS);
  const cellChanged = new Uint32Array(CELLS * CELLS);
  const [sr, sg, sb] = shift;
  for (let y = 0; y < height; y++) {
    const cellRow = Math.min(CELLS - 1, Math.floor(y / cellH)) * CELLS;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (!core[i]) continue;
      const o = i * 3;
      const changed =
        Math.abs(bb[o]! - sr - ab[o]!) > CHANGED_PIXEL ||
        Math.abs(bb[o + 1]! - sg - ab[o + 1]!) > CHANGED_PIXEL ||
        Math.abs(bb[o + 2]! - sb - ab[o + 2]!) > CHANGED_PIXEL;
      const cell = cellRow + cellOfX[x]!;
      cellTotal[cell]!++;
      if (changed) cellChanged[cell]!++;
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

/** The model may relight the product a little: the median per-channel shift from `ab` to `bb` over `core` (bounded). */
function exposureShift(core: Uint8Array, ab: Float32Array, bb: Float32Array): [number, number, number] {
  let coreCount = 0;
  for (let i = 0; i < core.length; i++) coreCount += core[i]!;
  const diffs = new Float64Array(coreCount);
  const shift: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    for (let i = 0, n = 0; i < core.length; i++) if (core[i]) diffs[n++] = bb[i * 3 + c]! - ab[i * 3 + c]!;
    const median = coreCount ? kthSmallest(diffs, coreCount >> 1) : 0;
    shift[c] = Math.max(-MAX_EXPOSURE_SHIFT, Math.min(MAX_EXPOSURE_SHIFT, median));
  }
  return shift;
}

/**
 * The value `values.sort()` would put at index k (Wirth's selection: linear time on average, where
 * sorting is n log n). Reorders `values`; they must not contain NaN.
 */
function kthSmallest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = medianOfThree(values[lo]!, values[k]!, values[hi]!);
    let i = lo;
    let j = hi;
    do {
      while (values[i]! < pivot) i++;
      while (pivot < values[j]!) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) lo = i;
    if (k < i) hi = j;
  }
  return values[k]!;
}

function medianOfThree(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
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

/**
 * Morphological opening with a 3x3 square: removes lines and specks up to 2 px thick. Both steps
 * are separable (a 3x1 pass, then a 1x3 pass); `mask` is 0 or 1.
 */
function open3x3(mask: Uint8Array, width: number, height: number): Uint8Array {
  // Erosion: 1 where the whole 3x3 square is; the 1 px frame is 0.
  const across = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let p = y * width + 1, end = y * width + width - 1; p < end; p++) across[p] = mask[p - 1]! & mask[p]! & mask[p + 1]!;
  }
  const eroded = new Uint8Array(mask.length);
  for (let y = 1; y < height - 1; y++) {
    for (let p = y * width + 1, end = y * width + width - 1; p < end; p++) eroded[p] = across[p - width]! & across[p]! & across[p + width]!;
  }
  // Dilation: 1 where any pixel of the square (inside the mask) is. Clamping a neighbour to the edge
  // repeats a pixel that is already counted, which changes no OR.
  const down = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    const above = y > 0 ? -width : 0;
    const below = y < height - 1 ? width : 0;
    for (let p = y * width, end = p + width; p < end; p++) down[p] = eroded[p + above]! | eroded[p]! | eroded[p + below]!;
  }
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const last = row + width - 1;
    out[row] = down[row]! | down[Math.min(row + 1, last)]!;
    for (let p = row + 1; p < last; p++) out[p] = down[p - 1]! | down[p]! | down[p + 1]!;
    if (last > row) out[last] = down[last - 1]! | down[last]!;
  }
  return out;
}

/** Marks as product every pixel the outside cannot reach (enclosed areas such as a white label). */
function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  return unreachedFromBorder(mask, width, height, 1);
}

/**
 * The product as it can appear on `background`: parts that match the new background (a white
 * sole on white) vanish in any honest edit, so they are left out; enclosed areas (a white label)
 * stay.
 */
function visibleProduct(image: RgbImage, segmentation: Segmentation, background: Rgb): VisibleProduct {
  if (!segmentation.box) return { mask: new Uint8Array(0), area: { left: 0, top: 0, width: 0, height: 0 }, bounds: null };
  // Everything outside the product's box (and a 1 px ring, for the hole filling) is not product.
  const area = expandBox(segmentation.box, 1, image.width, image.height);
  const far = farFromBackground(background);
  const plain = new RowRuns(area.height);
  for (let y = 0; y < area.height; y++) {
    addPlainRuns(image, segmentation.product, far, area, y, plain);
    plain.endRow(y);
  }
  // Holes filled: the product is what the outside cannot reach through plain pixels.
  const visible = unreachedRuns(plain, area.width);
  const mask = new Uint8Array(area.width * area.height);
  visible.paint(mask, area.width, 1);
  return { mask, area, bounds: visible.boundingBox() };
}

/** 1 where a channel value differs from `background`'s by more than RESULT_THRESHOLD; channel c's table starts at c * 256. */
function farFromBackground(background: Rgb): Uint8Array {
  const far = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) far[c * 256 + v] = Math.abs(v - background[c]!) > RESULT_THRESHOLD ? 1 : 0;
  }
  return far;
}

/**
 * Adds the runs of row `y` of `area` that are plain: not product, or with every channel close to the
 * background.
 */
function addPlainRuns(image: RgbImage, product: Uint8Array, far: Uint8Array, area: Box, y: number, plain: RowRuns): void {
  const { data } = image;
  const row = (area.top + y) * image.width + area.left;
  let start = -1;
  for (let x = 0, p = row, i = row * 3; x < area.width; x++, p++, i += 3) {
    const distinct = product[p] === 1 && (far[data[i]!]! | far[256 + data[i + 1]!]! | far[512 + data[i + 2]!]!) === 1;
    if (!distinct) {
      if (start < 0) start = x;
    } else if (start >= 0) {
      plain.add(start, x);
      start = -1;
    }
  }
  if (start >= 0) plain.add(start, area.width);
}

/** The visible product mask at a common scale (longest side of its loose box = NORMALIZED_SIDE). */
function normalizedBox(product: VisibleProduct): Box | null {
  const { mask, area, bounds: loose } = product;
  const { width, height } = area;
  if (!loose) return null;
  const scale = Math.min(1, NORMALIZED_SIDE / Math.max(loose.width, loose.height));
  const margin = 2;
  const nw = Math.max(1, Math.round(loose.width * scale)) + margin * 2;
  const nh = Math.max(1, Math.round(loose.height * scale)) + margin * 2;
  const small = downsampleMask(mask, width, height, loose, scale, nw, nh, margin);
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

/**
 * Area sampling of `loose` (in a width x height mask) into an nw x nh mask with a `margin` px frame:
 * a small pixel is product when at least half of what it covers is.
 */
function downsampleMask(mask: Uint8Array, width: number, height: number, loose: Box, scale: number, nw: number, nh: number, margin: number): Uint8Array {
  const small = new Uint8Array(nw * nh);
  const columns = nw - margin * 2;
  // The mask columns x0[x]..x1[x] that small column x covers.
  const x0 = new Int32Array(columns);
  const x1 = new Int32Array(columns);
  for (let x = 0; x < columns; x++) {
    x0[x] = loose.left + Math.floor(x / scale);
    x1[x] = Math.max(x0[x]! + 1, Math.min(width, loose.left + Math.floor((x + 1) / scale)));
  }
  for (let y = 0; y < nh - margin * 2; y++) {
    const y0 = loose.top + Math.floor(y / scale);
    const y1 = Math.max(y0 + 1, Math.min(height, loose.top + Math.floor((y + 1) / scale)));
    const rows = y1 - y0;
    for (let x = 0, o = (y + margin) * nw + margin; x < columns; x++, o++) {
      const from = x0[x]!;
      const to = x1[x]!;
      let inside = 0;
      for (let row = y0 * width; row < y1 * width; row += width) for (let p = row + from; p < row + to; p++) inside += mask[p]!;
      small[o] = inside * 2 >= rows * (to - from) ? 1 : 0;
    }
  }
  return small;
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
  const [source, resultImage] = await Promise.all([
    analyseOriginal(original),
    // The edited image is a clean render of a product that fills most of its frame: smaller, it
    // still gives the product more pixels than the comparison grid.
    readHeader(edited).then(({ ignoreIcc }) =>
      decodeRgb(edited, { maxWidth: RESULT_ANALYSIS_SIDE, maxHeight: RESULT_ANALYSIS_SIDE, kernel: "linear", ignoreIcc }),
    ),
  ]);
  return compareProducts(source, resultImage);
}

/** An analysed original: its pixels (all of it, or a small product's area) and its segmentation. */
export interface AnalysedOriginal {
  image: RgbImage;
  segmentation: Segmentation;
}

/**
 * The original at analysis size, segmented; a product smaller there than DETAIL_MIN_SIDE is read again
 * around its box at a larger scale. Images are reduced with a linear filter: the products are
 * compared on a coarser grid, after an area average and a blur, so a sharper filter changes no verdict.
 */
async function analyseOriginal(original: Buffer): Promise<AnalysedOriginal> {
  const header = await readHeader(original);
  const { ignoreIcc } = header;
  const image = await decodeRgb(original, { maxWidth: ANALYSIS_SIDE, maxHeight: ANALYSIS_SIDE, kernel: "linear", ignoreIcc });
  const segmentation = segmentProduct(image, { threshold: SOURCE_THRESHOLD });
  const box = segmentation.box;
  if (!box || Math.max(box.width, box.height) >= DETAIL_MIN_SIDE) return { image, segmentation };
  const zoom = Math.min(header.width / image.width, DETAIL_SIDE / Math.max(box.width, box.height));
  if (zoom <= 1.1) return { image, segmentation };
  const size = { width: Math.round(image.width * zoom), height: Math.round(image.height * zoom) };
  const area = expandBox(box, DETAIL_MARGIN, image.width, image.height);
  const left = Math.floor(area.left * zoom);
  const top = Math.floor(area.top * zoom);
  const region = {
    left,
    top,
    width: Math.min(size.width - left, Math.ceil(area.width * zoom)),
    height: Math.min(size.height - top, Math.ceil(area.height * zoom)),
  };
  const detail = await decodeRgbRegion(original, region, { size, ignoreIcc });
  return { image: detail, segmentation: segmentProduct(detail, { threshold: SOURCE_THRESHOLD }) };
}

/** The fidelity measurement of an analysed original and the edited image at analysis size (see measureFidelity). */
export function compareProducts(source: AnalysedOriginal, resultImage: RgbImage): FidelityMeasurement {
  const { image: sourceImage, segmentation: sourceSegmentation } = source;
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
