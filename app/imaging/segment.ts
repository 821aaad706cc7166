import type { RgbImage } from "./decode";
import { close } from "./morphology";
import type { Box, Rgb } from "./pipelines";

export type { Box };

export interface SegmentOptions {
  /** Max-channel distance from the local background above which a pixel is product (0..255). */
  threshold: number;
  /** Components smaller than this share of the image are specks, not product (default 0.0005). */
  minComponentShare?: number;
  /** Weight of a pixel's tint against the backdrop's in its distance (see backdropDistance); default 0, lightness only. */
  chromaWeight?: number;
  /**
   * An enclosed gap (between a strap and the body, a hanger and a shoulder) counts as background when most of its
   * pixels are within this distance of the backdrop: the backdrop showing through, not a pale part of the product.
   * Default: enclosed gaps are product (a white label).
   */
  backdropGapDistance?: number;
  /**
   * How far (a share of the image's longer side) the product's outline is closed over to find its lit concavities (see
   * litConcavities); needs backdropGapDistance. Default: none are looked for.
   */
  litConcavityReach?: number;
}

/** Share of an enclosed gap's pixels that must be within backdropGapDistance for it to be backdrop. */
const BACKDROP_GAP_SHARE = 0.7;

/**
 * Joins to the border (run 0) every enclosed component of `open` whose pixels are mostly within `within` of the
 * backdrop, so it is background like the backdrop around the product.
 */
function joinBackdropGaps(open: RowRuns, distance: Uint8Array, width: number, within: number): void {
  open.joinRows();
  open.joinBorder(width);
  const { start, end, first } = open;
  const near = new Float64Array(open.count);
  const size = new Float64Array(open.count);
  for (let y = 0; y < open.height; y++) {
    for (let r = first[y]!; r < first[y + 1]!; r++) {
      const root = open.find(r);
      if (root === 0) continue;
      size[root]! += end[r]! - start[r]!;
      for (let p = y * width + start[r]!; p < y * width + end[r]!; p++) if (distance[p]! <= within) near[root]!++;
    }
  }
  for (let r = 1; r < open.count; r++) if (size[r]! > 0 && near[r]! >= size[r]! * BACKDROP_GAP_SHARE) open.union(0, r);
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
  /**
   * Lit concavities of the product's outline (1 per pixel, see litConcavities), where a pixel is background only within
   * `within` of the backdrop; null when there are none.
   */
  litConcavities: { mask: Uint8Array; within: number } | null;
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
  const [r, g, b] = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  const ring = Math.max(1, Math.min(band, Math.floor(Math.min(width, height) / 2)));
  let count = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y < ring || y >= height - ring) {
      addToHistograms(data, row * 3, (row + width) * 3, r, g, b);
      count += width;
    } else {
      addToHistograms(data, row * 3, (row + ring) * 3, r, g, b);
      addToHistograms(data, (row + width - ring) * 3, (row + width) * 3, r, g, b);
      count += ring * 2;
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
  return [median(r), median(g), median(b)];
}

const maxDiff = (a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number) =>
  Math.max(Math.abs(a[ai]! - b[bi]!), Math.abs(a[ai + 1]! - b[bi + 1]!), Math.abs(a[ai + 2]! - b[bi + 2]!));

/**
 * Distance of a pixel (r, g, b) from the backdrop (br, bg, bb): the largest channel difference, or its tint
 * difference times `chromaWeight` when that is larger. A shadow or the backdrop's own grain darkens or lightens
 * every channel alike, so their tint difference is about 0; a pale product (a light blue shirt on off-white) differs
 * from the backdrop more in tint than in lightness. Tint difference: the spread of the three signed differences.
 */
function backdropDistance(r: number, g: number, b: number, br: number, bg: number, bb: number, chromaWeight: number): number {
  const dr = r - br;
  const dg = g - bg;
  const db = b - bb;
  const largest = Math.max(dr < 0 ? -dr : dr, dg < 0 ? -dg : dg, db < 0 ? -db : db);
  const tint = (Math.max(dr, dg, db) - Math.min(dr, dg, db)) * chromaWeight;
  const d = tint > largest ? tint : largest;
  return d > 255 ? 255 : d | 0;
}

