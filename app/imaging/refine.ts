// Product segmentation at full resolution for the price of a preview: the product is found on a
// reduced copy, and full-resolution pixels are examined only in a thin band around its outline.
import type { RgbImage } from "./decode";
import { dilate, erode } from "./morphology";
import type { Size } from "./pipelines";
import { estimateRowBackground, FlatBackdropTable, rowBackdrop, type Box, type RowBackdrop, type Segmentation } from "./segment";
import { scanlineFill } from "./scanline-fill";

/** Pixel states of the full-resolution crop. */
export const EXTERIOR = 0;
const UNDECIDED = 1;
export const PRODUCT = 2;
const BACKGROUND = 3;
/** Outline product pixels while their component is being measured. */
const PENDING = 4;

/** A run of pixels in one row of the crop whose preview class is the same. */
export interface ClassRun {
  /** Crop x, inclusive start and exclusive end. */
  start: number;
  end: number;
  /** EXTERIOR (far from the product), PRODUCT (deep inside it) or UNDECIDED (near its outline). */
  kind: number;
}

export interface RefinedSegmentation {
  /** Area of the full image (crop coordinates are relative to it) where the product and its outline lie. */
  crop: Box;
  /** Crop-sized: EXTERIOR, PRODUCT or BACKGROUND per pixel (outline pixels decided at full resolution). */
  state: Uint8Array;
  /** Crop-sized: distance from the backdrop, filled only for outline pixels. */
  distance: Uint8Array;
  /** Class runs per crop row. */
  runs: ClassRun[][];
  /** Full-resolution product box, or null when nothing survived at full resolution. */
  box: Box | null;
  /** Background colour per row at the left and right edge of the full image (r,g,b,r,g,b per row). */
  rowBackground: Float32Array;
}

/** Decoded pixels of part of a larger image: `left`/`top` place them in the full image. */
export interface PixelWindow extends RgbImage {
  left: number;
  top: number;
}

/** Outline pixels lie within this many preview px of the preview's product/background boundary. */
const OUTLINE_BAND = 2;

