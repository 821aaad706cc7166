// The stand-in's "model": a plausible background replacement, with the flaws the real one has.
// Independent of app/imaging on purpose, so the app's post-processing is tested against
// something it did not produce itself.
import { createHash } from "node:crypto";
import sharp from "sharp";
import { prng } from "../fixtures/prng";

export type Alteration = "recolour" | "new-label" | "logo";

export interface EmulatedEditOptions {
  /** Requested output size; default ~1 MP with the input's aspect ratio (like the real model). */
  size?: { width: number; height: number };
  /** Change something inside the product (a label or a colour), as a misbehaving model would. */
  alter: boolean;
  seed: number;
}

export interface EmulatedEdit {
  png: Buffer;
  width: number;
  height: number;
  alteration: Alteration | null;
}

interface Cutout {
  rgba: Buffer;
  width: number;
  height: number;
}

/**
 * Product pixels of the input: everything not connected to the image edge through pixels close to
 * the edge colour of their row (a flood fill), so text and light details inside the product stay.
 */
function cutOutProduct(rgb: Buffer, width: number, height: number): Cutout | null {
  const k = 3;
  const rowColor = new Float32Array(height * 6);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < k; x++) {
      for (let c = 0; c < 3; c++) {
        rowColor[y * 6 + c]! += rgb[row + x * 3 + c]! / k;
        rowColor[y * 6 + 3 + c]! += rgb[row + (width - 1 - x) * 3 + c]! / k;
      }
    }
  }
  // Whether each pixel is close to its row's edge colour (interpolated from left to right), computed once.
  const near = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const t = x / (width - 1);
      let d = 0;
      for (let c = 0; c < 3; c++) {
        const left = rowColor[y * 6 + c]!;
        d = Math.max(d, Math.abs(rgb[p * 3 + c]! - (left + (rowColor[y * 6 + 3 + c]! - left) * t)));
      }
      near[p] = d <= 34 ? 1 : 0;
    }
  }
  const background = new Uint8Array(width * height);
  const queue = new Int32Array(width * height);
  let tail = 0;
  const visit = (p: number) => {
    if (background[p] === 0 && near[p] === 1) {
      background[p] = 1;
      queue[tail++] = p;
    }
  };
  for (let x = 0; x < width; x++) {
    visit(x);
    visit((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    visit(y * width);
    visit(y * width + width - 1);
  }
  for (let head = 0; head < tail; head++) {
    const p = queue[head]!;
    const x = p % width;
    if (x > 0) visit(p - 1);
    if (x < width - 1) visit(p + 1);
    if (p >= width) visit(p - width);
    if (p + width < width * height) visit(p + width);
  }
  const columns = new Uint32Array(width);
  const rows = new Uint32Array(height);
  for (let p = 0; p < background.length; p++) {
    if (background[p] === 1) continue;
    const x = p % width;
    columns[x]!++;
    rows[(p - x) / width]!++;
  }
  const minX = columns.findIndex((c) => c >= 3);
  const maxX = columns.findLastIndex((c) => c >= 3);
  const minY = rows.findIndex((c) => c >= 3);
  const maxY = rows.findLastIndex((c) => c >= 3);
  if (minX < 0 || minY < 0) return null;
  const cw = maxX - minX + 1;
  const ch = maxY - minY + 1;
  const rgba = Buffer.alloc(cw * ch * 4);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const s = (minY + y) * width + minX + x;
      const o = (y * cw + x) * 4;
      rgba[o] = rgb[s * 3]!;
      rgba[o + 1] = rgb[s * 3 + 1]!;
      rgba[o + 2] = rgb[s * 3 + 2]!;
      rgba[o + 3] = background[s] ? 0 : 255;
    }
  }
  return { rgba, width: cw, height: ch };
}

