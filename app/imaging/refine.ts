// Product segmentation at full resolution for the price of a preview: the product is found on a
// reduced copy, and full-resolution pixels are examined only in a thin band around its outline.
import type { RgbImage } from "./decode";
import { borderMedian, estimateRowBackground, type Box, type Segmentation } from "./segment";
import { scanlineFill } from "./scanline-fill";

/** Pixel states of the full-resolution crop. */
export const EXTERIOR = 0;
const UNDECIDED = 1;
export const PRODUCT = 2;
export const BACKGROUND = 3;
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

/** Area-averaged copy reduced by a whole factor so the longest side is at most `maxSide`. */
export function downsample(image: RgbImage, maxSide: number): { image: RgbImage; factor: number } {
  const { data, width, height } = image;
  const factor = Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
  if (factor === 1) return { image, factor };
  const pw = Math.ceil(width / factor);
  const ph = Math.ceil(height / factor);
  const out = new Uint8Array(pw * ph * 3);
  const sums = new Uint32Array(pw * 3);
  for (let py = 0; py < ph; py++) {
    sums.fill(0);
    const y0 = py * factor;
    const y1 = Math.min(height, y0 + factor);
    for (let y = y0; y < y1; y++) {
      let i = y * width * 3;
      for (let px = 0; px < pw; px++) {
        const x1 = Math.min(width, (px + 1) * factor);
        let r = 0;
        let g = 0;
        let b = 0;
        for (let x = px * factor; x < x1; x++, i += 3) {
          r += data[i]!;
          g += data[i + 1]!;
          b += data[i + 2]!;
        }
        const s = px * 3;
        sums[s]! += r;
        sums[s + 1]! += g;
        sums[s + 2]! += b;
      }
    }
    const rows = y1 - y0;
    for (let px = 0; px < pw; px++) {
      const n = rows * (Math.min(width, (px + 1) * factor) - px * factor);
      const s = px * 3;
      const o = (py * pw + px) * 3;
      out[o] = Math.round(sums[s]! / n);
      out[o + 1] = Math.round(sums[s + 1]! / n);
      out[o + 2] = Math.round(sums[s + 2]! / n);
    }
  }
  return { image: { data: out, width: pw, height: ph }, factor };
}

/** 1 where a square of radius `radius` around the pixel holds a pixel with `mask[p] === value`. */
function dilate(mask: Uint8Array, value: number, width: number, height: number, radius: number): Uint8Array {
  const rows = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    let last = -Infinity;
    for (let x = 0; x < width; x++) {
      if (mask[o + x] === value) last = x;
      if (x - last <= radius) rows[o + x] = 1;
    }
    last = Infinity;
    for (let x = width - 1; x >= 0; x--) {
      if (mask[o + x] === value) last = x;
      if (last - x <= radius) rows[o + x] = 1;
    }
  }
  const out = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) {
    let last = -Infinity;
    for (let y = 0; y < height; y++) {
      if (rows[y * width + x] === 1) last = y;
      if (y - last <= radius) out[y * width + x] = 1;
    }
    last = Infinity;
    for (let y = height - 1; y >= 0; y--) {
      if (rows[y * width + x] === 1) last = y;
      if (last - y <= radius) out[y * width + x] = 1;
    }
  }
  return out;
}

/**
 * Refines a preview segmentation on the full image. Preview pixels whose neighbourhood (radius
 * `band`) is all product are product, all background are background; the rest, the outline, is
 * decided pixel by pixel at full resolution with the same rule as the preview: background is what
 * the border reaches through pixels close to the backdrop colour.
 */