/** The part of the full image the refinement reads: the preview's product box and its outline band. */
export function refinementCrop(preview: Segmentation, full: Size, band = OUTLINE_BAND): Box | null {
  const pb = preview.box;
  if (!pb) return null;
  const { width: pw, height: ph } = preview;
  const sx = full.width / pw;
  const sy = full.height / ph;
  const pl = Math.max(0, pb.left - band - 1);
  const pt = Math.max(0, pb.top - band - 1);
  const pr = Math.min(pw, pb.left + pb.width + band + 1);
  const pbm = Math.min(ph, pb.top + pb.height + band + 1);
  const left = Math.floor(pl * sx);
  const top = Math.floor(pt * sy);
  const right = pr === pw ? full.width : Math.floor(pr * sx);
  const bottom = pbm === ph ? full.height : Math.floor(pbm * sy);
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * The preview's per-row backdrop colour (left and right edge) at full resolution, interpolated
 * between preview rows. The preview's edge strips average the same full-resolution pixels a
 * full-resolution estimate would, so nothing is lost by not decoding the image's edges.
 */
function upsampleRowBackground(preview: Segmentation, fullHeight: number): Float32Array {
  const rows = preview.rowBackground;
  const ph = preview.height;
  const out = new Float32Array(fullHeight * 6);
  const scale = ph / fullHeight;
  for (let y = 0; y < fullHeight; y++) {
    const at = Math.min(ph - 1, Math.max(0, (y + 0.5) * scale - 0.5));
    const y0 = Math.floor(at);
    const y1 = Math.min(ph - 1, y0 + 1);
    const t = at - y0;
    for (let c = 0; c < 6; c++) out[y * 6 + c] = rows[y0 * 6 + c]! * (1 - t) + rows[y1 * 6 + c]! * t;
  }
  return out;
}

/**
 * Preview classes: EXTERIOR (no product within `band`), PRODUCT (no background within `band`, the square clipped to
 * the image: a product cut by the frame stays product up to it), else UNDECIDED.
 */
function classifyPreview(preview: Segmentation, band: number): Uint8Array {
  const { width, height, product } = preview;
  const nearProduct = dilate(product, width, height, band);
  const deepInside = erode(product, width, height, band, "ignored");
  const previewClass = new Uint8Array(width * height);
  for (let p = 0; p < previewClass.length; p++) previewClass[p] = !nearProduct[p] ? EXTERIOR : deepInside[p] ? PRODUCT : UNDECIDED;
  return previewClass;
}

/** Crop columns in groups that come from the same preview column: that column, and the group's exclusive crop end. */
interface ColumnGroups {
  column: Int32Array;
  end: Int32Array;
}

function previewColumnGroups(cropLeft: number, cw: number, pw: number, sx: number): ColumnGroups {
  const column: number[] = [];
  const end: number[] = [];
  for (let x = 0; x < cw; x++) {
    const px = Math.min(pw - 1, Math.floor((cropLeft + x) / sx));
    if (column.length > 0 && column[column.length - 1] === px) end[end.length - 1] = x + 1;
    else {
      column.push(px);
      end.push(x + 1);
    }
  }
  return { column: Int32Array.from(column), end: Int32Array.from(end) };
}

/** Runs of one crop row from its preview row, and the row's classes pixel by pixel (classes change only between column groups). */
function previewRowRuns(previewClass: Uint8Array, previewRow: number, groups: ColumnGroups): { runs: ClassRun[]; template: Uint8Array } {
  const { column, end } = groups;
  const cw = end[end.length - 1]!;
  const template = new Uint8Array(cw);
  const runs: ClassRun[] = [];
  let start = 0;
  let kind = previewClass[previewRow + column[0]!]!;
  for (let g = 1; g <= column.length; g++) {
    const k = g < column.length ? previewClass[previewRow + column[g]!]! : -1;
    if (k !== kind) {
      const runEnd = end[g - 1]!;
      runs.push({ start, end: runEnd, kind });
      template.fill(kind, start, runEnd);
      start = runEnd;
      kind = k;
    }
  }
  return { runs, template };
}

/** The largest of three non-negative 32-bit integers, without branches (the order flips at random near the backdrop). */
function max3(a: number, b: number, c: number): number {
  const ab = a - ((a - b) & ((a - b) >> 31));
  return ab - ((ab - c) & ((ab - c) >> 31));
}

/** Flat backdrop rows' channel distances, reused while the colour stays the same. */
const flatBackdrop = new FlatBackdropTable();

/** backdropDistance (inlined: it runs for every outline pixel) of `distance[p0..p1)`, whose pixels start at byte `i0`, column `fx0`. */
function tintedRunDistance(
  data: Uint8Array,
  i0: number,
  distance: Uint8Array,
  p0: number,
  p1: number,
  backdrop: RowBackdrop,
  fx0: number,
  chromaWeight: number,
): void {
  const { r: lr, g: lg, b: lb, dr: sr, dg: sg, db: sb } = backdrop;
  let br = lr + sr * fx0;
  let bg = lg + sg * fx0;
  let bb = lb + sb * fx0;
  for (let p = p0, i = i0; p < p1; p++, i += 3) {
    const dr = data[i]! - br;
    const dg = data[i + 1]! - bg;
    const db = data[i + 2]! - bb;
    let hi = dr > dg ? dr : dg;
    if (db > hi) hi = db;
    let lo = dr < dg ? dr : dg;
    if (db < lo) lo = db;
    const largest = hi > -lo ? hi : -lo;
    const tint = (hi - lo) * chromaWeight;
    const d = tint > largest ? tint : largest;
    distance[p] = d > 255 ? 255 : d | 0;
    br += sr;
    bg += sg;
    bb += sb;
  }
}

/** Distance from the row's backdrop colour for the outline pixels of one crop row. */
function outlineRowDistance(
  data: Uint8Array,
  rowStart: number,
  runs: ClassRun[],
  cropLeft: number,
  distance: Uint8Array,
  distanceRow: number,
  rowBackground: Float32Array,
  fy: number,
  span: number,
  chromaWeight: number,
): void {
  const backdrop = rowBackdrop(rowBackground, fy, span);
  const { r: lr, g: lg, b: lb, dr, dg, db } = backdrop;
  if (chromaWeight > 0) {
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      if (run.kind === UNDECIDED)
        tintedRunDistance(
          data,
          rowStart + (cropLeft + run.start) * 3,
          distance,
          distanceRow + run.start,
          distanceRow + run.end,
          backdrop,
          cropLeft + run.start,
          chromaWeight,
        );
    }
    return;
  }
  // A flat row's backdrop is the left colour at every column (lr + 0 * fx is lr), so a table serves.
  const table = backdrop.flat ? flatBackdrop.tableFor(lr, lg, lb) : null;
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r]!;
    if (run.kind !== UNDECIDED) continue;
    const i0 = rowStart + (cropLeft + run.start) * 3;
    const p0 = distanceRow + run.start;
    const p1 = distanceRow + run.end;
    if (table) {
      for (let p = p0, i = i0; p < p1; p++, i += 3) {
        distance[p] = max3(table[data[i]!]!, table[256 + data[i + 1]!]!, table[512 + data[i + 2]!]!);
      }
      continue;
    }
    for (let p = p0, i = i0, fx = cropLeft + run.start; p < p1; p++, i += 3, fx++) {
      let d = data[i]! - (lr + dr * fx);
      if (d < 0) d = -d;
      let e = data[i + 1]! - (lg + dg * fx);
      if (e < 0) e = -e;
      if (e > d) d = e;
      e = data[i + 2]! - (lb + db * fx);
      if (e < 0) e = -e;
      if (e > d) d = e;
      distance[p] = d > 255 ? 255 : d;
    }
  }
}

