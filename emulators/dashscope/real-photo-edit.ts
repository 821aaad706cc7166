// How the stand-in edits a real product photo of the corpus (../shared/corpus/real-photos): like a generative
// editor, it cuts the product out with the corpus mask (what a segmentation network sees as the product), centres
// it on an off-white, slightly noisy backdrop, and re-renders it with the small differences such a model makes
// even when it keeps the product. Alteration modes change the product the ways such models do.
// The stand-in, the tests and the benches all compose edits here, so they measure the same thing.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { prng } from "../fixtures/prng";

export const REAL_PHOTO_ALTERATIONS = [
  "recoloured-patch",
  "garbled-text",
  "missing-part",
  "added-object",
  "hue-shift",
  "stretched",
] as const;
export type RealPhotoAlteration = (typeof REAL_PHOTO_ALTERATIONS)[number];

export interface CorpusEntry {
  id: string;
  photo: string;
  mask: string;
  category: string;
  width: number;
  height: number;
  maskCoverage: number;
}

export interface RealPhotoCorpus {
  dir: string;
  entries: CorpusEntry[];
}

/** The shared corpus next to the checkout, or REAL_PHOTO_CORPUS. */
export function defaultCorpusDir(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
  return process.env.REAL_PHOTO_CORPUS || resolve(repoRoot, "../shared/corpus/real-photos");
}

export async function loadCorpus(dir = defaultCorpusDir()): Promise<RealPhotoCorpus> {
  let index: string;
  try {
    index = await readFile(join(dir, "index.json"), "utf8");
  } catch (cause) {
    throw new Error(
      `The real-photo corpus is not at ${dir} (no index.json there). Put it at ../shared/corpus/real-photos next to the checkout, or set REAL_PHOTO_CORPUS to the folder that holds index.json, photos/ and masks/.`,
      { cause },
    );
  }
  return { dir, entries: JSON.parse(index) as CorpusEntry[] };
}

export async function readCorpusEntry(corpus: RealPhotoCorpus, entry: CorpusEntry): Promise<{ photo: Buffer; mask: Buffer }> {
  const [photo, mask] = await Promise.all([readFile(join(corpus.dir, entry.photo)), readFile(join(corpus.dir, entry.mask))]);
  return { photo, mask };
}

/**
 * 64-bit difference hash (brightness gradient signs on a 9 x 8 grey thumbnail): the same photo resized,
 * re-encoded or slightly recoloured keeps nearly every bit, while another photo differs in about half.
 */
export async function perceptualHash(image: Buffer): Promise<bigint> {
  const grey = await sharp(image, { autoOrient: true })
    .flatten({ background: "#ffffff" })
    .greyscale()
    .resize(9, 8, { fit: "fill" })
    .raw()
    .toBuffer();
  let hash = 0n;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) hash = (hash << 1n) | (grey[y * 9 + x]! < grey[y * 9 + x + 1]! ? 1n : 0n);
  return hash;
}

function hammingDistance(a: bigint, b: bigint): number {
  let v = a ^ b;
  let count = 0;
  while (v) {
    count += Number(v & 1n);
    v >>= 1n;
  }
  return count;
}

/** Bits two hashes of the same photo may differ in; unrelated photos differ in ~32. */
const SAME_PHOTO_BITS = 8;

/** Finds the corpus photo an input shows (resized and re-encoded as the app sends it), by hash and aspect ratio. */
export class CorpusMatcher {
  private constructor(
    readonly corpus: RealPhotoCorpus,
    private readonly hashes: bigint[],
  ) {}

  static async build(corpus: RealPhotoCorpus): Promise<CorpusMatcher> {
    const hashes: bigint[] = [];
    for (const entry of corpus.entries) hashes.push(await perceptualHash(await readFile(join(corpus.dir, entry.photo))));
    return new CorpusMatcher(corpus, hashes);
  }

