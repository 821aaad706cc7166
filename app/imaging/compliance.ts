import sharp, { type OutputInfo } from "sharp";
import { ImageInputError } from "./errors";
import { inspectImage } from "./inspect";
import { RowRuns } from "./segment";
import {
  aspectLabel,
  borderBandWidth,
  DEFAULT_PIPELINE_SETTINGS,
  formatName,
  getPipeline,
  resolvePipeline,
  SOFT_SHADOW_MAX_DEPTH,
  type PipelineId,
  type PipelineSettings,
  type ResolvedPipeline,
  type Rgb,
} from "./pipelines";

export interface ComplianceRule {
  id: string;
  label: string;
  passed: boolean;
  measured: string;
  expected: string;
}

export interface ComplianceReport {
  passed: boolean;
  rules: ComplianceRule[];
  /** The figures the rules were judged on, so the batch page can say a missed rule in a merchant's words. */
  measurements: ImageMeasurements;
}

/**
 * Pixels farther than this (max channel) from the background count as product when measuring coverage: beyond the
 * deepest soft shadow a pipeline keeps and JPEG's error around it, so a kept shadow is never measured as product.
 */
const PRODUCT_DISTANCE = SOFT_SHADOW_MAX_DEPTH + 8;
/** Rows/columns with fewer product pixels than this are ignored (JPEG ringing, specks). */
const MIN_LINE_PIXELS = 2;

export interface ImageMeasurements {
  format: string;
  width: number;
  height: number;
  /** Share of border-band pixels within tolerance of the background colour. */
  borderPurity: number;
  /** max(bw/W, bh/H) of the product's bounding box, 0 when no product is found. */
  coverage: number;
  /** Smallest gap between the product and an edge, in px (-1 without product). */
  minMargin: number;
  /** Stray marks on the background away from the product (specks, a scrap of floor): how many (0 when not counted). */
  strayMarks: number;
}

/** A separate piece under this share of the largest is a mark, not a part of the product (a pair of shoes is two parts). */
const MARK_SHARE = 0.05;
/** Pieces smaller than this share of the frame are JPEG noise, not marks. */
const MIN_MARK_SHARE = 0.00002;
/** The ring a piece is judged by lies this far (share of the frame's shorter side) around its box. */
const MARK_RING = 0.02;
/** A piece whose ring is at least this share background (within RING_TOLERANCE levels) lies on the background. */
const MARK_RING_SHARE = 0.9;
const RING_TOLERANCE = 3;

/**
 * Small pieces of non-background (beyond PRODUCT_DISTANCE, so never a kept shadow) lying on the background away from
 * the product: specks or leftover backdrop that post-processing did not remove. A piece of 5% of the largest or more
 * is a part of the product (a pair of shoes is two parts); a small piece within MARK_RING of a part's pixels, or
 * enclosed by the parts (a letter on a white label), is a detail of the product (a tag, a loose strap); any other
 * piece with background all around it is a mark (post-processing makes the backdrop exactly the background colour).
 * Every other row and column of a large image, like productBox.
 */