/**
 * In a lit concavity of the preview's outline (see segment.ts, litConcavities) only the backdrop itself is background:
 * the outline pixels there farther than `within` from it are made too far for the flood (a white product's shading).
 */
function keepLitConcavityShading(
  lit: { mask: Uint8Array; within: number },
  runs: ClassRun[][],
  distance: Uint8Array,
  crop: Box,
  pw: number,
  ph: number,
  sx: number,
  sy: number,
): void {
  const { mask, within } = lit;
  for (let y = 0; y < crop.height; y++) {
    const previewRow = Math.min(ph - 1, Math.floor((crop.top + y) / sy)) * pw;
    for (const run of runs[y]!) {
      if (run.kind !== UNDECIDED) continue;
      for (let x = run.start, p = y * crop.width + x; x < run.end; x++, p++) {
        if (distance[p]! > within && mask[previewRow + Math.min(pw - 1, Math.floor((crop.left + x) / sx))]) distance[p] = 255;
      }
    }
  }
}

/**
 * Open outline pixels of one crop row that touch the exterior (or the crop's edge, beyond which
 * is exterior or the image border). Within a run only its ends have other neighbours in the row,
 * and rows made from the same preview row as both neighbouring rows have no other neighbour above
 * or below, so only those pixels are looked at.
 */
function rowSeeds(
  state: Uint8Array,
  distance: Uint8Array,
  threshold: number,
  runs: ClassRun[],
  y: number,
  cw: number,
  edgeRow: boolean,
  checkAboveBelow: boolean,
  seeds: number[],
): void {
  const row = y * cw;
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r]!;
    if (run.kind !== UNDECIDED) continue;
    if (checkAboveBelow) {
      for (let x = run.start; x < run.end; x++) if (isSeed(state, distance, threshold, row + x, x, cw, edgeRow, true)) seeds.push(row + x);
      continue;
    }
    if (isSeed(state, distance, threshold, row + run.start, run.start, cw, edgeRow, false)) seeds.push(row + run.start);
    const last = run.end - 1;
    if (last > run.start && isSeed(state, distance, threshold, row + last, last, cw, edgeRow, false)) seeds.push(row + last);
  }
}

/** True when crop pixel `p` (column `x`) is an open outline pixel that touches the exterior (see rowSeeds). */
function isSeed(
  state: Uint8Array,
  distance: Uint8Array,
  threshold: number,
  p: number,
  x: number,
  cw: number,
  edgeRow: boolean,
  checkAboveBelow: boolean,
): boolean {
  if (state[p] !== UNDECIDED || distance[p]! >= threshold) return false;
  return (
    edgeRow ||
    x === 0 ||
    x === cw - 1 ||
    state[p - 1] === EXTERIOR ||
    state[p + 1] === EXTERIOR ||
    (checkAboveBelow && (state[p - cw] === EXTERIOR || state[p + cw] === EXTERIOR))
  );
}

/** Pushes one seed per run of `value` in `state[from..to]`. */
function pushRuns(state: Uint8Array, value: number, from: number, to: number, stack: number[]): void {
  let inRun = false;
  for (let q = from; q <= to; q++) {
    if (state[q] === value) {
      if (!inRun) stack.push(q);
      inRun = true;
    } else inRun = false;
  }
}

/** True when `state[from..to]` holds a PRODUCT pixel. */
function touchesProduct(state: Uint8Array, from: number, to: number): boolean {
  for (let q = from; q <= to; q++) if (state[q] === PRODUCT) return true;
  return false;
}

/**
 * The undecided piece of outline at `start`: product when it touches the product's interior or is
 * big enough, background otherwise (a speck: dust, a stray dark pixel).
 */