  async find(input: Buffer): Promise<CorpusEntry | null> {
    const { width = 0, height = 0, autoOrient } = await sharp(input).metadata();
    const aspect = (autoOrient?.width ?? width) / (autoOrient?.height ?? height);
    const hash = await perceptualHash(input);
    let best: CorpusEntry | null = null;
    let bestBits = SAME_PHOTO_BITS + 1;
    this.corpus.entries.forEach((entry, i) => {
      if (Math.abs(entry.width / entry.height / aspect - 1) > 0.02) return;
      const bits = hammingDistance(hash, this.hashes[i]!);
      if (bits < bestBits) {
        best = entry;
        bestBits = bits;
      }
    });
    return best;
  }
}

/** The stand-in's seed when it is given none (as `npm run demo` starts it). */
export const DEFAULT_STAND_IN_SEED = 1;

/**
 * The stand-in's draw for one corpus photo's edit: what it alters (when asked to alter) and the edit's seed, drawn from
 * the photo and the stand-in's own seed, not from the order requests arrive in, so a run's figures repeat.
 */
export function standInDraw(
  entryId: string,
  standInSeed: number,
  alter: boolean,
): { alteration: RealPhotoAlteration | null; seed: number } {
  const draw = prng((standInSeed * 2654435761) ^ createHash("sha256").update(entryId).digest().readUInt32LE(0));
  const alteration = alter ? REAL_PHOTO_ALTERATIONS[Math.floor(draw() * REAL_PHOTO_ALTERATIONS.length)]! : null;
  return { alteration, seed: Math.floor(draw() * 2 ** 31) };
}

export interface RealPhotoEditOptions {
  size: { width: number; height: number };
  seed: number;
  /** A soft contact shadow under the product (default: chosen by the seed). */
  shadow?: boolean;
  /** A faint band of the original's floor left under the product (default: none). */
  floorBand?: boolean;
  alteration?: RealPhotoAlteration | null;
}

export interface RealPhotoEdit {
  png: Buffer;
  width: number;
  height: number;
  alteration: RealPhotoAlteration | null;
  /** Where the product was drawn: its opacity per pixel of the edit (0..255), for measuring what post-processing keeps. */
  productMask: Uint8Array;
  /** The box of the contact shadow painted under the product, or null. */
  shadowBox: Rect | null;
}

