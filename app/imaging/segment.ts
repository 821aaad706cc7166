import type { RgbImage } from "./decode";
import type { Rgb } from "./pipelines";
import { scanlineFill } from "./scanline-fill";

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface SegmentOptions {
  /** Max-channel distance from the local background above which a pixel is product (0..255). */
  threshold: number;
  /** Components smaller than this share of the image are specks, not product (default 0.0005). */
  minComponentShare?: number;
}

export interface Segmentation {
  width: number;
  height: number;
  /** 1 where the pixel belongs to the product (including enclosed light areas such as a white label). */
  product: Uint8Array;
  /** Max-channel distance of each pixel from the estimated local background colour. */
  distance: Uint8Array;
  /** Bounding box of the product, or null when there is none. */
  box: Box | null;
  /** Product pixel count. */
  area: number;
  /** Median colour of the image border: the background as a whole. */
  borderColor: Rgb;
  /** Estimated background colour per row at the left and right edge (r,g,b,r,g,b per row). */
  rowBackground: Float32Array;
}

/** Adds the pixels of `data[from..to)` (byte offsets) to per-channel histograms. */
function addToHistograms(data: Uint8Array, from: number, to: number, r: Uint32Array, g: Uint32Array, b: Uint32Array): void {
  for (let i = from; i < to; i += 3) {
    r[data[i]!]!++;
    g[data[i + 1]!]!++;
    b[data[i + 2]!]!++;
  }
}

/** Median per channel of a ring `band` px wide around the image. */
export function borderMedian(image: RgbImage, band: number): Rgb {
  const { data, width, height } = image;
  const histograms = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)] as const;
  const b = Math.max(1, Math.min(band, Math.floor(Math.min(width, height) / 2)));
  let count = 0;
  const add = (from: number, to: number) => {
    addToHistograms(data, from * 3, to * 3, ...histograms);
    count += to - from;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y < b || y >= height - b) add(row, row + width);
    else {
      add(row, row + b);
      add(row + width - b, row + width);
    }
  }
  const median = (h: Uint32Array) => {
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += h[v]!;
      if (seen * 2 >= count) return v;
    }
    return 255;
  };
  return [median(histograms[0]), median(histograms[1]), median(histograms[2])];
}

const maxDiff = (a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number) =>
  Math.max(Math.abs(a[ai]! - b[bi]!), Math.abs(a[ai + 1]! - b[bi + 1]!), Math.abs(a[ai + 2]! - b[bi + 2]!));

/**
 * Background colour per row from the left and right edges. Photos are lit from above, so the
 * backdrop mostly changes from top to bottom; a side the product covers is replaced by the other.
 */
export function estimateRowBackground(image: RgbImage, borderColor: Rgb): Float32Array {
  const { data, width, height } = image;
  const k = Math.max(2, Math.round(Math.min(width, height) * 0.004));
  const rows = new Float32Array(height * 6);
  const border = Float32Array.from(borderColor);
  const left = new Float32Array(3);
  const right = new Float32Array(3);
  let previous: Float32Array | null = null;
  for (let y = 0; y < height; y++) {
    left.fill(0);
    right.fill(0);
    const row = y * width * 3;
    for (let x = 0; x < k; x++) {
      const li = row + x * 3;
      const ri = row + (width - 1 - x) * 3;
      for (let c = 0; c < 3; c++) {
        left[c]! += data[li + c]! / k;
        right[c]! += data[ri + c]! / k;
      }
    }
    const leftOff = maxDiff(left, 0, border, 0);
    const rightOff = maxDiff(right, 0, border, 0);
    const out = rows.subarray(y * 6, y * 6 + 6);
    if (Math.min(leftOff, rightOff) > 64) {
      // Both edges covered by the product in this row: carry the row above (or the border colour).
      out.set(previous ?? new Float32Array([...border, ...border]));
    } else if (maxDiff(left, 0, right, 0) <= 40) {
      out.set(left, 0);
      out.set(right, 3);
    } else {
      const side = leftOff <= rightOff ? left : right;
      out.set(side, 0);
      out.set(side, 3);
    }
    previous = out;
  }
  return rows;
}

/** Max-channel distance of one row's pixels from its backdrop, interpolated between the row's edges. */
function rowDistance(data: Uint8Array, distance: Uint8Array, y: number, width: number, rowBackground: Float32Array): void {
  const span = Math.max(1, width - 1);
  const o = y * 6;
  const lr = rowBackground[o]!;
  const lg = rowBackground[o + 1]!;
  const lb = rowBackground[o + 2]!;
  const sr = (rowBackground[o + 3]! - lr) / span;
  const sg = (rowBackground[o + 4]! - lg) / span;
  const sb = (rowBackground[o + 5]! - lb) / span;
  let i = y * width * 3;
  let p = y * width;
  let br = lr;
  let bg = lg;
  let bb = lb;
  for (let x = 0; x < width; x++, i += 3, p++) {
    // Math.abs and Math.max compile without branches (the signs flip at random near the backdrop).
    const d = Math.max(Math.abs(data[i]! - br), Math.abs(data[i + 1]! - bg), Math.abs(data[i + 2]! - bb));
    distance[p] = d > 255 ? 255 : d;
    br += sr;
    bg += sg;
    bb += sb;
  }
}