function countStrayMarks(data: Uint8Array, width: number, height: number, background: Rgb): number {
  const step = width * height > 1_500_000 ? 2 : 1;
  const gw = Math.ceil(width / step);
  const gh = Math.ceil(height / step);
  const [br, bg, bb] = background;
  const at = (gx: number, gy: number) => distanceAt(data, (gy * step * width + gx * step) * 3, br, bg, bb);
  const pieces = new RowRuns(gh);
  for (let gy = 0; gy < gh; gy++) {
    let start = -1;
    for (let gx = 0, i = gy * step * width * 3; gx < gw; gx++, i += step * 3) {
      const isFar = beyond(data, i, br, bg, bb, PRODUCT_DISTANCE);
      if (isFar && start < 0) start = gx;
      else if (!isFar && start >= 0) {
        pieces.add(start, gx);
        start = -1;
      }
    }
    if (start >= 0) pieces.add(start, gw);
    pieces.endRow(gy);
  }
  pieces.joinRows();
  const n = pieces.count;
  const size = new Float64Array(n);
  const left = new Int32Array(n).fill(gw);
  const right = new Int32Array(n).fill(-1);
  const top = new Int32Array(n).fill(gh);
  const bottom = new Int32Array(n).fill(-1);
  for (let gy = 0; gy < gh; gy++) {
    for (let r = pieces.first[gy]!; r < pieces.first[gy + 1]!; r++) {
      const c = pieces.find(r);
      size[c]! += pieces.end[r]! - pieces.start[r]!;
      left[c] = Math.min(left[c]!, pieces.start[r]!);
      right[c] = Math.max(right[c]!, pieces.end[r]! - 1);
      top[c] = Math.min(top[c]!, gy);
      bottom[c] = Math.max(bottom[c]!, gy);
    }
  }
  const largest = Math.max(0, ...size);
  const ring = Math.max(2, Math.round(Math.min(gw, gh) * MARK_RING));
  const isPart = (c: number) => size[c]! > 0 && size[c]! >= largest * MARK_SHARE;
  // Small details of a product (a tag, a loose strap) lie within MARK_RING of one of its parts' pixels. Not of the
  // parts' box: a speck beside a hat's crown lies inside the hat's box, far from the hat.
  const nearPart = (x0: number, x1: number, y0: number, y1: number) => {
    for (let gy = y0; gy <= y1; gy++) {
      for (let r = pieces.first[gy]!; r < pieces.first[gy + 1]!; r++) {
        if (pieces.end[r]! > x0 && pieces.start[r]! <= x1 && isPart(pieces.find(r))) return true;
      }
    }
    return false;
  };
  // A letter on a white label (the label is the background colour) is enclosed by the product: parts on both sides
  // along its middle row and its middle column.
  const partAt = (gx: number, gy: number) => {
    for (let r = pieces.first[gy]!; r < pieces.first[gy + 1]!; r++) {
      if (pieces.start[r]! <= gx && pieces.end[r]! > gx && isPart(pieces.find(r))) return true;
    }
    return false;
  };
  const enclosed = (c: number) => {
    const cx = (left[c]! + right[c]!) >> 1;
    const cy = (top[c]! + bottom[c]!) >> 1;
    let before = false;
    let after = false;
    for (let r = pieces.first[cy]!; r < pieces.first[cy + 1]!; r++) {
      if (!isPart(pieces.find(r))) continue;
      if (pieces.start[r]! < left[c]!) before = true;
      if (pieces.end[r]! > right[c]! + 1) after = true;
    }
    if (!before || !after) return false;
    let above = false;
    for (let gy = top[c]! - 1; gy >= 0 && !above; gy--) above = partAt(cx, gy);
    let below = false;
    for (let gy = bottom[c]! + 1; gy < gh && !below; gy++) below = partAt(cx, gy);
    return above && below;
  };
  let marks = 0;
  for (let c = 1; c < n; c++) {
    if (size[c]! === 0 || isPart(c) || size[c]! < gw * gh * MIN_MARK_SHARE) continue;
    const x0 = Math.max(0, left[c]! - ring);
    const x1 = Math.min(gw - 1, right[c]! + ring);
    const y0 = Math.max(0, top[c]! - ring);
    const y1 = Math.min(gh - 1, bottom[c]! + ring);
    if (nearPart(x0, x1, y0, y1) || enclosed(c)) continue;
    let clear = 0;
    let total = 0;
    const look = (gx: number, gy: number) => {
      total++;
      if (at(gx, gy) <= RING_TOLERANCE) clear++;
    };
    for (let gx = x0; gx <= x1; gx++) {
      look(gx, y0);
      look(gx, y1);
    }
    for (let gy = y0 + 1; gy < y1; gy++) {
      look(x0, gy);
      look(x1, gy);
    }
    if (clear >= total * MARK_RING_SHARE) marks++;
  }
  return marks;
}