interface Plane {
  /** RGB, 3 bytes a pixel. */
  rgb: Float32Array;
  /** Product opacity 0..1. */
  alpha: Float32Array;
  width: number;
  height: number;
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

function alphaBox(alpha: Float32Array, width: number, height: number, min = 0.5): Rect | null {
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (alpha[y * width + x]! < min) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** Mean colour of the product and its chroma (max - min channel). */
function productColour(plane: Plane): { mean: [number, number, number]; chroma: number } {
  const sum = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < plane.alpha.length; p++) {
    if (plane.alpha[p]! < 0.5) continue;
    for (let c = 0; c < 3; c++) sum[c]! += plane.rgb[p * 3 + c]!;
    n++;
  }
  const mean = sum.map((s) => s / Math.max(1, n)) as [number, number, number];
  return { mean, chroma: Math.max(...mean) - Math.min(...mean) };
}

/** A saturated colour far from `colour` (its opposite hue, or a strong red/blue for greys). */
function contrastingColour(colour: [number, number, number], random: () => number): [number, number, number] {
  const palette: [number, number, number][] = [
    [210, 30, 40],
    [30, 90, 210],
    [40, 170, 60],
    [240, 200, 30],
    [150, 40, 170],
  ];
  const far = palette.filter((p) => Math.max(...p.map((v, c) => Math.abs(v - colour[c]!))) > 110);
  const choice = far.length ? far : palette;
  return choice[Math.floor(random() * choice.length)]!;
}

/** Rotates the hue of (r, g, b) by `degrees` (rotation about the grey axis). */
function rotateHue(r: number, g: number, b: number, degrees: number): [number, number, number] {
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const k = (1 - cos) / 3;
  const s = Math.sqrt(1 / 3) * sin;
  return [r * (cos + k) + g * (k - s) + b * (k + s), r * (k + s) + g * (cos + k) + b * (k - s), r * (k - s) + g * (k + s) + b * (cos + k)];
}

/** A window of the product (fully inside it) with the most detail: where a print or label would be. */
function detailedWindow(plane: Plane, box: Rect, share: number): Rect {
  const { rgb, alpha, width } = plane;
  const w = Math.max(4, Math.round(box.width * share));
  const h = Math.max(4, Math.round(box.height * share * 0.7));
  let best: Rect = {
    left: box.left + Math.round((box.width - w) / 2),
    top: box.top + Math.round((box.height - h) / 3),
    width: w,
    height: h,
  };
  let bestScore = -1;
  const step = Math.max(2, Math.round(Math.min(w, h) / 4));
  for (let top = box.top; top + h <= box.top + box.height; top += step) {
    for (let left = box.left; left + w <= box.left + box.width; left += step) {
      let inside = 0;
      let detail = 0;
      for (let y = top; y < top + h; y += 2) {
        for (let x = left; x < left + w - 1; x += 2) {
          const p = y * width + x;
          if (alpha[p]! < 0.9 || alpha[p + 1]! < 0.9) continue;
          inside++;
          detail += Math.abs(rgb[p * 3]! - rgb[p * 3 + 3]!) + Math.abs(rgb[p * 3 + 1]! - rgb[p * 3 + 4]!);
        }
      }
      const total = Math.ceil(h / 2) * Math.ceil((w - 1) / 2);
      if (inside < total * 0.9) continue;
      if (detail > bestScore) {
        bestScore = detail;
        best = { left, top, width: w, height: h };
      }
    }
  }
  return best;
}

function alter(plane: Plane, kind: RealPhotoAlteration, random: () => number): void {
  const { rgb, alpha, width, height } = plane;
  const box = alphaBox(alpha, width, height)!;
  const { mean, chroma } = productColour(plane);
  const inside = (p: number) => alpha[p]! >= 0.5;
  switch (kind) {
    case "recoloured-patch": {
      const patch = detailedWindow(plane, box, 0.3 + random() * 0.08);
      const colour = contrastingColour(mean, random);
      for (let y = patch.top; y < patch.top + patch.height; y++) {
        for (let x = patch.left; x < patch.left + patch.width; x++) {
          const p = y * width + x;
          if (!inside(p)) continue;
          const shade = (rgb[p * 3]! + rgb[p * 3 + 1]! + rgb[p * 3 + 2]!) / 3 / Math.max(1, (mean[0] + mean[1] + mean[2]) / 3);
          for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.min(255, colour[c]! * (0.6 + 0.4 * Math.min(1.5, shade)));
        }
      }
      return;
    }
    case "garbled-text": {
      // The most detailed window (a print, a label) is scrambled in blocks, or blurred away when it has little detail.
      const area = detailedWindow(plane, box, 0.32);
      const tile = Math.max(3, Math.round(area.width / 6));
      const columns = Math.floor(area.width / tile);
      const rows = Math.floor(area.height / tile);
      const copy = rgb.slice();
      const order = Array.from({ length: columns * rows }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let t = 0; t < order.length; t++) {
        const from = order[t]!;
        const fx = area.left + (from % columns) * tile;
        const fy = area.top + Math.floor(from / columns) * tile;
        const tx = area.left + (t % columns) * tile;
        const ty = area.top + Math.floor(t / columns) * tile;
        for (let y = 0; y < tile; y++) {
          for (let x = 0; x < tile; x++) {
            const to = (ty + y) * width + tx + x;
            const src = (fy + y) * width + fx + x;
            if (!inside(to)) continue;
            // Scrambled glyph strokes: the source block mirrored, with dark strokes where a letter would be.
            const stroke = (x + y * 2) % 5 === 0 && (t + y) % 3 !== 0;
            for (let c = 0; c < 3; c++) rgb[to * 3 + c] = stroke ? 255 - copy[src * 3 + c]! * 0.4 - mean[c]! * 0.4 : copy[src * 3 + c]!;
          }
        }
      }
      return;
    }
    case "missing-part": {
      // A sleeve, strap or leg end: the corner region of the box with the most product, grown until it holds at
      // least 7% of the product.
      let productArea = 0;
      for (let p = 0; p < alpha.length; p++) productArea += alpha[p]!;
      let region: Rect = box;
      for (let grow = 0.3; grow <= 0.6; grow += 0.05) {
        const regions: Rect[] = [0, 1, 2, 3].map((corner) => {
          const w = Math.round(box.width * grow);
          const h = Math.round(box.height * Math.min(0.7, grow * 1.5));
          return {
            left: corner % 2 === 0 ? box.left : box.left + box.width - w,
            top: corner < 2 ? box.top : box.top + box.height - h,
            width: w,
            height: h,
          };
        });
        const amount = regions.map((r) => {
          let n = 0;
          for (let y = r.top; y < r.top + r.height; y++) for (let x = r.left; x < r.left + r.width; x++) n += alpha[y * width + x]!;
          return n;
        });
        region = regions[amount.indexOf(Math.max(...amount))]!;
        if (Math.max(...amount) >= productArea * 0.07) break;
      }
      for (let y = region.top; y < region.top + region.height; y++)
        for (let x = region.left; x < region.left + region.width; x++) alpha[y * width + x] = 0;
      return;
    }
    case "added-object": {
      // A prop the model invented (a tag, a bag, a flower), overlapping the product's side.
      const colour = contrastingColour(mean, random);
      const rx = box.width * (0.12 + random() * 0.05);
      const ry = box.height * (0.1 + random() * 0.05);
      const cx = box.left + (random() < 0.5 ? box.width * 0.2 : box.width * 0.8);
      const cy = box.top + box.height * (0.3 + random() * 0.4);
      for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(height, Math.ceil(cy + ry)); y++) {
        for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(width, Math.ceil(cx + rx)); x++) {
          const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
          if (d > 1) continue;
          const p = y * width + x;
          const light = 1 - 0.3 * d;
          for (let c = 0; c < 3; c++) rgb[p * 3 + c] = colour[c]! * light;
          alpha[p] = 1;
        }
      }
      return;
    }
    case "hue-shift": {
      // The whole product in another colour; a grey or black product is tinted, since a hue turn leaves it as it is.
      const degrees = 100 + random() * 120;
      const tint = chroma < 40 ? contrastingColour(mean, random) : null;
      for (let p = 0; p < alpha.length; p++) {
        if (alpha[p] === 0) continue;
        const [r, g, b] = rotateHue(rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, degrees);
        const out = [r, g, b];
        for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.max(0, Math.min(255, tint ? out[c]! * 0.55 + tint[c]! * 0.45 : out[c]!));
      }
      return;
    }
    case "stretched":
      // Done when the product is scaled (see composeRealPhotoEdit).
      return;
  }
}

