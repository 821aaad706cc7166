// Post-processing judged on real photos (../shared/corpus/real-photos) by measures that do not come from the app's
// own segmentation: the stand-in's model edit says where it drew the product (from the corpus mask), and the output
// is read back pixel by pixel at that place. Shared by bench/real-photos-postprocess.ts and the corpus test.
import sharp from "sharp";
import { checkCompliance, type ComplianceReport } from "../../app/imaging/compliance";
import { DEFAULT_PIPELINE_SETTINGS, resolvePipeline, type PipelineId, type PipelineSettings, type Rgb } from "../../app/imaging/pipelines";
import { postProcessEdit, type PostProcessResult } from "../../app/imaging/postprocess";
import { composeRealPhotoEdit, readCorpusEntry, type RealPhotoCorpus, type Rect } from "../../emulators/dashscope/real-photo-edit";

/** What the model left around the product: nothing, a soft contact shadow, or a leftover floor band and specks. */
export type BackdropVariant = "clean" | "shadow" | "band-specks";
export const BACKDROP_VARIANTS: readonly BackdropVariant[] = ["clean", "shadow", "band-specks"];

/** A product pixel counts as lost when the output shows the background there (within this) ... */
const LOST_WITHIN = 3;
/** ... although the model drew it at least this far from the background (paler pixels look the same either way). */
const VISIBLY_PRODUCT = 8;
/** Output pixels this far from the background, away from the product, are residue. */
const RESIDUE_DISTANCE = 6;
/** An output whose residue covers more than this share of the frame shows residue (0.01%: a few hundred px). */
export const VISIBLE_RESIDUE = 0.0001;

export interface ModelEdit {
  png: Buffer;
  width: number;
  height: number;
  /** Product opacity per pixel of the model output (0..255), where the stand-in drew it. */
  productMask: Uint8Array;
  shadowBox: Rect | null;
  /** Where specks were drawn on the backdrop (centre and radius, model px). */
  specks: { x: number; y: number; r: number }[];
}

/** Edit of corpus photo `index` as the model would return it for `pipeline`, with the backdrop `variant`. */
export async function composeVariant(
  corpus: RealPhotoCorpus,
  index: number,
  pipeline: PipelineId,
  variant: BackdropVariant,
  settings = DEFAULT_PIPELINE_SETTINGS,
): Promise<ModelEdit> {
  const entry = corpus.entries[index]!;
  const { photo, mask } = await readCorpusEntry(corpus, entry);
  const resolved = resolvePipeline(pipeline, settings, { width: entry.width, height: entry.height });
  const edit = await composeRealPhotoEdit(photo, mask, {
    size: resolved.qwenSize,
    seed: index * 7 + BACKDROP_VARIANTS.indexOf(variant) + 1,
    shadow: variant === "shadow",
    floorBand: variant === "band-specks",
  });
  if (variant !== "band-specks") return { ...edit, specks: [] };
  const specks = speckPlaces(edit.productMask, edit.width, edit.height, index);
  const dots = specks
    .map((s, i) => `<circle cx="${s.x}" cy="${s.y}" r="${s.r}" fill="${SPECK_COLOURS[i % SPECK_COLOURS.length]}"/>`)
    .join("");
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${edit.width}" height="${edit.height}">${dots}</svg>`);
  const png = await sharp(edit.png)
    .composite([{ input: svg }])
    .removeAlpha()
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { ...edit, png, specks };
}

const SPECK_COLOURS = ["#3a2a1a", "#8a7a6a", "#5a6470", "#b0a090", "#2a2a2a"];

/**
 * Five specks (dust, crumbs, a scrap of paper) on the backdrop, clear of the product, 0.4-3.2% of the frame wide:
 * the smaller ones are below the size post-processing drops as specks, the larger ones above it.
 */
function speckPlaces(productMask: Uint8Array, width: number, height: number, seed: number): { x: number; y: number; r: number }[] {
  const side = Math.min(width, height);
  const specks: { x: number; y: number; r: number }[] = [];
  let state = (seed * 2654435761 + 12345) >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let attempt = 0; attempt < 400 && specks.length < 5; attempt++) {
    const r = side * (0.002 + random() * 0.014);
    const x = Math.round(width * (0.04 + random() * 0.92));
    const y = Math.round(height * (0.04 + random() * 0.92));
    const clear = Math.ceil(r + side * 0.03);
    let touches = false;
    for (let yy = Math.max(0, y - clear); yy < Math.min(height, y + clear) && !touches; yy += 2) {
      for (let xx = Math.max(0, x - clear); xx < Math.min(width, x + clear); xx += 2) {
        if (productMask[yy * width + xx]! > 0) {
          touches = true;
          break;
        }
      }
    }
    if (!touches) specks.push({ x, y, r: Math.round(r * 10) / 10 });
  }
  return specks;
}

export interface OutputMeasurement {
  /** Share of the product the model drew (interior, visibly not background) that the output still shows. */
  kept: number;
  /** Output pixels away from the product (and its shadow, where one was drawn) visibly off the background, as a share of the frame. */
  residue: number;
  /** Of those, the ones in the shadow's place (a kept shadow). */
  shadowPixels: number;
  /** Mean difference (levels) between model and output, both smoothed, over the product's interior: small when the placement is right. */
  interiorDifference: number;
}

const maxChannelDistance = (data: Uint8Array, i: number, [r, g, b]: Rgb) =>
  Math.max(Math.abs(data[i]! - r), Math.abs(data[i + 1]! - g), Math.abs(data[i + 2]! - b));