async function alterProduct(cutout: Cutout, random: () => number): Promise<Alteration> {
  const { rgba, width, height } = cutout;
  const kinds: Alteration[] = ["recolour", "new-label", "logo"];
  const kind = kinds[Math.floor(random() * kinds.length)]!;
  if (kind === "recolour") {
    // The lower part of the product changes colour.
    for (let y = Math.round(height * 0.64); y < Math.round(height * 0.92); y++) {
      for (let x = Math.round(width * 0.1); x < Math.round(width * 0.9); x++) {
        const o = (y * width + x) * 4;
        if (rgba[o + 3] === 0) continue;
        const [r, g, b] = [rgba[o]!, rgba[o + 1]!, rgba[o + 2]!];
        // A hue rotation; dark or grey colours barely change under it, so those are inverted.
        const rotated = Math.max(Math.abs(b - r), Math.abs(r - g), Math.abs(g - b)) >= 80;
        rgba[o] = rotated ? b : 255 - r;
        rgba[o + 1] = rotated ? r : 255 - g;
        rgba[o + 2] = rotated ? g : 255 - b;
      }
    }
    return kind;
  }
  let meanR = 0;
  let meanG = 0;
  let meanB = 0;
  let n = 0;
  for (let o = 0; o < rgba.length; o += 4) {
    if (rgba[o + 3] === 0) continue;
    meanR += rgba[o]!;
    meanG += rgba[o + 1]!;
    meanB += rgba[o + 2]!;
    n++;
  }
  const contrast = `rgb(${255 - Math.round(meanR / n)},${255 - Math.round(meanG / n)},${255 - Math.round(meanB / n)})`;
  const svg =
    kind === "new-label"
      ? `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect x="${width * 0.2}" y="${height * 0.14}" width="${width * 0.6}" height="${height * 0.2}" rx="${height * 0.02}" fill="${contrast}"/><text x="${width / 2}" y="${height * 0.28}" font-family="DejaVu Sans, sans-serif" font-weight="bold" font-size="${height * 0.1}" text-anchor="middle" fill="#111">NEW!</text></svg>`
      : `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><circle cx="${width * 0.5}" cy="${height * 0.7}" r="${Math.min(width, height) * 0.14}" fill="${contrast}"/><text x="${width * 0.5}" y="${height * 0.72}" font-family="DejaVu Sans, sans-serif" font-size="${Math.min(width, height) * 0.08}" text-anchor="middle" fill="#fff">®</text></svg>`;
  const overlay = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer();
  for (let o = 0; o < rgba.length; o += 4) {
    if (rgba[o + 3] === 0) continue;
    const a = overlay[o + 3]! / 255;
    for (let c = 0; c < 3; c++) rgba[o + c] = Math.round(rgba[o + c]! * (1 - a) + overlay[o + c]! * a);
  }
  return kind;
}

/** Default output size of the real model: about 1024 x 1024 pixels with the input's aspect ratio. */
function defaultSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.sqrt((1024 * 1024) / (width * height));
  return { width: Math.round((width * scale) / 16) * 16, height: Math.round((height * scale) / 16) * 16 };
}

/**
 * Puts the product on a near-white studio backdrop (not exactly white, slightly graded, with grain
 * and a soft shadow), not perfectly framed, at the requested size. Deterministic per input + seed.
 */