/** A few % of brightness, contrast and white balance: the model relights what it keeps. */
function relight(plane: Plane, random: () => number): void {
  const gain = 1 + (random() - 0.5) * 0.08;
  const contrast = 1 + (random() - 0.5) * 0.08;
  const balance = [0, 1, 2].map(() => 1 + (random() - 0.5) * 0.05);
  const { rgb } = plane;
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.max(0, Math.min(255, ((rgb[i]! - 128) * contrast + 128) * gain * balance[i % 3]!));
}

async function resizePlane(plane: Plane, width: number, height: number): Promise<Plane> {
  const rgba = Buffer.alloc(plane.width * plane.height * 4);
  for (let p = 0; p < plane.alpha.length; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = Math.round(plane.rgb[p * 3 + c]!);
    rgba[p * 4 + 3] = Math.round(plane.alpha[p]! * 255);
  }
  const out = await sharp(rgba, { raw: { width: plane.width, height: plane.height, channels: 4 } })
    .resize(width, height, { fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer();
  const rgb = new Float32Array(width * height * 3);
  const alpha = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = out[p * 4 + c]!;
    alpha[p] = out[p * 4 + 3]! / 255;
  }
  return { rgb, alpha, width, height };
}

/** Slight sharpening or softening of the product, and its edge redrawn (softer or harder by a pixel). */
async function rerender(plane: Plane, random: () => number): Promise<void> {
  const { width, height } = plane;
  const choice = random();
  if (choice < 0.7) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(plane.rgb[i]!);
    let image = sharp(rgb, { raw: { width, height, channels: 3 } });
    image = choice < 0.35 ? image.sharpen({ sigma: 0.8 + random() * 0.6 }) : image.blur(0.6 + random() * 0.6);
    const out = await image.raw().toBuffer();
    for (let i = 0; i < out.length; i++) plane.rgb[i] = out[i]!;
  }
  // A generative model draws the product solid: a part the mask is unsure of is drawn or left out, never half-transparent.
  const alpha = Buffer.alloc(width * height);
  for (let p = 0; p < alpha.length; p++) alpha[p] = plane.alpha[p]! >= 0.5 ? 255 : 0;
  const soft = await sharp(alpha, { raw: { width, height, channels: 1 } })
    .blur(0.8 + random() * 0.8)
    .extractChannel(0)
    .raw()
    .toBuffer();
  // Re-curving the blurred edge moves it in or out by up to about a pixel.
  const mid = 110 + random() * 40;
  for (let p = 0; p < soft.length; p++) plane.alpha[p] = Math.max(0, Math.min(1, (soft[p]! - mid) / 90 + 0.5));
}