/** 1 where `mask` has a pixel >= `min` within `radius` (square), else 0. */
function dilate(mask: Uint8Array, width: number, height: number, radius: number, min = 1): Uint8Array {
  const across = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    let last = -Infinity;
    const row = y * width;
    // Nearest set pixel on the left, then on the right.
    for (let x = 0; x < width; x++) {
      if (mask[row + x]! >= min) last = x;
      if (x - last <= radius) across[row + x] = 1;
    }
    last = Infinity;
    for (let x = width - 1; x >= 0; x--) {
      if (mask[row + x]! >= min) last = x;
      if (last - x <= radius) across[row + x] = 1;
    }
  }
  const out = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) {
    let last = -Infinity;
    for (let y = 0; y < height; y++) {
      if (across[y * width + x]) last = y;
      if (y - last <= radius) out[y * width + x] = 1;
    }
    last = Infinity;
    for (let y = height - 1; y >= 0; y--) {
      if (across[y * width + x]) last = y;
      if (last - y <= radius) out[y * width + x] = 1;
    }
  }
  return out;
}

/**
 * Reads the output back at the place the model drew the product (the output's placement maps model pixels to output
 * pixels; a wrong placement shows as a large interior difference). Kept: interior product pixels (2 model px inside
 * its outline) that the output does not show as the background. Residue: output pixels farther than the product's
 * anti-aliased edge and the post-processing's resampling reach (1% of the frame) that are not the background.
 */
export async function measureOutput(edit: ModelEdit, output: PostProcessResult, background: Rgb): Promise<OutputMeasurement> {
  const { width: mw, height: mh, productMask } = edit;
  const model = await sharp(edit.png).removeAlpha().raw().toBuffer();
  const { data, info } = await sharp(output.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: ow, height: oh } = info;
  const { scale, offsetX, offsetY } = output.placement;
  // Fine texture differs after resampling and JPEG even at the right place: the placement is judged on both images
  // smoothed alike.
  const smoothModel = await sharp(edit.png).removeAlpha().blur(2).raw().toBuffer();
  const smoothOutput = await sharp(output.bytes)
    .removeAlpha()
    .blur(Math.max(0.3, 2 * scale))
    .raw()
    .toBuffer();

  const outside = new Uint8Array(mw * mh);
  for (let p = 0; p < outside.length; p++) outside[p] = productMask[p]! < 250 ? 1 : 0;
  const nearOutline = dilate(outside, mw, mh, 2);
  let interior = 0;
  let lost = 0;
  let difference = 0;
  let compared = 0;
  for (let y = 0; y < mh; y++) {
    for (let x = 0; x < mw; x++) {
      const p = y * mw + x;
      if (nearOutline[p]) continue;
      const ox = Math.round(offsetX + (x + 0.5) * scale - 0.5);
      const oy = Math.round(offsetY + (y + 0.5) * scale - 0.5);
      if (ox < 0 || oy < 0 || ox >= ow || oy >= oh) {
        interior++;
        lost++;
        continue;
      }
      const o = (oy * ow + ox) * 3;
      if (maxChannelDistance(model, p * 3, background) >= VISIBLY_PRODUCT) {
        interior++;
        if (maxChannelDistance(data, o, background) <= LOST_WITHIN) lost++;
        else {
          difference += maxChannelDistance(smoothOutput, o, [smoothModel[p * 3]!, smoothModel[p * 3 + 1]!, smoothModel[p * 3 + 2]!]);
          compared++;
        }
      }
    }
  }

  // Model pixels near the product (its anti-aliased edge, 1% of the frame), and the shadow's box when one was drawn.
  const reach = Math.max(3, Math.round((Math.min(ow, oh) * 0.01) / scale));
  const nearProduct = dilate(productMask, mw, mh, reach, 16);
  const shadow = edit.shadowBox;
  let residue = 0;
  let shadowPixels = 0;
  for (let oy = 0; oy < oh; oy++) {
    const y = Math.floor((oy + 0.5 - offsetY) / scale);
    for (let ox = 0; ox < ow; ox++) {
      const x = Math.floor((ox + 0.5 - offsetX) / scale);
      const inModel = x >= 0 && y >= 0 && x < mw && y < mh;
      if (inModel && nearProduct[y * mw + x]) continue;
      if (maxChannelDistance(data, (oy * ow + ox) * 3, background) <= RESIDUE_DISTANCE) continue;
      const inShadow =
        shadow && inModel && x >= shadow.left && x < shadow.left + shadow.width && y >= shadow.top && y < shadow.top + shadow.height;
      if (inShadow) shadowPixels++;
      else residue++;
    }
  }
  return {
    kept: interior ? 1 - lost / interior : 1,
    residue: residue / (ow * oh),
    shadowPixels: shadowPixels / (ow * oh),
    interiorDifference: compared ? difference / compared : 0,
  };
}

export interface PostprocessCase {
  index: number;
  pipeline: PipelineId;
  variant: BackdropVariant;
  compliance: ComplianceReport;
  measured: OutputMeasurement;
  output: PostProcessResult;
}

/** One corpus photo through the model stand-in, the app's post-processing and compliance check, then measured. */
export async function runPostprocessCase(
  corpus: RealPhotoCorpus,
  index: number,
  pipeline: PipelineId,
  variant: BackdropVariant,
  settings: PipelineSettings = DEFAULT_PIPELINE_SETTINGS,
): Promise<PostprocessCase> {
  const entry = corpus.entries[index]!;
  const resolved = resolvePipeline(pipeline, settings, { width: entry.width, height: entry.height });
  const edit = await composeVariant(corpus, index, pipeline, variant, settings);
  const output = await postProcessEdit(edit.png, resolved, "jpeg");
  const [compliance, measured] = await Promise.all([
    checkCompliance(output.bytes, pipeline, settings),
    measureOutput(edit, output, resolved.background),
  ]);
  return { index, pipeline, variant, compliance, measured, output };
}