/** backdropDistance for one row's pixels against its (graded) backdrop. */
function tintedRowDistance(
  data: Uint8Array,
  distance: Uint8Array,
  y: number,
  width: number,
  backdrop: RowBackdrop,
  chromaWeight: number,
): void {
  const { r, g, b, dr, dg, db } = backdrop;
  for (let x = 0, p = y * width, i = p * 3; x < width; x++, p++, i += 3) {
    distance[p] = backdropDistance(data[i]!, data[i + 1]!, data[i + 2]!, r + dr * x, g + dg * x, b + db * x, chromaWeight);
  }
}

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
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < 3; c++) left[c] = right[c] = 0;
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
    const o = y * 6;
    if (Math.min(leftOff, rightOff) > 64) {
      // Both edges covered by the product in this row: carry the row above (or the border colour).
      if (y > 0) rows.copyWithin(o, o - 6, o);
      else rows.set([...border, ...border], o);
    } else if (maxDiff(left, 0, right, 0) <= 40) {
      setColour(rows, o, left);
      setColour(rows, o + 3, right);
    } else {
      const side = leftOff <= rightOff ? left : right;
      setColour(rows, o, side);
      setColour(rows, o + 3, side);
    }
  }
  return rows;
}

/** rows.set(colour, at) for three channels, without the call into the runtime (it runs twice per row). */
function setColour(rows: Float32Array, at: number, colour: Float32Array): void {
  rows[at] = colour[0]!;
  rows[at + 1] = colour[1]!;
  rows[at + 2] = colour[2]!;
}

/** A row's backdrop: its colour at column 0 and its change per column (r, g, b each). */
export interface RowBackdrop {
  r: number;
  g: number;
  b: number;
  dr: number;
  dg: number;
  db: number;
  /** The same colour at every column: distances can come from a FlatBackdropTable. */
  flat: boolean;
}

/** Row `y`'s backdrop from estimateRowBackground's rows, interpolated over `span` columns (the image width less one). */
export function rowBackdrop(rowBackground: Float32Array, y: number, span: number): RowBackdrop {
  const o = y * 6;
  const r = rowBackground[o]!;
  const g = rowBackground[o + 1]!;
  const b = rowBackground[o + 2]!;
  const dr = (rowBackground[o + 3]! - r) / span;
  const dg = (rowBackground[o + 4]! - g) / span;
  const db = (rowBackground[o + 5]! - b) / span;
  return { r, g, b, dr, dg, db, flat: dr === 0 && dg === 0 && db === 0 };
}

/** Max-channel distance of one row's pixels from its (graded) backdrop. */
function rowDistance(data: Uint8Array, distance: Uint8Array, y: number, width: number, backdrop: RowBackdrop): void {
  const { r: lr, g: lg, b: lb, dr: sr, dg: sg, db: sb } = backdrop;
  let i = y * width * 3;
  let p = y * width;
  let br = lr;
  let bg = lg;
  let bb = lb;
  for (let x = 0; x < width; x++, i += 3, p++) {
    // Each channel's distance clamped and truncated as the Uint8Array store would (exact: that is
    // monotonic, so it commutes with the max), then an integer max without branches: Math.max of
    // floats branches, and the signs and order flip at random near the backdrop.
    let dr = Math.abs(data[i]! - br);
    let dg = Math.abs(data[i + 1]! - bg);
    let db = Math.abs(data[i + 2]! - bb);
    dr = (dr > 255 ? 255 : dr) | 0;
    dg = (dg > 255 ? 255 : dg) | 0;
    db = (db > 255 ? 255 : db) | 0;
    const drg = dr - ((dr - dg) & ((dr - dg) >> 31));
    distance[p] = drg - ((drg - db) & ((drg - db) >> 31));
    br += sr;
    bg += sg;
    bb += sb;
  }
}

/**
 * Distance of each channel value from a flat backdrop colour (r, g, b), as rowDistance stores it:
 * the table for channel c starts at c * 256. Exact for the max of the channels: storing into a
 * Uint8Array truncates, and truncating the largest of three distances gives the largest of the
 * three truncated ones.
 */
export class FlatBackdropTable {
  readonly table = new Uint8Array(768);
  private readonly colour = new Float64Array([NaN, NaN, NaN]);

  /** The table for backdrop (r, g, b), rebuilt only when the colour changes. */
  tableFor(r: number, g: number, b: number): Uint8Array {
    const { colour, table } = this;
    if (colour[0] === r && colour[1] === g && colour[2] === b) return table;
    colour.set([r, g, b]);
    for (let v = 0; v < 256; v++) {
      const dr = Math.abs(v - r);
      const dg = Math.abs(v - g);
      const db = Math.abs(v - b);
      table[v] = dr > 255 ? 255 : dr;
      table[256 + v] = dg > 255 ? 255 : dg;
      table[512 + v] = db > 255 ? 255 : db;
    }
    return table;
  }
}