/**
 * The corpus photo edited as a generative model would: product (from the corpus mask) centred at the requested
 * size on an off-white (249-253) noisy backdrop, optionally with a soft shadow or a faint floor band, with benign
 * re-rendering differences; with `alteration`, the product is also changed that way. Deterministic per seed.
 */
export async function composeRealPhotoEdit(photo: Buffer, mask: Buffer, options: RealPhotoEditOptions): Promise<RealPhotoEdit> {
  const random = prng(options.seed * 2654435761 + 97);
  const { data, info } = await sharp(photo, { autoOrient: true })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const maskData = await sharp(mask).removeAlpha().extractChannel(0).resize(info.width, info.height, { fit: "fill" }).raw().toBuffer();
  const source: Plane = {
    rgb: Float32Array.from(data),
    alpha: Float32Array.from(maskData, (v) => v / 255),
    width: info.width,
    height: info.height,
  };
  keepUnsureParts(source);
  dropFragments(source);
  const alteration = options.alteration ?? null;
  if (alteration) alter(source, alteration, random);
  relight(source, random);

  const box = alphaBox(source.alpha, source.width, source.height, 0.1);
  const { width, height } = options.size;
  const canvas = new Float32Array(width * height * 3);
  const productMask = new Uint8Array(width * height);
  let shadowBox: Rect | null = null;
  const base = 249 + random() * 4;
  const tint = [0, 1, 2].map(() => (random() - 0.5) * 1.5);
  let seedNoise = (options.seed * 7919) >>> 0;
  for (let y = 0; y < height; y++) {
    const shade = (2 * y) / height;
    for (let x = 0; x < width; x++) {
      seedNoise = (Math.imul(seedNoise, 1664525) + 1013904223) >>> 0;
      const noise = ((seedNoise >>> 24) / 255 - 0.5) * 3;
      for (let c = 0; c < 3; c++) canvas[(y * width + x) * 3 + c] = Math.min(253, Math.max(249, base + tint[c]! - shade + noise));
    }
  }

  if (box) {
    const cropped = cropPlane(source, box);
    const stretch = alteration === "stretched" ? 1.22 + random() * 0.1 : 1;
    const stretchWide = random() < 0.5;
    const fill = 0.6 + random() * 0.22;
    const aspectW = cropped.width * (stretchWide ? stretch : 1);
    const aspectH = cropped.height * (stretchWide ? 1 : stretch);
    const scale = (fill * Math.min(width, height)) / Math.max(aspectW, aspectH);
    const pw = Math.max(1, Math.round(aspectW * scale));
    const ph = Math.max(1, Math.round(aspectH * scale));
    const product = await resizePlane(cropped, pw, ph);
    await rerender(product, random);
    const px = Math.round((width - pw) / 2 + (random() - 0.5) * 0.05 * width);
    const py = Math.round((height - ph) / 2 + (random() - 0.5) * 0.05 * height);
    const floor = floorColour(source);
    if (options.floorBand) paintFloorBand(canvas, width, height, py + ph, floor, random);
    if (options.shadow ?? random() < 0.5) shadowBox = paintShadow(canvas, width, height, px + pw / 2, py + ph, pw, random);
    for (let y = 0; y < ph; y++) {
      const cy = py + y;
      if (cy < 0 || cy >= height) continue;
      for (let x = 0; x < pw; x++) {
        const cx = px + x;
        if (cx < 0 || cx >= width) continue;
        const a = product.alpha[y * pw + x]!;
        if (a === 0) continue;
        const o = (cy * width + cx) * 3;
        const s = (y * pw + x) * 3;
        for (let c = 0; c < 3; c++) canvas[o + c] = product.rgb[s + c]! * a + canvas[o + c]! * (1 - a);
        productMask[cy * width + cx] = Math.round(a * 255);
      }
    }
  }
  const bytes = Buffer.alloc(canvas.length);
  for (let i = 0; i < canvas.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(canvas[i]!)));
  const png = await sharp(bytes, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { png, width, height, alteration, productMask, shadowBox };
}