/** Max-channel distance of every pixel from the background, interpolated between the row's edges. */
export function backgroundDistance(image: RgbImage, rowBackground: Float32Array): Uint8Array {
  const { data, width, height } = image;
  const distance = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) rowDistance(data, distance, y, width, rowBackground);
  return distance;
}

/**
 * Product = everything the image border does not reach through pixels close to the background
 * colour, so light areas enclosed by the product (a white label) stay product. 1 = product.
 */
function floodBackground(distance: Uint8Array, width: number, height: number, threshold: number): Uint8Array {
  const product = new Uint8Array(width * height).fill(1);
  const stack: number[] = [];
  for (let x = 0; x < width; x++) {
    stack.push(x, (height - 1) * width + x);
  }
  for (let y = 1; y < height - 1; y++) stack.push(y * width, y * width + width - 1);
  scanlineFill(product, 1, 0, width, stack, distance, threshold);
  return product;
}

/** Pushes one seed per run of `value` in `mask[from..to]`. */
function pushRuns(mask: Uint8Array, value: number, from: number, to: number, stack: number[]): void {
  let inRun = false;
  for (let q = from; q <= to; q++) {
    if (mask[q] === value) {
      if (!inRun) stack.push(q);
      inRun = true;
    } else inRun = false;
  }
}

/**
 * Marks the product component at `start` (pixels 1) as visited (2); returns its size and box.
 * `spans` receives its row runs (left, right pairs).
 */
function visitComponent(product: Uint8Array, width: number, start: number, stack: number[], spans: number[]): { count: number; box: Box } {
  spans.length = 0;
  stack.push(start);
  let minX = width;
  let minY = Infinity;
  let maxX = -1;
  let maxY = -1;
  let count = 0;
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (product[p] !== 1) continue;
    const row = p - (p % width);
    let left = p;
    while (left > row && product[left - 1] === 1) left--;
    let right = p;
    while (right < row + width - 1 && product[right + 1] === 1) right++;
    product.fill(2, left, right + 1);
    spans.push(left, right);
    count += right - left + 1;
    const y = row / width;
    if (left - row < minX) minX = left - row;
    if (right - row > maxX) maxX = right - row;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (row > 0) pushRuns(product, 1, left - width, right - width, stack);
    if (row + width < product.length) pushRuns(product, 1, left + width, right + width, stack);
  }
  return { count, box: { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 } };
}

/** Drops specks (dust, noise) from the product mask; returns the kept area and bounding box. */
function keepSignificantComponents(product: Uint8Array, width: number, height: number, minArea: number): { area: number; box: Box | null } {
  // 0 = background, 1 = product not yet visited, 2 = visited.
  const stack: number[] = [];
  const spans: number[] = [];
  const kept: number[] = [];
  let area = 0;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let start = product.indexOf(1); start >= 0; start = product.indexOf(1, start + 1)) {
    const { count, box } = visitComponent(product, width, start, stack, spans);
    if (count < minArea) {
      for (let i = 0; i < spans.length; i += 2) product.fill(0, spans[i]!, spans[i + 1]! + 1);
      continue;
    }
    area += count;
    for (const edge of spans) kept.push(edge);
    minX = Math.min(minX, box.left);
    minY = Math.min(minY, box.top);
    maxX = Math.max(maxX, box.left + box.width - 1);
    maxY = Math.max(maxY, box.top + box.height - 1);
  }
  for (let i = 0; i < kept.length; i += 2) product.fill(1, kept[i]!, kept[i + 1]! + 1);
  const box = maxX < 0 ? null : { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
  return { area, box };
}

/** Finds the product: the part of the image that is not the (possibly graded) backdrop. */
export function segmentProduct(image: RgbImage, options: SegmentOptions): Segmentation {
  const { width, height } = image;
  const borderColor = borderMedian(image, Math.max(2, Math.round(Math.min(width, height) * 0.004)));
  const rowBackground = estimateRowBackground(image, borderColor);
  const distance = backgroundDistance(image, rowBackground);
  const product = floodBackground(distance, width, height, options.threshold);
  const minArea = Math.max(16, Math.round(width * height * (options.minComponentShare ?? 0.0005)));
  const { area, box } = keepSignificantComponents(product, width, height, minArea);
  return { width, height, product, distance, box, area, borderColor, rowBackground };
}

/** Grows a box by `margin` px on each side, clipped to the image. */
export function expandBox(box: Box, margin: number, width: number, height: number): Box {
  const left = Math.max(0, box.left - margin);
  const top = Math.max(0, box.top - margin);
  const right = Math.min(width, box.left + box.width + margin);
  const bottom = Math.min(height, box.top + box.height + margin);
  return { left, top, width: right - left, height: bottom - top };
}

/** The part of `a` inside `b`. */
export function intersectBox(a: Box, b: Box): Box {
  const left = Math.max(a.left, b.left);
  const top = Math.max(a.top, b.top);
  const right = Math.min(a.left + a.width, b.left + b.width);
  const bottom = Math.min(a.top + a.height, b.top + b.height);
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}