function pct(value: number, digits = 1): string {
  return `${(value * 100).toFixed(digits)}%`;
}

/** Largest channel difference between the pixel at byte offset `i` and the background. */
function distanceAt(data: Uint8Array, i: number, br: number, bg: number, bb: number): number {
  const dr = data[i]! - br;
  const dg = data[i + 1]! - bg;
  const db = data[i + 2]! - bb;
  return Math.max(dr < 0 ? -dr : dr, dg < 0 ? -dg : dg, db < 0 ? -db : db);
}

/**
 * distanceAt(...) > limit in about half its time (no absolute values, no Math.max): a background pixel is decided
 * by two comparisons per channel, and the scans below read a quarter of a 2000 px image's pixels.
 */
function beyond(data: Uint8Array, i: number, br: number, bg: number, bb: number, limit: number): boolean {
  const dr = data[i]! - br;
  if (dr > limit || dr < -limit) return true;
  const dg = data[i + 1]! - bg;
  if (dg > limit || dg < -limit) return true;
  const db = data[i + 2]! - bb;
  return db > limit || db < -limit;
}

interface BorderMeasurement {
  /** Share of band pixels within tolerance of the background. */
  purity: number;
  /** A product-like pixel sits on the outermost row or column. */
  edgeTouched: boolean;
}

/**
 * Pixels of row `y` from `x0` to `x1` (exclusive) within `tolerance` of the background; adds 2^20
 * when one of them on the image's outermost rows or columns looks like product.
 */
function borderRun(
  data: Uint8Array,
  width: number,
  height: number,
  y: number,
  x0: number,
  x1: number,
  background: Rgb,
  tolerance: number,
): number {
  const [br, bg, bb] = background;
  const outerRow = y === 0 || y === height - 1;
  let matches = 0;
  let touched = 0;
  for (let x = x0, i = (y * width + x0) * 3; x < x1; x++, i += 3) {
    const d = distanceAt(data, i, br, bg, bb);
    if (d <= tolerance) matches++;
    if (d > PRODUCT_DISTANCE && (outerRow || x === 0 || x === width - 1)) touched = EDGE_TOUCHED;
  }
  return matches + touched;
}
const EDGE_TOUCHED = 1 << 20;

/** Border purity: every pixel of the band, at full resolution. */
function measureBorder(
  data: Uint8Array,
  width: number,
  height: number,
  band: number,
  background: Rgb,
  tolerance: number,
): BorderMeasurement {
  let pixels = 0;
  let matches = 0;
  let edgeTouched = false;
  const count = (y: number, x0: number, x1: number) => {
    const result = borderRun(data, width, height, y, x0, x1, background, tolerance);
    matches += result % EDGE_TOUCHED;
    if (result >= EDGE_TOUCHED) edgeTouched = true;
    pixels += x1 - x0;
  };
  for (let y = 0; y < height; y++) {
    if (y < band || y >= height - band) count(y, 0, width);
    else {
      count(y, 0, band);
      count(y, width - band, width);
    }
  }
  return { purity: pixels ? matches / pixels : 0, edgeTouched };
}

interface PixelBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Product pixels among every `step`-th column of row `y` from `from` to `to` (exclusive); each is
 * counted in `columnCounts`. With `stopAt`, stops counting (and scanning) there.
 */
function countProduct(
  data: Uint8Array,
  width: number,
  y: number,
  from: number,
  to: number,
  step: number,
  background: Rgb,
  columnCounts: Uint32Array | null,
  stopAt: number,
): number {
  const [br, bg, bb] = background;
  let count = 0;
  for (let x = from, i = (y * width + from) * 3; x < to; x += step, i += 3 * step) {
    if (!beyond(data, i, br, bg, bb, PRODUCT_DISTANCE)) continue;
    count++;
    if (columnCounts) columnCounts[x]!++;
    else if (count >= stopAt) break;
  }
  return count;
}