export async function emulateProductEdit(input: Buffer, options: EmulatedEditOptions): Promise<EmulatedEdit> {
  const digest = createHash("sha256").update(input).digest();
  const random = prng(digest.readUInt32LE(0) ^ options.seed);
  const { data, info } = await sharp(input, { autoOrient: true })
    .flatten({ background: "#ffffff" })
    .toColourspace("srgb")
    .resize(768, 768, { fit: "inside", withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const size = options.size ?? defaultSize(info.width, info.height);
  const { width, height } = size;

  const cutout = cutOutProduct(data, info.width, info.height);
  const alteration = cutout && options.alter ? await alterProduct(cutout, random) : null;

  // Backdrop: warm near-white, darker towards the bottom, with grain.
  const base = [246 + Math.floor(random() * 5), 245 + Math.floor(random() * 5), 241 + Math.floor(random() * 5)];
  const canvas = Buffer.alloc(width * height * 3);
  // The grain term ((x * 73856093) ^ (y * 19349663)) & 3 depends only on x & 3 and (3y) & 3, so each row has
  // four possible pixel values per channel.
  const rowValues = new Uint8Array(12);
  for (let y = 0; y < height; y++) {
    const shade = (6 * y) / height;
    const yBits = (y * 19349663) & 3;
    for (let g = 0; g < 4; g++) {
      const grain = g - 1.5;
      for (let c = 0; c < 3; c++) rowValues[g * 3 + c] = Math.max(0, Math.min(255, Math.round(base[c]! - shade + grain)));
    }
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
      const g = ((x & 3) ^ yBits) * 3;
      canvas[o] = rowValues[g]!;
      canvas[o + 1] = rowValues[g + 1]!;
      canvas[o + 2] = rowValues[g + 2]!;
    }
  }

  if (cutout) {
    // Not perfectly framed: 55-78% of the frame, off-centre by up to 5%.
    const fill = 0.55 + random() * 0.23;
    const scale = fill * Math.min(width / cutout.width, height / cutout.height);
    const pw = Math.max(1, Math.round(cutout.width * scale));
    const ph = Math.max(1, Math.round(cutout.height * scale));
    const maxDx = Math.max(0, (width - pw) / 2 - width * 0.02);
    const maxDy = Math.max(0, (height - ph) / 2 - height * 0.02);
    const px = Math.round((width - pw) / 2 + Math.max(-maxDx, Math.min(maxDx, (random() - 0.5) * 0.1 * width)));
    const py = Math.round((height - ph) / 2 + Math.max(-maxDy, Math.min(maxDy, (random() - 0.5) * 0.1 * height)));

    // Soft contact shadow under the product.
    const scx = px + pw / 2;
    const scy = py + ph;
    const rx = pw * 0.45;
    const ry = Math.max(2, ph * 0.035);
    for (let y = Math.max(0, Math.floor(scy - ry)); y < Math.min(height, Math.ceil(scy + ry)); y++) {
      for (let x = Math.max(0, Math.floor(scx - rx)); x < Math.min(width, Math.ceil(scx + rx)); x++) {
        const r2 = ((x - scx) / rx) ** 2 + ((y - scy) / ry) ** 2;
        if (r2 >= 1) continue;
        const o = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) canvas[o + c] = Math.max(0, canvas[o + c]! - Math.round(14 * (1 - r2)));
      }
    }

    const scaled = await sharp(cutout.rgba, { raw: { width: cutout.width, height: cutout.height, channels: 4 } })
      .resize(pw, ph, { fit: "fill", kernel: "lanczos3" })
      .raw()
      .toBuffer();
    // The model re-renders the product: a slightly different exposure.
    const exposure = 1 + Math.floor(random() * 3);
    for (let y = 0; y < ph; y++) {
      const cy = py + y;
      if (cy < 0 || cy >= height) continue;
      for (let x = 0; x < pw; x++) {
        const cx = px + x;
        if (cx < 0 || cx >= width) continue;
        const s = (y * pw + x) * 4;
        const alpha = scaled[s + 3]!;
        if (alpha === 0) continue;
        const o = (cy * width + cx) * 3;
        if (alpha === 255) {
          for (let c = 0; c < 3; c++) canvas[o + c] = Math.min(255, scaled[s + c]! + exposure);
          continue;
        }
        const a = alpha / 255;
        for (let c = 0; c < 3; c++) canvas[o + c] = Math.round(Math.min(255, scaled[s + c]! + exposure) * a + canvas[o + c]! * (1 - a));
      }
    }
  }

  const png = await sharp(canvas, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { png, width, height, alteration };
}