/**
 * rowDistance for a row whose backdrop is the same at both edges, by table; also adds the row's runs
 * of pixels below `below` to `open`. Exact: storing into a Uint8Array truncates, and truncating the
 * largest of three distances gives the largest of the three truncated ones.
 */
function flatRowDistance(
  data: Uint8Array,
  distance: Uint8Array,
  y: number,
  width: number,
  table: Uint8Array,
  below: number,
  open: RowRuns,
): void {
  let start = -1;
  for (let x = 0, p = y * width, i = p * 3; x < width; x++, p++, i += 3) {
    const dr = table[data[i]!]!;
    const dg = table[256 + data[i + 1]!]!;
    const db = table[512 + data[i + 2]!]!;
    const drg = dr > dg ? dr : dg;
    const d = drg > db ? drg : db;
    distance[p] = d;
    if (d < below) {
      if (start < 0) start = x;
    } else if (start >= 0) {
      open.add(start, x);
      start = -1;
    }
  }
  if (start >= 0) open.add(start, width);
}

/**
 * Max-channel distance of every pixel from the background, interpolated between the row's edges,
 * and the runs of pixels whose distance is below `below`.
 */
function distanceAndOpenRuns(
  image: RgbImage,
  rowBackground: Float32Array,
  below: number,
  chromaWeight: number,
): { distance: Uint8Array; open: RowRuns } {
  const { data, width, height } = image;
  const distance = new Uint8Array(width * height);
  const open = new RowRuns(height);
  const flat = new FlatBackdropTable();
  const span = Math.max(1, width - 1);
  for (let y = 0; y < height; y++) {
    const backdrop = rowBackdrop(rowBackground, y, span);
    if (chromaWeight > 0) {
      tintedRowDistance(data, distance, y, width, backdrop, chromaWeight);
      addRunsBelow(distance, width, y, below, open);
    } else if (backdrop.flat) {
      flatRowDistance(data, distance, y, width, flat.tableFor(backdrop.r, backdrop.g, backdrop.b), below, open);
    } else {
      rowDistance(data, distance, y, width, backdrop);
      addRunsBelow(distance, width, y, below, open);
    }
    open.endRow(y);
  }
  return { distance, open };
}

/**
 * Horizontal runs of pixels, row by row (row y's runs are `first[y]..first[y + 1]`, x from `start` to
 * `end` exclusive), which joinRows joins into 4-connected components by a union-find: the same
 * components as a flood fill's, found without visiting each pixel again. Run 0 is not a run of pixels
 * but the image border (see joinBorder). A union keeps the smaller run number as the root, so the
 * border's root stays 0 and any other component's root is its topmost run.
 */
export class RowRuns {
  start: Int32Array;
  end: Int32Array;
  parent: Int32Array;
  readonly first: Int32Array;
  count = 1;

  constructor(readonly height: number) {
    const capacity = height * 2 + 16;
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.first = new Int32Array(height + 1).fill(1);
  }

  add(start: number, end: number): void {
    if (this.count === this.start.length) this.grow();
    const r = this.count++;
    this.start[r] = start;
    this.end[r] = end;
    this.parent[r] = r;
  }

  /** Closes row y: its runs are the ones added since the previous row. */
  endRow(y: number): void {
    this.first[y + 1] = this.count;
  }

  private grow(): void {
    const capacity = this.start.length * 2;
    const widen = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.start = widen(this.start);
    this.end = widen(this.end);
    this.parent = widen(this.parent);
  }

  find(r: number): number {
    const parent = this.parent;
    while (parent[r] !== r) {
      const grandparent = parent[parent[r]!]!;
      parent[r] = grandparent;
      r = grandparent;
    }
    return r;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }

  /** Joins the runs of each row to the overlapping runs of the row above. */
  joinRows(): void {
    const { start, end, first } = this;
    for (let y = 1; y < this.height; y++) {
      let a = first[y - 1]!;
      const aEnd = first[y]!;
      let b = aEnd;
      const bEnd = first[y + 1]!;
      while (a < aEnd && b < bEnd) {
        if (end[a]! > start[b]! && end[b]! > start[a]!) this.union(a, b);
        if (end[a]! <= end[b]!) a++;
        else b++;
      }
    }
  }