function settleOutlinePiece(state: Uint8Array, start: number, cw: number, minArea: number, stack: number[], spans: number[]): void {
  spans.length = 0;
  stack.push(start);
  let count = 0;
  let joined = false;
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (state[p] !== UNDECIDED) continue;
    const row = p - (p % cw);
    const rowEnd = row + cw - 1;
    let left = p;
    while (left > row && state[left - 1] === UNDECIDED) left--;
    let right = p;
    while (right < rowEnd && state[right + 1] === UNDECIDED) right++;
    state.fill(PENDING, left, right + 1);
    spans.push(left, right);
    count += right - left + 1;
    if ((left > row && state[left - 1] === PRODUCT) || (right < rowEnd && state[right + 1] === PRODUCT)) joined = true;
    if (row > 0) {
      joined ||= touchesProduct(state, left - cw, right - cw);
      pushRuns(state, UNDECIDED, left - cw, right - cw, stack);
    }
    if (row + cw < state.length) {
      joined ||= touchesProduct(state, left + cw, right + cw);
      pushRuns(state, UNDECIDED, left + cw, right + cw, stack);
    }
  }
  const kind = joined || count >= minArea ? PRODUCT : BACKGROUND;
  for (let i = 0; i < spans.length; i += 2) state.fill(kind, spans[i]!, spans[i + 1]! + 1);
}

/** Settles every outline pixel the backdrop did not reach (see settleOutlinePiece). */
function settleOutline(state: Uint8Array, runs: ClassRun[][], cw: number, minArea: number): void {
  const stack: number[] = [];
  const spans: number[] = [];
  for (let y = 0; y < runs.length; y++) {
    const row = y * cw;
    const rowRuns = runs[y]!;
    for (let r = 0; r < rowRuns.length; r++) {
      const run = rowRuns[r]!;
      if (run.kind !== UNDECIDED) continue;
      for (let p = row + run.start; p < row + run.end; p++)
        if (state[p] === UNDECIDED) settleOutlinePiece(state, p, cw, minArea, stack, spans);
    }
  }
}

/** First product column of one crop row, or -1: scans from the left and stops at the first. */
function firstProductColumn(state: Uint8Array, runs: ClassRun[], row: number): number {
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r]!;
    if (run.kind === PRODUCT) return run.start;
    if (run.kind !== UNDECIDED) continue;
    for (let x = run.start; x < run.end; x++) if (state[row + x] === PRODUCT) return x;
  }
  return -1;
}

/** Last product column of one crop row that has one: scans from the right and stops at the first. */
function lastProductColumn(state: Uint8Array, runs: ClassRun[], row: number): number {
  for (let r = runs.length - 1; r >= 0; r--) {
    const run = runs[r]!;
    if (run.kind === PRODUCT) return run.end - 1;
    if (run.kind !== UNDECIDED) continue;
    for (let x = run.end - 1; x >= run.start; x--) if (state[row + x] === PRODUCT) return x;
  }
  return -1;
}