/** Mask opacity above which a part connected to the sure product is drawn as product (see keepUnsureParts). */
const UNSURE_PRODUCT = 0.1;
/** Unsure bands at most twice this wide (px) are the soft rim every outline has, not a part of the product. */
const RIM = 2;

/**
 * A generative model draws the product whole, while the corpus masks tear some products where the network was unsure:
 * a dark jumper's sleeves, a leg of trousers, the lower half of a skirt are there at low opacity (0.1-0.5). Unsure
 * regions wider than an outline's soft rim, connected to the sure product (>= 0.5), are drawn as product (hysteresis,
 * as in edge detection); unsure blotches on their own, and the rim with its background colour, are not.
 */
function keepUnsureParts(plane: Plane): void {
  const { alpha, width, height } = plane;
  const neighbours = (p: number) => {
    const x = p % width;
    return [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p >= width ? p - width : -1, p + width < width * height ? p + width : -1];
  };
  const unsure = Uint8Array.from(alpha, (a) => (a >= UNSURE_PRODUCT && a < 0.5 ? 1 : 0));
  // Opening: erode the unsure band, then grow it back within itself; the thin rim does not survive.
  let wide: Uint8Array = unsure;
  for (let i = 0; i < RIM; i++) {
    const from = wide;
    wide = Uint8Array.from(from, (v, p) => (v && neighbours(p).every((q) => q >= 0 && from[q]) ? 1 : 0));
  }
  for (let i = 0; i < RIM; i++) {
    const from = wide;
    wide = Uint8Array.from(from, (v, p) => (unsure[p] && (v || neighbours(p).some((q) => q >= 0 && from[q])) ? 1 : 0));
  }
  const queue = new Int32Array(alpha.length);
  const reached = new Uint8Array(alpha.length);
  let tail = 0;
  for (let p = 0; p < alpha.length; p++) {
    if (alpha[p]! >= 0.5) {
      reached[p] = 1;
      queue[tail++] = p;
    }
  }
  for (let head = 0; head < tail; head++) {
    for (const q of neighbours(queue[head]!)) {
      if (q < 0 || reached[q] || !wide[q]) continue;
      reached[q] = 1;
      alpha[q] = 1;
      queue[tail++] = q;
    }
  }
}