  /** Joins the runs that touch the image border to run 0. */
  joinBorder(width: number): void {
    const { start, end, first, height } = this;
    for (let y = 0; y < height; y++) {
      const edgeRow = y === 0 || y === height - 1;
      for (let r = first[y]!; r < first[y + 1]!; r++) {
        if (edgeRow || start[r] === 0 || end[r] === width) this.union(0, r);
      }
    }
  }

  /** Bounding box of the runs, or null when there are none. */
  boundingBox(): Box | null {
    const { start, end, first } = this;
    let left = Infinity;
    let right = -1;
    let top = -1;
    let bottom = -1;
    for (let y = 0; y < this.height; y++) {
      if (first[y] === first[y + 1]) continue;
      if (top < 0) top = y;
      bottom = y;
      for (let r = first[y]!; r < first[y + 1]!; r++) {
        left = Math.min(left, start[r]!);
        right = Math.max(right, end[r]! - 1);
      }
    }
    return top < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
  }

  /** Sets `mask` to `value` over every run. */
  paint(mask: Uint8Array, width: number, value: number): void {
    for (let y = 0; y < this.height; y++) {
      for (let r = this.first[y]!; r < this.first[y + 1]!; r++) mask.fill(value, y * width + this.start[r]!, y * width + this.end[r]!);
    }
  }
}

/** Adds the runs of row `y` whose `level` is below `below`. */
function addRunsBelow(level: Uint8Array, width: number, y: number, below: number, runs: RowRuns): void {
  const row = y * width;
  let x = 0;
  while (x < width) {
    while (x < width && level[row + x]! >= below) x++;
    if (x === width) break;
    const start = x;
    while (x < width && level[row + x]! < below) x++;
    runs.add(start, x);
  }
}

/** The pixels the image border cannot reach (4-connected) through the `open` runs, as runs. */
function unreachedRuns(open: RowRuns, width: number): RowRuns {
  open.joinRows();
  open.joinBorder(width);
  // The rest of each row lies between the runs the border reached.
  const unreached = new RowRuns(open.height);
  for (let y = 0; y < open.height; y++) {
    let x = 0;
    for (let r = open.first[y]!; r < open.first[y + 1]!; r++) {
      if (open.find(r) !== 0) continue;
      if (open.start[r]! > x) unreached.add(x, open.start[r]!);
      x = open.end[r]!;
    }
    if (x < width) unreached.add(x, width);
    unreached.endRow(y);
  }
  return unreached;
}

/** The product without specks (dust, noise): its mask (1 = product), area and bounding box. */
function keepSignificantComponents(
  product: RowRuns,
  width: number,
  height: number,
  minArea: number,
): { mask: Uint8Array; area: number; box: Box | null } {
  product.joinRows();
  // Size and extent of each component, kept at its root (its topmost run).
  const n = product.count;
  const size = new Int32Array(n);
  const minX = new Int32Array(n).fill(width);
  const maxX = new Int32Array(n).fill(-1);
  const maxY = new Int32Array(n);
  const root = new Int32Array(n);
  const { start, end, first } = product;
  for (let y = 0; y < height; y++) {
    for (let r = first[y]!; r < first[y + 1]!; r++) {
      const c = product.find(r);
      root[r] = c;
      size[c]! += end[r]! - start[r]!;
      if (start[r]! < minX[c]!) minX[c] = start[r]!;
      if (end[r]! - 1 > maxX[c]!) maxX[c] = end[r]! - 1;
      maxY[c] = y;
    }
  }
  const mask = new Uint8Array(width * height);
  let area = 0;
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let r = first[y]!; r < first[y + 1]!; r++) {
      const c = root[r]!;
      if (size[c]! < minArea) continue;
      mask.fill(1, y * width + start[r]!, y * width + end[r]!);
      if (c !== r) continue;
      area += size[c]!;
      left = Math.min(left, minX[c]!);
      top = Math.min(top, y);
      right = Math.max(right, maxX[c]!);
      bottom = Math.max(bottom, maxY[c]!);
    }
  }
  const box = right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
  return { mask, area, box };
}