/**
 * The product's box from every other row and column (1 px of 2000 is 0.05%): the first and last
 * rows and columns with at least MIN_LINE_PIXELS product pixels. Columns between the leftmost and
 * the rightmost such column found so far cannot become an edge, so rows only count the columns
 * outside them; inside, it is enough to know whether the row itself reaches MIN_LINE_PIXELS.
 */
function productBox(data: Uint8Array, width: number, height: number, background: Rgb): PixelBox | null {
  const step = width * height > 1_500_000 ? 2 : 1;
  const columnCounts = new Uint32Array(width);
  let top = -1;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y += step) {
    // Sampled columns [0, outerLeft) and [outerRight, width) are counted; those between are not.
    const outerLeft = left;
    const outerRight = right < 0 ? width : right + step;
    let inRow = countProduct(data, width, y, 0, outerLeft, step, background, columnCounts, 0);
    if (outerRight < width) inRow += countProduct(data, width, y, outerRight, width, step, background, columnCounts, 0);
    if (inRow < MIN_LINE_PIXELS && outerLeft < outerRight) {
      inRow += countProduct(data, width, y, outerLeft, Math.min(outerRight, width), step, background, null, MIN_LINE_PIXELS - inRow);
    }
    if (inRow >= MIN_LINE_PIXELS) {
      if (top < 0) top = y;
      bottom = y;
    }
    for (let x = 0; x < outerLeft; x += step) {
      if (columnCounts[x]! >= MIN_LINE_PIXELS) {
        left = x;
        break;
      }
    }
    // Every column after `right` was counted in this row.
    for (let x = (Math.ceil(width / step) - 1) * step; x > right; x -= step) {
      if (columnCounts[x]! >= MIN_LINE_PIXELS) {
        right = x;
        break;
      }
    }
  }
  if (left >= width || top < 0) return null;
  return {
    left,
    top,
    right: Math.min(width - 1, right + step - 1),
    bottom: Math.min(height - 1, bottom + step - 1),
  };
}

/** An output decoded as the rules read it: 8-bit sRGB, transparency on black. */
export interface DecodedOutput {
  format: string;
  data: Buffer;
  width: number;
  height: number;
  /** The pixels are what any decode of the file shows (no transparency, no colour profile but sRGB): other readers may reuse them. */
  plain: boolean;
}

export async function decodeOutput(image: Buffer): Promise<DecodedOutput> {
  const info = await inspectImage(image);
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // Transparent pixels are composited onto black so they can never pass for a white background.
    decoded = await sharp(image, { autoOrient: true, failOn: "truncated", ignoreIcc: info.iccProfile === "srgb", sequentialRead: true })
      .flatten({ background: "#000000" })
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw new ImageInputError("corrupt", "The image file is damaged and cannot be read.", { cause });
  }
  const { width, height } = decoded.info;
  return { format: info.format, data: decoded.data, width, height, plain: !info.hasAlpha && info.iccProfile !== "other" };
}

/** Measures what the rules need in one decode. */
async function measureImage(
  image: Buffer | DecodedOutput,
  background: Rgb,
  tolerance: number,
  /** Count stray marks: a full pass over the pixels, only for pipelines with that rule. */
  opts: { strayMarks: boolean },
): Promise<ImageMeasurements> {
  const { format, data, width, height } = Buffer.isBuffer(image) ? await decodeOutput(image) : image;
  const band = borderBandWidth({ width, height });
  const border = measureBorder(data, width, height, band, background, tolerance);
  const box = productBox(data, width, height, background);
  let coverage = 0;
  let minMargin = -1;
  if (box) {
    coverage = Math.max((box.right - box.left + 1) / width, (box.bottom - box.top + 1) / height);
    minMargin = border.edgeTouched ? 0 : Math.min(box.left, box.top, width - 1 - box.right, height - 1 - box.bottom);
  }
  const strayMarks = box && opts.strayMarks ? countStrayMarks(data, width, height, background) : 0;
  return { format, width, height, borderPurity: border.purity, coverage, minMargin, strayMarks };
}