/** The product's box in crop coordinates, or null. */
function cropProductBox(state: Uint8Array, runs: ClassRun[][], cw: number): Box | null {
  let minX = cw;
  let minY = -1;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < runs.length; y++) {
    const first = firstProductColumn(state, runs[y]!, y * cw);
    if (first < 0) continue;
    const last = lastProductColumn(state, runs[y]!, y * cw);
    if (minY < 0) minY = y;
    maxY = y;
    if (first < minX) minX = first;
    if (last > maxX) maxX = last;
  }
  return maxX < 0 ? null : { left: minX, top: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

/**
 * Memory of crop-sized arrays, kept for the next image: megabytes per image, which fresh would cost
 * page faults and garbage collections that a worker handling image after image need not pay.
 */
const spareCropMemory: ArrayBuffer[] = [];
const MAX_SPARE_CROP_ARRAYS = 2;

function takeCropArray(size: number): Uint8Array {
  const index = spareCropMemory.findLastIndex((memory) => memory.byteLength >= size);
  const memory = index >= 0 ? spareCropMemory.splice(index, 1)[0]! : new ArrayBuffer(size);
  return new Uint8Array(memory, 0, size);
}

/**
 * Gives a refinement's crop-sized arrays back for the next image; the refinement must not be used
 * afterwards. Keeps the largest spare blocks.
 */
export function releaseRefinement(refined: RefinedSegmentation): void {
  for (const array of [refined.state, refined.distance]) {
    if (array.byteLength > 0 && array.buffer instanceof ArrayBuffer) spareCropMemory.push(array.buffer);
  }
  spareCropMemory.sort((a, b) => b.byteLength - a.byteLength);
  spareCropMemory.length = Math.min(spareCropMemory.length, MAX_SPARE_CROP_ARRAYS);
}

/**
 * Refines a preview segmentation on the full image. Preview pixels whose neighbourhood (radius
 * `band`) is all product are product, all background are background; the rest, the outline, is
 * decided pixel by pixel at full resolution with the same rule as the preview: background is what
 * the border reaches through pixels close to the backdrop colour. Only `refinementCrop` of the
 * full image is read, from `window`, which must contain it. (Each pass is its own small function:
 * V8 optimises those within the first image, a single large one only after several.)
 */
export function refineSegmentation(
  window: PixelWindow,
  full: Size,
  preview: Segmentation,
  threshold: number,
  options: { band?: number; minComponentShare?: number; chromaWeight?: number } = {},
): RefinedSegmentation {
  const band = options.band ?? OUTLINE_BAND;
  const chromaWeight = options.chromaWeight ?? 0;
  const minComponentShare = options.minComponentShare ?? 0.0005;
  const { width, height } = full;
  const pw = preview.width;
  const ph = preview.height;
  const sx = width / pw;
  const sy = height / ph;
  // With the whole image decoded, each row's backdrop is read from its own edges: one interpolated between preview
  // rows misses a sharp change (the edge of a leftover floor band) and would leave it as a line.
  const whole = window.left === 0 && window.top === 0 && window.width === width && window.height === height;
  const rowBackground = whole ? estimateRowBackground(window, preview.borderColor) : upsampleRowBackground(preview, height);
  const crop = refinementCrop(preview, full, band);
  if (!crop)
    return {
      crop: { left: 0, top: 0, width: 0, height: 0 },
      state: new Uint8Array(0),
      distance: new Uint8Array(0),
      runs: [],
      box: null,
      rowBackground,
    };
  if (
    crop.left < window.left ||
    crop.top < window.top ||
    crop.left + crop.width > window.left + window.width ||
    crop.top + crop.height > window.top + window.height
  ) {
    throw new Error("the decoded window does not cover the refinement crop");
  }
  const previewClass = classifyPreview(preview, band);

  const { left: cropLeft, top: cropTop, width: cw, height: ch } = crop;
  const columnGroups = previewColumnGroups(cropLeft, cw, pw, sx);
  // Runs and a row template per preview row, shared by the full-resolution rows it covers.
  const byPreviewRow = new Map<number, { runs: ClassRun[]; template: Uint8Array }>();
  const runs: ClassRun[][] = new Array(ch);
  // Every row is written from its template below.
  const state = takeCropArray(cw * ch);
  for (let y = 0; y < ch; y++) {
    const py = Math.min(ph - 1, Math.floor((cropTop + y) / sy));
    let row = byPreviewRow.get(py);
    if (!row) {
      row = previewRowRuns(previewClass, py * pw, columnGroups);
      byPreviewRow.set(py, row);
    }
    runs[y] = row.runs;
    state.set(row.template, y * cw);
  }

  const distance = takeCropArray(cw * ch).fill(0);
  const stride = window.width * 3;
  const span = Math.max(1, width - 1);
  for (let y = 0; y < ch; y++) {
    const fy = cropTop + y;
    outlineRowDistance(
      window.data,
      (fy - window.top) * stride - window.left * 3,
      runs[y]!,
      cropLeft,
      distance,
      y * cw,
      rowBackground,
      fy,
      span,
      chromaWeight,
    );
  }

  if (preview.litConcavities) keepLitConcavityShading(preview.litConcavities, runs, distance, crop, pw, ph, sx, sy);

  // Flood the backdrop into the outline from the exterior and from the crop's edge.
  const seeds: number[] = [];
  for (let y = 0; y < ch; y++) {
    const edgeRow = y === 0 || y === ch - 1;
    const checkAboveBelow = edgeRow || runs[y - 1] !== runs[y] || runs[y + 1] !== runs[y];
    rowSeeds(state, distance, threshold, runs[y]!, y, cw, edgeRow, checkAboveBelow, seeds);
  }
  scanlineFill(state, UNDECIDED, BACKGROUND, cw, seeds, distance, threshold);
  settleOutline(state, runs, cw, Math.max(16, Math.round(width * height * minComponentShare)));

  const cropBox = cropProductBox(state, runs, cw);
  const box = cropBox && { ...cropBox, left: cropLeft + cropBox.left, top: cropTop + cropBox.top };
  return { crop, state, distance, runs, box, rowBackground };
}