/** Finds the product: the part of the image that is not the (possibly graded) backdrop. */
export function segmentProduct(image: RgbImage, options: SegmentOptions): Segmentation {
  const { width, height } = image;
  const borderColor = borderMedian(image, Math.max(2, Math.round(Math.min(width, height) * 0.004)));
  const rowBackground = estimateRowBackground(image, borderColor);
  // Product = everything the image border does not reach through pixels close to the background
  // colour, so light areas enclosed by the product (a white label) stay product.
  const { distance, open } = distanceAndOpenRuns(image, rowBackground, options.threshold, options.chromaWeight ?? 0);
  const minArea = Math.max(16, Math.round(width * height * (options.minComponentShare ?? 0.0005)));
  if (options.backdropGapDistance !== undefined) joinBackdropGaps(open, distance, width, options.backdropGapDistance);
  const { mask: product, area, box } = keepSignificantComponents(unreachedRuns(open, width), width, height, minArea);
  const { backdropGapDistance: within, litConcavityReach: reach } = options;
  const radius = reach === undefined ? 0 : Math.max(1, Math.round(Math.max(width, height) * reach));
  const lit = within !== undefined && radius > 0 ? litConcavities(image, product, distance, rowBackground, radius, within) : null;
  return {
    width,
    height,
    product,
    distance,
    box,
    area: area + (lit?.added ?? 0),
    borderColor,
    rowBackground,
    litConcavities: lit && { mask: lit.mask, within: lit.within },
  };
}

/** A lit concavity has pixels brighter than the backdrop by this much in every channel (levels) ... */
const LIT_LEVELS = 3;
/** ... on at least this share of its pixels. */
const LIT_SHARE = 0.05;

/**
 * A white product's highlights are as pale as the backdrop, so where one reaches the product's outline the backdrop
 * floods into it and into the shading around it, which is as close to the backdrop as a shadow (a white shirt lost
 * bands of its front, with hard edges). Such a highlight is brighter than the backdrop, which neither the backdrop nor
 * a shadow ever is. So in each concavity of the outline (the outline closed by `radius` px, less the product) with
 * enough pixels brighter than its rows' backdrop, only the pixels within `within` of the backdrop stay background and
 * the rest become product (in `product`, in place). Other concavities (between legs, under a hem, with a contact
 * shadow in them) are left as they are. Returns the lit concavities and how many pixels became product.
 */
function litConcavities(
  image: RgbImage,
  product: Uint8Array,
  distance: Uint8Array,
  rowBackground: Float32Array,
  radius: number,
  within: number,
): { mask: Uint8Array; within: number; added: number } | null {
  const { data, width, height } = image;
  const closed = close(product, width, height, radius);
  const concavities = new RowRuns(height);
  for (let y = 0; y < height; y++) {
    let start = -1;
    for (let x = 0, p = y * width; x <= width; x++, p++) {
      const inside = x < width && closed[p] === 1 && product[p] === 0;
      if (inside && start < 0) start = x;
      else if (!inside && start >= 0) {
        concavities.add(start, x);
        start = -1;
      }
    }
    concavities.endRow(y);
  }
  concavities.joinRows();
  const size = new Int32Array(concavities.count);
  const lit = new Int32Array(concavities.count);
  const span = Math.max(1, width - 1);
  const { start, end, first } = concavities;
  for (let y = 0; y < height; y++) {
    const { r, g, b, dr, dg, db } = rowBackdrop(rowBackground, y, span);
    for (let run = first[y]!; run < first[y + 1]!; run++) {
      const root = concavities.find(run);
      size[root]! += end[run]! - start[run]!;
      for (let x = start[run]!, i = (y * width + x) * 3; x < end[run]!; x++, i += 3) {
        if (data[i]! - (r + dr * x) >= LIT_LEVELS && data[i + 1]! - (g + dg * x) >= LIT_LEVELS && data[i + 2]! - (b + db * x) >= LIT_LEVELS)
          lit[root]!++;
      }
    }
  }
  const mask = new Uint8Array(width * height);
  let added = 0;
  let any = false;
  for (let y = 0; y < height; y++) {
    for (let run = first[y]!; run < first[y + 1]!; run++) {
      const root = concavities.find(run);
      if (lit[root]! < Math.max(2, size[root]! * LIT_SHARE)) continue;
      any = true;
      for (let p = y * width + start[run]!; p < y * width + end[run]!; p++) {
        mask[p] = 1;
        if (distance[p]! > within) {
          product[p] = 1;
          added++;
        }
      }
    }
  }
  return any ? { mask, within, added } : null;
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