export function refineSegmentation(
  full: RgbImage,
  preview: Segmentation,
  threshold: number,
  options: { band?: number; minComponentShare?: number } = {},
): RefinedSegmentation {
  const band = options.band ?? 2;
  const minComponentShare = options.minComponentShare ?? 0.0005;
  const { data, width, height } = full;
  const pw = preview.width;
  const ph = preview.height;
  const sx = width / pw;
  const sy = height / ph;
  const rowBackground = estimateRowBackground(full, borderMedian(full, Math.max(2, Math.round(Math.min(width, height) * 0.004))));
  const emptyCrop = { left: 0, top: 0, width: 0, height: 0 };
  if (!preview.box) return { crop: emptyCrop, state: new Uint8Array(0), distance: new Uint8Array(0), runs: [], box: null, rowBackground };

  // Preview classes: 0 exterior, 1 outline, 2 interior.
  const nearProduct = dilate(preview.product, 1, pw, ph, band);
  const nearBackground = dilate(preview.product, 0, pw, ph, band);
  const previewClass = new Uint8Array(pw * ph);
  for (let p = 0; p < previewClass.length; p++) {
    previewClass[p] = nearProduct[p] === 0 ? EXTERIOR : nearBackground[p] === 0 ? PRODUCT : UNDECIDED;
  }

  const pb = preview.box;
  const pl = Math.max(0, pb.left - band - 1);
  const pt = Math.max(0, pb.top - band - 1);
  const pr = Math.min(pw, pb.left + pb.width + band + 1);
  const pbm = Math.min(ph, pb.top + pb.height + band + 1);
  const cropLeft = Math.floor(pl * sx);
  const cropTop = Math.floor(pt * sy);
  const cropRight = pr === pw ? width : Math.floor(pr * sx);
  const cropBottom = pbm === ph ? height : Math.floor(pbm * sy);
  const crop = { left: cropLeft, top: cropTop, width: cropRight - cropLeft, height: cropBottom - cropTop };
  const cw = crop.width;
  const ch = crop.height;

  const columnToPreview = new Int32Array(cw);
  for (let x = 0; x < cw; x++) columnToPreview[x] = Math.min(pw - 1, Math.floor((cropLeft + x) / sx));
  // Runs and a row template per preview row, shared by the full-resolution rows it covers.
  const runsByPreviewRow = new Map<number, { runs: ClassRun[]; template: Uint8Array }>();
  const runs: ClassRun[][] = new Array(ch);
  const state = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    const py = Math.min(ph - 1, Math.floor((cropTop + y) / sy));
    let row = runsByPreviewRow.get(py);
    if (!row) {
      const template = new Uint8Array(cw);
      const rowRuns: ClassRun[] = [];
      let start = 0;
      let kind = previewClass[py * pw + columnToPreview[0]!]!;
      for (let x = 1; x <= cw; x++) {
        const k = x < cw ? previewClass[py * pw + columnToPreview[x]!]! : -1;
        if (k !== kind) {
          rowRuns.push({ start, end: x, kind });
          template.fill(kind, start, x);
          start = x;
          kind = k;
        }
      }
      row = { runs: rowRuns, template };
      runsByPreviewRow.set(py, row);
    }
    runs[y] = row.runs;
    state.set(row.template, y * cw);
  }

  // Distance from the backdrop, for outline pixels only.
  const distance = new Uint8Array(cw * ch);
  const span = Math.max(1, width - 1);
  for (let y = 0; y < ch; y++) {
    const fy = cropTop + y;
    const o = fy * 6;
    const lr = rowBackground[o]!;
    const lg = rowBackground[o + 1]!;
    const lb = rowBackground[o + 2]!;
    const dr = (rowBackground[o + 3]! - lr) / span;
    const dg = (rowBackground[o + 4]! - lg) / span;
    const db = (rowBackground[o + 5]! - lb) / span;
    for (const run of runs[y]!) {
      if (run.kind !== UNDECIDED) continue;
      for (let x = run.start; x < run.end; x++) {
        const fx = cropLeft + x;
        const i = (fy * width + fx) * 3;
        let d = data[i]! - (lr + dr * fx);
        if (d < 0) d = -d;
        let e = data[i + 1]! - (lg + dg * fx);
        if (e < 0) e = -e;
        if (e > d) d = e;
        e = data[i + 2]! - (lb + db * fx);
        if (e < 0) e = -e;
        if (e > d) d = e;
        distance[y * cw + x] = d > 255 ? 255 : d;
      }
    }
  }

  // Flood the backdrop into the outline from the exterior and from the image border.
  const open = (p: number) => state[p] === UNDECIDED && distance[p]! < threshold;
  const stack: number[] = [];
  for (let y = 0; y < ch; y++) {
    for (const run of runs[y]!) {
      if (run.kind !== UNDECIDED) continue;
      for (let x = run.start; x < run.end; x++) {
        const p = y * cw + x;
        if (!open(p)) continue;
        // Beyond the crop is exterior too (or the image border).
        const seed =
          x === 0 ||
          y === 0 ||
          x === cw - 1 ||
          y === ch - 1 ||
          state[p - 1] === EXTERIOR ||
          state[p + 1] === EXTERIOR ||
          state[p - cw] === EXTERIOR ||
          state[p + cw] === EXTERIOR;
        if (seed) stack.push(p);
      }
    }
  }
  scanlineFill(state, BACKGROUND, cw, stack, open);

  // What the backdrop did not reach is product, except specks: outline pieces not joined to the
  // product's interior and smaller than `minArea` (dust, a stray dark pixel), as in the preview.
  const minArea = Math.max(16, Math.round(width * height * minComponentShare));
  const spans: number[] = [];
  for (let y = 0; y < ch; y++) {
    for (const run of runs[y]!) {
      if (run.kind !== UNDECIDED) continue;
      for (let x = run.start; x < run.end; x++) {
        if (state[y * cw + x] !== UNDECIDED) continue;
        spans.length = 0;
        stack.push(y * cw + x);
        let count = 0;
        let joined = false;
        while (stack.length > 0) {
          const p = stack.pop()!;
          if (state[p] !== UNDECIDED) continue;
          const row = p - (p % cw);
          let left = p;
          while (left > row && state[left - 1] === UNDECIDED) left--;
          let right = p;
          while (right < row + cw - 1 && state[right + 1] === UNDECIDED) right++;
          state.fill(PENDING, left, right + 1);
          spans.push(left, right);
          count += right - left + 1;
          if ((left > row && state[left - 1] === PRODUCT) || (right < row + cw - 1 && state[right + 1] === PRODUCT)) joined = true;
          for (const neighbourRow of [row - cw, row + cw]) {
            if (neighbourRow < 0 || neighbourRow >= state.length) continue;
            let inRun = false;
            for (let q = neighbourRow + (left - row); q <= neighbourRow + (right - row); q++) {
              const k = state[q];
              if (k === PRODUCT) joined = true;
              if (k === UNDECIDED) {
                if (!inRun) stack.push(q);
                inRun = true;
              } else inRun = false;
            }
          }
        }
        const kind = joined || count >= minArea ? PRODUCT : BACKGROUND;
        for (let i = 0; i < spans.length; i += 2) state.fill(kind, spans[i]!, spans[i + 1]! + 1);
      }
    }
  }

  // The product's full-resolution box.
  let minX = cw;
  let minY = ch;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < ch; y++) {
    for (const run of runs[y]!) {
      if (run.kind === PRODUCT) {
        if (run.start < minX) minX = run.start;
        if (run.end - 1 > maxX) maxX = run.end - 1;
        if (y < minY) minY = y;
        maxY = y;
      } else if (run.kind === UNDECIDED) {
        const o = y * cw;
        for (let x = run.start; x < run.end; x++) {
          if (state[o + x] !== PRODUCT) continue;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          maxY = y;
        }
      }
    }
  }
  const box = maxX < 0 ? null : { left: cropLeft + minX, top: cropTop + minY, width: maxX - minX + 1, height: maxY - minY + 1 };
  return { crop, state, distance, runs, box, rowBackground };
}