/** Rules, each with what was measured, for a measured image against a resolved pipeline. */
export function evaluateRules(m: ImageMeasurements, pipeline: ResolvedPipeline): ComplianceRule[] {
  const { checks, definition } = pipeline;
  const rules: ComplianceRule[] = [];
  const allowed = definition.output.allowed;
  rules.push({
    id: "format",
    label: "File format",
    passed: (allowed as readonly string[]).includes(m.format),
    measured: formatName(m.format),
    expected: allowed.map(formatName).join(" or "),
  });

  const exact = checks.exactSize;
  const longest = Math.max(m.width, m.height);
  rules.push(
    exact
      ? {
          id: "size",
          label: "Image size",
          passed: m.width === exact.width && m.height === exact.height,
          measured: `${m.width} × ${m.height} px`,
          expected: `${exact.width} × ${exact.height} px`,
        }
      : {
          id: "size",
          label: "Image size",
          passed: longest >= checks.minLongestSide,
          measured: `${m.width} × ${m.height} px`,
          expected: `at least ${checks.minLongestSide} px on the longest side`,
        },
  );

  const ratio = m.width / m.height;
  const [minAspect, maxAspect] = checks.aspect;
  // One pixel of rounding is not a different aspect ratio.
  const slack = 1 / Math.min(m.width, m.height);
  rules.push({
    id: "aspect",
    label: "Aspect ratio",
    passed: ratio >= minAspect - slack && ratio <= maxAspect + slack,
    measured: aspectLabel(ratio),
    expected: minAspect === maxAspect ? aspectLabel(minAspect) : `between ${aspectLabel(minAspect)} and ${aspectLabel(maxAspect)}`,
  });

  const exactBackground = checks.backgroundTolerance === 0;
  rules.push({
    id: "background",
    label: exactBackground ? `Background is exactly ${pipeline.backgroundHex}` : `Background is clean ${pipeline.backgroundHex}`,
    passed: m.borderPurity >= checks.minBorderPurity,
    measured: `${pct(m.borderPurity, 2)} of border pixels match`,
    expected: `at least ${pct(checks.minBorderPurity, 1)}${exactBackground ? " (exact RGB match)" : ` (within ${checks.backgroundTolerance} levels)`}`,
  });

  const [minCoverage, maxCoverage] = checks.coverage;
  rules.push({
    id: "coverage",
    label: "Product fills the frame",
    passed: m.coverage >= minCoverage && m.coverage <= maxCoverage,
    measured: m.coverage > 0 ? pct(m.coverage) : "no product found",
    expected: `${pct(minCoverage, 0)}–${pct(maxCoverage, 0)} of the longest side`,
  });

  if (checks.noStrayMarks) {
    rules.push({
      id: "clean-background",
      label: "No marks on the background",
      passed: m.strayMarks === 0,
      measured: m.strayMarks === 0 ? "none" : `${m.strayMarks} stray ${m.strayMarks === 1 ? "mark" : "marks"} away from the product`,
      expected: "nothing but the product (and, where kept, its soft shadow)",
    });
  }

  rules.push({
    id: "not-cropped",
    label: "Product is not cut off",
    passed: m.minMargin > 0,
    measured: m.minMargin < 0 ? "no product found" : `${m.minMargin} px from the nearest edge`,
    expected: "a margin on every side",
  });
  return rules;
}

/** Checks an output image against every rule of the pipeline and reports each measured value. */
export async function checkCompliance(
  image: Buffer | DecodedOutput,
  pipeline: PipelineId,
  settings: PipelineSettings = DEFAULT_PIPELINE_SETTINGS,
): Promise<ComplianceReport> {
  getPipeline(pipeline);
  const resolved = resolvePipeline(pipeline, settings);
  const measurements = await measureImage(image, resolved.background, resolved.checks.backgroundTolerance, {
    strayMarks: resolved.checks.noStrayMarks,
  });
  const rules = evaluateRules(measurements, resolved);
  return { passed: rules.every((rule) => rule.passed), rules, measurements };
}