/**
 * A generative model redraws the product whole: the specks and torn-off fragments a segmentation network leaves
 * (pieces under 2% of the largest one) are not part of what it draws.
 */
function dropFragments(plane: Plane): void {
  const { alpha, width } = plane;
  const label = new Int32Array(alpha.length).fill(-1);
  const sizes: number[] = [];
  const queue = new Int32Array(alpha.length);
  for (let start = 0; start < alpha.length; start++) {
    if (label[start] !== -1 || alpha[start]! < 0.5) continue;
    const id = sizes.length;
    let tail = 0;
    label[start] = id;
    queue[tail++] = start;
    for (let head = 0; head < tail; head++) {
      const p = queue[head]!;
      const x = p % width;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
        if (q < 0 || q >= alpha.length || label[q] !== -1 || alpha[q]! < 0.5) continue;
        label[q] = id;
        queue[tail++] = q;
      }
    }
    sizes.push(tail);
  }
  const largest = Math.max(0, ...sizes);
  for (let p = 0; p < alpha.length; p++) if (label[p]! >= 0 && sizes[label[p]!]! < largest * 0.02) alpha[p] = 0;
}

function cropPlane(plane: Plane, box: Rect): Plane {
  const rgb = new Float32Array(box.width * box.height * 3);
  const alpha = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const from = (box.top + y) * plane.width + box.left;
    alpha.set(plane.alpha.subarray(from, from + box.width), y * box.width);
    rgb.set(plane.rgb.subarray(from * 3, (from + box.width) * 3), y * box.width * 3);
  }
  return { rgb, alpha, width: box.width, height: box.height };
}

/** Mean colour of the photo's background (outside the mask). */
function floorColour(plane: Plane): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < plane.alpha.length; p++) {
    if (plane.alpha[p]! > 0.1) continue;
    for (let c = 0; c < 3; c++) sum[c]! += plane.rgb[p * 3 + c]!;
    n++;
  }
  return sum.map((s) => (n ? s / n : 200)) as [number, number, number];
}

/** A faint band of the floor the product stood on, across the frame under the product. */
function paintFloorBand(
  canvas: Float32Array,
  width: number,
  height: number,
  bottom: number,
  floor: [number, number, number],
  random: () => number,
): void {
  const strength = 0.12 + random() * 0.1;
  const top = Math.max(0, Math.round(bottom - height * 0.04));
  const end = Math.min(height, Math.round(bottom + height * 0.06));
  for (let y = top; y < end; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) canvas[o + c] = canvas[o + c]! * (1 - strength) + floor[c]! * strength;
    }
  }
}

function paintShadow(
  canvas: Float32Array,
  width: number,
  height: number,
  cx: number,
  cy: number,
  productWidth: number,
  random: () => number,
): Rect {
  const rx = productWidth * (0.4 + random() * 0.1);
  const ry = Math.max(3, height * (0.015 + random() * 0.015));
  const depth = 12 + random() * 14;
  const top = Math.max(0, Math.floor(cy - ry));
  const left = Math.max(0, Math.floor(cx - rx));
  const bottom = Math.min(height, Math.ceil(cy + ry));
  const right = Math.min(width, Math.ceil(cx + rx));
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const r2 = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (r2 >= 1) continue;
      const o = (y * width + x) * 3;
      const dark = depth * (1 - r2) ** 2;
      for (let c = 0; c < 3; c++) canvas[o + c] = canvas[o + c]! - dark;
    }
  }
  return { left, top, width: right - left, height: bottom - top };
}
