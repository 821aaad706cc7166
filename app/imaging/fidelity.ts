import { decodeRgb, readHeader, type RgbImage } from "./decode";
import type { FidelityChange } from "./fidelity-changes";
import { close, erodeDiamond, open } from "./morphology";
import type { Rgb } from "./pipelines";
import { borderMedian, type Box } from "./segment";

export interface FidelityReport {
  /** 1 = the product looks the same; 0 = nothing in common. */
  score: number;
  threshold: number;
  verdict: "unchanged" | "altered";
  /** What looks different when altered, the clearest first (empty when unchanged). */
  changes: FidelityChange[];
  message: string | null;
}

/** Below this score the product may have been altered and the image is held for review. */
export const FIDELITY_THRESHOLD = 0.6;

const CHANGE_WORDS: Record<FidelityChange, string> = {
  "missing-part": "a part of it (a sleeve, strap or leg) looks missing",
  recoloured: "a patch, label or logo looks different",
  "colour-cast": "its colour looks shifted",
  print: "its print or text looks different",
  proportions: "it looks stretched or squashed",
  "not-found": "it could not be matched to the original",
};

/** The merchant's sentence for an altered edit, naming what looks different. */
export function alteredMessage(changes: readonly FidelityChange[]): string {
  const what = new Intl.ListFormat("en", { type: "conjunction" }).format(changes.map((change) => CHANGE_WORDS[change]));
  return `The product may have been altered${what ? `: ${what}` : ""}. Review it before publishing.`;
}

// How it works. The edited image's product is reliable: it stands on the pipeline's flat background. The original's
// is not (floors, beds, hangers, hands), so the original is never segmented. Instead the edited product is found in
// the original (registration: scale and position, by correlating edges and colours), and then compared there:
// appearance inside the edited product's outline (colour after a global relighting fit, per cell), and product-
// coloured parts of the original just outside that outline (a part the model left out). A hand or hanger the model
// removed lies outside the outline and is not product-coloured, so it does not count.

/** The edited image is read at this size (longest side): its product fills most of it. */
const RESULT_SIDE = 192;
/** Print and text are compared with the edited image read at this size, when the original has the detail for it. */
const RESULT_DETAIL_SIDE = 384;
/** The original is read at this size: enough for the product when it fills a sixth of the frame. */
const ORIGINAL_SIDE = 384;
/** Registration: exhaustive search on an original this small (longest side), then refinement on a larger one. */
const COARSE_SIDE = 32;
/** Ratio between the product sizes tried in the coarse search. */
const SCALE_STEP = 1.1;
/** Candidates of the coarse search are refined on a level of this longest side. */
const REFINE_SIDE = 64;
/** Then judged against each other where their product spans this many px (longest side). */
const VERIFY_SPAN = 48;
/** The best candidates kept from each coarse search level (beside the best of each half of its sizes). */
const CANDIDATES_PER_LEVEL = 2;
/** Proportions (width over height scale) tried when refining: a model may stretch the product by a quarter or more. */
const ASPECTS = [0.7, 0.76, 0.82, 0.88, 0.94, 1, 1.06, 1.13, 1.21, 1.3, 1.4];
/** The last refinement runs where the product spans this many px. */
const FINAL_PRODUCT_SIDE = 96;
/** Steps of the last refinement's climb towards its best fit, at most (each a refinement of nine sizes). */
const CLIMB_STEPS = 4;
/** Backdrop around the product in registration templates (share of its longest side): its outline counts. */
const TEMPLATE_MARGIN = 0.1;
/**
 * Coarse search levels: longest side, the range of product shares searched on it, and the coarse match found on the
 * larger levels that makes it not worth searching. The finest level costs the most and only finds products a tenth of
 * the frame or smaller, which rarely match as well as 0.6 by chance on a larger level (0.4 or 0.5 skipped it for
 * the generated test set's small products).
 */
const SEARCH_LEVELS: [number, number, number, number][] = [
  [COARSE_SIDE, 0.25, 1.08, Number.POSITIVE_INFINITY],
  [COARSE_SIDE * 2, 0.125, 0.25 / SCALE_STEP, 0.7],
  [COARSE_SIDE * 4, 0.05, 0.125 / SCALE_STEP, 0.6],
];
/** Share of a registration template (product and margin) that must lie inside the original. */
const MIN_OVERLAP = 0.6;
/** Coarse candidates trailing their level's best by more than this are not refined (on the corpus they never won). */
const CANDIDATE_MARGIN = 0.15;
/** Candidates of the coarse search refined on the fine level. */
const CANDIDATES = 4;
/** The product is compared on a grid of this many px on its longest side, in CELLS x CELLS cells. */
const GRID = 64;
const CELLS = 6;
/** Structure (print, text) is compared on a finer grid, in DETAIL_CELLS x DETAIL_CELLS cells. */
const DETAIL_GRID = 256;
/** A product spanning up to about this many px in the original at its own resolution is compared on this coarser grid. */
const COARSE_DETAIL_GRID = 128;
const DETAIL_CELLS = 8;
/** Share of a cell's pixels (in the product's core) it needs to be judged. */
const MIN_CELL_COVER = 0.5;
/** Distance from the background (max channel) above which an edited-image pixel is product. */
const PRODUCT_DISTANCE = 24;
/** A pixel counts as changed when, after the relighting fit, a channel differs by more than this. */
const CHANGED_PIXEL = 48;
/** Relighting the model may do: per-channel gain and offset within these bounds. */
const MAX_GAIN_CHANGE = 0.15;
const MAX_OFFSET = 32;
/** White balance the model may change: a channel's offset within this many levels of the others'. */
const MAX_BALANCE = 8;
/** SSIM's stabilising constant for the structure term ((0.03 x 255)^2): flat cells compare as similar. */
const STRUCTURE_C = 58.5;
/**
 * A window of the structure comparison losing more than this at every shift of a px is searched at larger shifts, and
 * counts at one only when that regains at least WIDER_SEARCH_GAIN of its similarity.
 */
const WIDER_SEARCH_FROM = 0.3;
const WIDER_SEARCH_GAIN = 0.05;
/** A cell is judged on structure when its luminance varies at least this much (variance) in one of the two. */
const MIN_STRUCTURE_VARIANCE = 36;
/**
 * Where each part of the measurement reaches the threshold. Fitted on the faithful and altered edits of half the
 * real-photo corpus (bench/real-photos.ts prints the figures of the other half).
 */
const LIMITS = {
  /** Share of changed pixels in the worst window. */
  areaChange: 0.35,
  /** Colour cast over the whole product (levels). */
  colourCast: 30,
  /** |ln| of the change in proportions (faithful edits of the fit half reach 0.06; the stand-in stretches by 0.2-0.28). */
  proportionChange: 0.12,
  /** 1 - SSIM structure in the worst window, compared on the fine grid. */
  structureLoss: 0.55,
  /** The same on a grid of COARSE_DETAIL_GRID px or less (a product small in the original). */
  coarseStructureLoss: 0.95,
  /** Product-coloured area next to the product that the edit lacks, over the product's area. */
  missingShare: 0.09,
  /** 1 - registration correlation. */
  registrationLoss: 0.5,
};
/** Surroundings (share of the product's area) needed to tell product colours from the surroundings' by. */
const MIN_SURROUND = 0.05;
/** The surroundings are also read on the original at this size (longest side), in a ring this deep along its frame... */
const SURROUND_SIDE = 96;
const SURROUND_RING = 0.2;
/** ...outside the product's box grown by this share of it, and count when the ring has at least this many px there. */
const SURROUND_BOX_GROWTH = 0.05;
const MIN_FRAME_SURROUND = 50;
/** Margin around the product (share of its box) searched for parts the model left out. */
const MISSING_MARGIN = 0.3;
/**
 * Outside the result's product mask, a px further than this from the result's background (max channel, levels, on the
 * missing parts' grid) is drawn there: a pale product's palest edge, not a part the model left out.
 */
const SHOWN_DISTANCE = 6;
/** How product-like a pixel's colour is, for the missing parts' growth (see missingParts). */
const CLEARLY_PRODUCT = 2;
const LEANING_PRODUCT = 1;
/**
 * Two sets of colour bins, the second's edges half a bin (16 levels) lower: a pale product and a pale wall straddling
 * a bin edge share a bin of one set only. Parts reached through either set count only where they were cut through the
 * product's texture (see cutThroughTexture): alone, the second set also reaches doors and cloths of the product's colours.
 */
const BIN_SHIFTS = [0, 16] as const;
const BINS = 9 * 9 * 9;
/** A cut through texture: see cutThroughTexture (steps in levels; fewer steps across the outline cannot tell). */
const TEXTURE_LIKENESS = 0.5;
const CUT_STEP_RATIO = 1.5;
const MIN_TEXTURE_STEP = 3;
const MIN_OUTLINE_STEPS = 3;
/**
 * A missing part whose colour runs on across the edited product's outline in the original (median step, levels, two
 * px either side) was cut out of the product, and counts this many times its area: held from 6% of the product instead
 * of 9%. A wall, bag or hanger of the product's colours meets it at an edge.
 */
const CONTINUOUS_STEP = 7;
const CUT_PART_WEIGHT = 1.5;
/**
 * A missing part whose mean colour in the original lies PRODUCT_BESIDE_RATIO times nearer the product's px beside it
 * than the surroundings' px beside it (within BESIDE px) was cut from the product, and counts
 * PRODUCT_COLOURED_PART_WEIGHT times its area (on top of CUT_PART_WEIGHT). A pale product on a pale wall shares its
 * colour bins with the wall, so only part of the cut is reached; a wall, shadow or bag reached through those bins looks
 * like the surroundings beside it.
 */
const PRODUCT_BESIDE_RATIO = 5;
const PRODUCT_COLOURED_PART_WEIGHT = 2;
const BESIDE = 3;

interface Planes {
  /** Channels, each width x height, row-major. */
  channels: Float32Array[];
  width: number;
  height: number;
}

export interface FidelityMeasurement {
  score: number;
  /** Correlation of the edited product with the original where it was found (1 = identical). */
  registration: number;
  /** Largest share of changed pixels in a window of the product (a recoloured part). */
  worstAreaChange: number;
  /** Colour cast over the whole product beyond a white-balance change (levels; a hue shift). */
  colourCast: number;
  /** Largest loss of structural similarity (1 - SSIM's contrast-structure term) in a cell of the product. */
  worstStructure: number;
  /** Product-coloured area of the original next to the product that the edit lacks, over the product's area. */
  missingShare: number;
  /** How much the product's proportions differ from the original's (|ln| of the width-over-height scale ratio). */
  proportionChange: number;
  /** The parts below the threshold, the lowest first. */
  changes: FidelityChange[];
  /** Where the edited product lies in the original, or null when the edit has no product or it was not found. */
  placement: ProductPlacement | null;
}

/** Where the edited image's product lies in the original (the registration's answer), for checks that need it. */
export interface ProductPlacement {
  /** The product's box in the original, in the original's own px. */
  sourceBox: Box;
  /** The original's size (px, oriented). */
  frame: { width: number; height: number };
  /** The edited image's product: 1 where it is, on the edited image read at `product.width` x `product.height`. */
  product: { mask: Uint8Array; width: number; height: number; box: Box };
  /** Correlation of the edited product with the original there (1 = identical). */
  correlation: number;
}

/**
 * Compares the product in the original with the product in the edited image, wherever the model placed and scaled
 * it. A label, logo or colour the model changed, or a part it dropped, lowers the score.
 */
export async function checkFidelity(original: Buffer, edited: Buffer): Promise<FidelityReport> {
  return fidelityReport(await measureFidelity(original, edited));
}

/** The verdict on a measurement (what the merchant sees). */
export function fidelityReport({ score, changes }: FidelityMeasurement, threshold = FIDELITY_THRESHOLD): FidelityReport {
  if (score >= threshold) return { score, threshold, verdict: "unchanged", changes: [], message: null };
  const told = changesToTell(changes);
  return { score, threshold, verdict: "altered", changes: told, message: alteredMessage(told) };
}

/**
 * Changes to the whole product: a colour cast or a stretch moves every window (and a stretch the outline), so the
 * product is matched less well and parts read as missing or changed because of them alone.
 */
const WHOLE_PRODUCT_CHANGES: readonly FidelityChange[] = ["colour-cast", "proportions"];

/**
 * The failed parts worth the merchant's attention, at most two: a change to the whole product first, then the rest
 * lowest first; a product matched only weakly is a consequence of any larger change (named only alone), and a colour
 * cast over the whole product is not also a changed patch.
 */
function changesToTell(changes: readonly FidelityChange[]): FidelityChange[] {
  const told = changes.filter(
    (change) => !(change === "not-found" && changes.length > 1) && !(change === "recoloured" && changes.includes("colour-cast")),
  );
  const whole = WHOLE_PRODUCT_CHANGES.filter((change) => told.includes(change));
  return [...whole, ...told.filter((change) => !whole.includes(change))].slice(0, 2);
}

async function decodeAt(bytes: Buffer, side: number): Promise<RgbImage> {
  const { ignoreIcc } = await readHeader(bytes);
  return decodeRgb(bytes, { maxWidth: side, maxHeight: side, kernel: "linear", ignoreIcc });
}

/** The numbers behind checkFidelity (for diagnostics and calibration). */
export async function measureFidelity(original: Buffer, edited: Buffer): Promise<FidelityMeasurement> {
  const [header, sourceImage, resultImage] = await Promise.all([
    readHeader(original),
    decodeAt(original, ORIGINAL_SIDE),
    decodeAt(edited, RESULT_SIDE),
  ]);
  const resultProduct = productOnBackground(resultImage);
  if (!resultProduct) return NO_PRODUCT;
  let source = pyramidOf(toPlanes(sourceImage));
  // The product mask travels with the edited image's colours as a fourth channel.
  const resultPlanes = toPlanes(resultImage);
  resultPlanes.channels.push(Float32Array.from(resultProduct.mask));
  const result = pyramidOf(resultPlanes);
  let placement = register(source, result, resultProduct);
  if (!placement) return NO_PRODUCT;
  // A product that fills little of the original is read again at up to the original's own resolution (until it spans
  // the detail grid), so it is not compared blurred against the sharp one the model drew, and its print is compared
  // at the detail the original has.
  const productSide = sourceSideOf(placement, resultProduct.box);
  const longest = Math.max(sourceImage.width, sourceImage.height);
  const zoom = Math.min(Math.max(header.width, header.height) / longest, DETAIL_GRID / productSide);
  if (zoom > 1.25) {
    source = pyramidOf(toPlanes(await decodeAt(original, Math.round(longest * zoom))));
    const actual = Math.max(source[0]!.width, source[0]!.height) / longest;
    placement = {
      ...placement,
      scaleX: placement.scaleX * actual,
      scaleY: placement.scaleY * actual,
      left: placement.left * actual,
      top: placement.top * actual,
    };
  }
  const refined = refineFinally(source, result, resultProduct, placement);
  placement = refined.placement;
  let detailRead: Promise<DetailRead | null> | undefined;
  const structureAt = async (at: Placement) => {
    // Only where the original has clearly more detail than the coarse grid (not a product re-read up to it).
    const detailed = sourceSideOf(at, resultProduct.box) > COARSE_DETAIL_GRID * 1.25;
    const read = detailed ? await (detailRead ??= readDetail(edited, resultImage, resultProduct)) : null;
    return measureStructure(source, result, resultProduct, at, read);
  };
  let structure = await structureAt(placement);
  // Print is compared on the finest grid, where a step of the last refinement (2% in scale, 3% in proportions) shifts
  // the product's far parts by more px than the comparison's own shift search reaches. Print that looks changed is
  // compared again where the refinement climbs to its best fit, and the smaller loss counts: scrambled print matches
  // at no placement. Only print: the other parts' limits were fitted on the one-step placement (see CALIBRATION.md).
  if (structure.loss > structure.limit) {
    const again = await structureAt(refined.climbed());
    if (again.loss / again.limit < structure.loss / structure.limit) structure = again;
  }
  const measurement = compare(source, result, resultProduct, placement, structure);
  // From the px of the level compared on to the original's own.
  const toOriginal = header.width ? header.width / source[0]!.width : 1;
  const sourceBox = {
    left: placement.left * toOriginal,
    top: placement.top * toOriginal,
    width: resultProduct.box.width * placement.scaleX * toOriginal,
    height: resultProduct.box.height * placement.scaleY * toOriginal,
  };
  const frame = { width: header.width || source[0]!.width, height: header.height || source[0]!.height };
  const product = { mask: resultProduct.mask, width: resultImage.width, height: resultImage.height, box: resultProduct.box };
  return { ...measurement, placement: { sourceBox, frame, product, correlation: placement.correlation } };
}

/** The product's longest side in the original (px). */
const sourceSideOf = (placement: Placement, box: Box) => Math.max(placement.scaleX * box.width, placement.scaleY * box.height);

const NO_PRODUCT: FidelityMeasurement = {
  score: 0,
  registration: 0,
  worstAreaChange: 1,
  colourCast: 255,
  worstStructure: 1,
  missingShare: 1,
  proportionChange: 0,
  changes: ["not-found"],
  placement: null,
};

/** The edited image read larger, with its product, for the structure comparison. */
interface DetailRead {
  result: Pyramid;
  product: ResultProduct;
  /** Its px per px of the edited image as first read. */
  ratio: number;
}

async function readDetail(edited: Buffer, resultImage: RgbImage, resultProduct: ResultProduct): Promise<DetailRead | null> {
  const image = await decodeAt(edited, RESULT_DETAIL_SIDE);
  const ratio = image.width / resultImage.width;
  const product = productOnBackground(image);
  if (ratio < 1.25 || !product) return null;
  const planes = toPlanes(image);
  planes.channels.push(Float32Array.from(product.mask));
  const { box } = resultProduct;
  // The same box as registered, in the larger image's px.
  const scaledBox = { left: box.left * ratio, top: box.top * ratio, width: box.width * ratio, height: box.height * ratio };
  return { result: pyramidOf(planes), product: { ...product, box: scaledBox }, ratio };
}

/** The structure comparison's worst loss at `placement`, and the limit of the grid it was measured on. */
interface StructureMeasurement {
  loss: number;
  limit: number;
}

function measureStructure(
  source: Pyramid,
  result: Pyramid,
  resultProduct: ResultProduct,
  placement: Placement,
  detail: DetailRead | null,
): StructureMeasurement {
  // Never finer than the original's own pixels: an enlarged original is blurred, not different.
  const detailGrid = Math.round(Math.max(GRID, Math.min(DETAIL_GRID, sourceSideOf(placement, resultProduct.box))));
  if (!detail) {
    // On a coarse grid, redrawn texture loses as much structure as scrambled print: only a stark loss counts.
    const loss = compareStructure(source, result, resultProduct, placement, Math.min(detailGrid, COARSE_DETAIL_GRID));
    return { loss, limit: LIMITS.coarseStructureLoss };
  }
  const inDetail = { ...placement, scaleX: placement.scaleX / detail.ratio, scaleY: placement.scaleY / detail.ratio };
  return { loss: compareStructure(source, detail.result, detail.product, inDetail, detailGrid), limit: LIMITS.structureLoss };
}

function compare(
  source: Pyramid,
  result: Pyramid,
  resultProduct: ResultProduct,
  placement: Placement,
  structure: StructureMeasurement,
): Omit<FidelityMeasurement, "placement"> {
  // Colours on a coarse grid (tolerant of redrawn texture); structure on a finer one, where print and text still show.
  const { worstAreaChange, colourCast } = compareColours(source, result, resultProduct, placement);
  const missingShare = missingParts(source, result, resultProduct, placement);
  const proportionChange = Math.abs(Math.log(placement.scaleX / placement.scaleY));
  const parts: [FidelityChange, number][] = [
    ["recoloured", partScore(worstAreaChange, LIMITS.areaChange)],
    ["colour-cast", partScore(colourCast, LIMITS.colourCast)],
    ["print", partScore(structure.loss, structure.limit)],
    ["missing-part", partScore(missingShare, LIMITS.missingShare)],
    ["proportions", partScore(proportionChange, LIMITS.proportionChange)],
    // A product found only weakly (redrawn) is not the original's however its colours compare.
    ["not-found", partScore(1 - placement.correlation, LIMITS.registrationLoss)],
  ];
  const score = Math.min(...parts.map(([, part]) => part));
  return {
    changes: parts
      .filter(([, part]) => part < FIDELITY_THRESHOLD)
      .sort((a, b) => a[1] - b[1])
      .map(([change]) => change),
    score: Math.round(score * 1000) / 1000,
    registration: placement.correlation,
    worstAreaChange,
    colourCast,
    worstStructure: structure.loss,
    missingShare,
    proportionChange,
  };
}

const clamp01 = (v: number) => Math.max(0, Math.min(1, v));

/** 1 for no difference, FIDELITY_THRESHOLD at the part's limit, 0 at 2.5 times it. */
const partScore = (measured: number, limit: number) => clamp01(1 - ((1 - FIDELITY_THRESHOLD) * measured) / limit);

function toPlanes(image: RgbImage): Planes {
  const { data, width, height } = image;
  const n = width * height;
  const channels = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const [r, g, b] = channels as [Float32Array, Float32Array, Float32Array];
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    r[p] = data[i]!;
    g[p] = data[i + 1]!;
    b[p] = data[i + 2]!;
  }
  return { channels, width, height };
}

/** The edited image's product: a mask (1 = product) and its box. */
interface ResultProduct {
  mask: Uint8Array;
  box: Box;
  /** The result's background colour (the median of its border). */
  background: Rgb;
}

function productOnBackground(image: RgbImage): ResultProduct | null {
  const { data, width, height } = image;
  const [br, bg, bb] = borderMedian(image, 2);
  const distinct = new Uint8Array(width * height);
  for (let p = 0, i = 0; p < distinct.length; p++, i += 3) {
    const d = Math.max(Math.abs(data[i]! - br), Math.abs(data[i + 1]! - bg), Math.abs(data[i + 2]! - bb));
    distinct[p] = d > PRODUCT_DISTANCE ? 1 : 0;
  }
  // Holes stay out: where the original showed the floor through the product (an open jacket, a strap's loop) the
  // model draws the new background, which is not the product.
  const mask = distinct;
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      count++;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
    }
  }
  if (count < 16) return null;
  return { mask, box: { left, top, width: right - left + 1, height: bottom - top + 1 }, background: [br, bg, bb] };
}

/**
 * Area-average resample of `area` of `planes` (fractional px) onto an outW x outH grid, bilinear when enlarging.
 * Outside the image reads as NaN, or with `extend` as the nearest edge pixel (the edited image's backdrop).
 */
function resample(planes: Planes, area: Box, outW: number, outH: number, extend = false): Planes {
  const { width, height } = planes;
  const sx = area.width / outW;
  const sy = area.height / outH;
  const channelCount = planes.channels.length;
  const channels = planes.channels.map(() => new Float32Array(outW * outH));
  const taps = Math.max(1, Math.ceil(Math.max(sx, sy)));
  const { first: tapX0, second: tapX1, weight: tapWx } = axisTaps(area.left, sx, outW, taps, width, 1, extend);
  const { first: tapRow0, second: tapRow1, weight: tapWy } = axisTaps(area.top, sy, outH, taps, height, width, extend);
  // The channels in locals: this loop is most of registration's CPU, and an array of channels read per tap cost a
  // third more. Planes here are the three colours, the edited image's with its product mask as a fourth.
  if (channelCount !== 3 && channelCount !== 4) throw new Error("resample reads three or four channels");
  const empty = new Float32Array(1);
  const [c0 = empty, c1 = empty, c2 = empty, c3 = empty] = planes.channels;
  const [o0 = empty, o1 = empty, o2 = empty, o3 = empty] = channels;
  const withMask = channelCount === 4;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = y * outW + x;
      let n = 0;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let ty = y * taps; ty < (y + 1) * taps; ty++) {
        const row0 = tapRow0[ty]!;
        if (row0 < 0) continue;
        const row1 = tapRow1[ty]!;
        const wy = tapWy[ty]!;
        for (let t = x * taps; t < (x + 1) * taps; t++) {
          const x0 = tapX0[t]!;
          if (x0 < 0) continue;
          const x1 = tapX1[t]!;
          const wx = tapWx[t]!;
          const a = row0 + x0;
          const b = row0 + x1;
          const c = row1 + x0;
          const d = row1 + x1;
          s0 += (c0[a]! * (1 - wx) + c0[b]! * wx) * (1 - wy) + (c0[c]! * (1 - wx) + c0[d]! * wx) * wy;
          s1 += (c1[a]! * (1 - wx) + c1[b]! * wx) * (1 - wy) + (c1[c]! * (1 - wx) + c1[d]! * wx) * wy;
          s2 += (c2[a]! * (1 - wx) + c2[b]! * wx) * (1 - wy) + (c2[c]! * (1 - wx) + c2[d]! * wx) * wy;
          if (withMask) s3 += (c3[a]! * (1 - wx) + c3[b]! * wx) * (1 - wy) + (c3[c]! * (1 - wx) + c3[d]! * wx) * wy;
          n++;
        }
      }
      o0[o] = n ? s0 / n : Number.NaN;
      o1[o] = n ? s1 / n : Number.NaN;
      o2[o] = n ? s2 / n : Number.NaN;
      if (withMask) o3[o] = n ? s3 / n : Number.NaN;
    }
  }
  return { channels, width: outW, height: outH };
}

/**
 * The bilinear taps of `count` output px along one axis, `taps` per px (computed once per resample): the first and
 * second source px read (as offsets: px x `stride`) and the second's weight; first -1 for a tap outside the image.
 */
function axisTaps(origin: number, scale: number, count: number, taps: number, size: number, stride: number, extend: boolean) {
  const step = scale / taps;
  const first = new Int32Array(count * taps);
  const second = new Int32Array(count * taps);
  const weight = new Float64Array(count * taps);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < taps; k++) {
      const t = i * taps + k;
      const f = origin + i * scale + (k + 0.5) * step - 0.5;
      if (!extend && (f < -0.5 || f > size - 0.5)) {
        first[t] = -1;
        continue;
      }
      const at = Math.max(0, Math.min(size - 1, Math.floor(f)));
      first[t] = at * stride;
      second[t] = Math.min(size - 1, at + 1) * stride;
      weight[t] = Math.max(0, Math.min(1, f - at));
    }
  }
  return { first, second, weight };
}

/** The image and copies of it halved again and again (2 x 2 means), so any reduction reads few pixels. */
type Pyramid = Planes[];

function pyramidOf(planes: Planes): Pyramid {
  const levels = [planes];
  for (let top = planes; Math.min(top.width, top.height) >= 16;) {
    const width = top.width >> 1;
    const height = top.height >> 1;
    const from = top;
    const channels = from.channels.map((ch) => {
      const out = new Float32Array(width * height);
      for (let y = 0; y < height; y++) {
        const r0 = 2 * y * from.width;
        const r1 = r0 + from.width;
        for (let x = 0; x < width; x++)
          out[y * width + x] = (ch[r0 + 2 * x]! + ch[r0 + 2 * x + 1]! + ch[r1 + 2 * x]! + ch[r1 + 2 * x + 1]!) / 4;
      }
      return out;
    });
    top = { channels, width, height };
    levels.push(top);
  }
  return levels;
}

/** resample() from the smallest level of `pyramid` that still has at least one pixel per output pixel. */
function sample(pyramid: Pyramid, area: Box, outW: number, outH: number, extend = false): Planes {
  const reduction = Math.min(area.width / outW, area.height / outH);
  let k = 0;
  while (k + 1 < pyramid.length && reduction >= 2 ** (k + 1)) k++;
  const f = 2 ** k;
  return resample(
    pyramid[k]!,
    { left: area.left / f, top: area.top / f, width: area.width / f, height: area.height / f },
    outW,
    outH,
    extend,
  );
}

/** Registration features: edge strength (of the luminance) and two colour-opponent channels, weighted. */
function features(planes: Planes): Planes {
  const { width, height } = planes;
  const [r, g, b] = planes.channels as [Float32Array, Float32Array, Float32Array];
  const n = width * height;
  const lum = new Float32Array(n);
  const redGreen = new Float32Array(n);
  const blueYellow = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    lum[p] = (r[p]! + 2 * g[p]! + b[p]!) / 4;
    redGreen[p] = r[p]! - g[p]!;
    blueYellow[p] = b[p]! - (r[p]! + g[p]!) / 2;
  }
  const edges = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const dx = lum[y * width + Math.min(width - 1, x + 1)]! - lum[y * width + Math.max(0, x - 1)]!;
      const dy = lum[Math.min(height - 1, y + 1) * width + x]! - lum[Math.max(0, y - 1) * width + x]!;
      edges[p] = Math.abs(dx) + Math.abs(dy);
    }
  }
  return { channels: [edges, lum, redGreen, blueYellow], width, height };
}

/** Template channels: edges everywhere; colours only inside the product (NaN outside, where the backdrop was replaced). */
interface Template {
  planes: Planes;
  /** 1 where the product is. */
  inside: Uint8Array;
  /** The template's own sums over all of it (see correlation), for placements that lie wholly inside the image. */
  sums: TemplateSums;
}

/** Over the template: count, sum and sum of squares of the edge channel, then of each colour channel inside the product. */
interface TemplateSums {
  edges: [number, number, number];
  colours: [number, number, number][];
}

function templateSums(planes: Planes, inside: Uint8Array): TemplateSums {
  const [te, tl, ta, tb] = planes.channels as [Float32Array, Float32Array, Float32Array, Float32Array];
  let en = 0,
    et = 0,
    ett = 0,
    cn = 0,
    lt = 0,
    ltt = 0,
    at = 0,
    att = 0,
    bt = 0,
    btt = 0;
  for (let p = 0; p < inside.length; p++) {
    const e = te[p]!;
    en++;
    et += e;
    ett += e * e;
    if (!inside[p]) continue;
    const l = tl[p]!;
    const u = ta[p]!;
    const v = tb[p]!;
    cn++;
    lt += l;
    ltt += l * l;
    at += u;
    att += u * u;
    bt += v;
    btt += v * v;
  }
  return {
    edges: [en, et, ett],
    colours: [
      [cn, lt, ltt],
      [cn, at, att],
      [cn, bt, btt],
    ],
  };
}

/** The edited product's template where it spans `productSide` px (longest side), its width times `aspect` more. */
function templateAt(
  result: Pyramid,
  product: ResultProduct,
  productSide: number,
  margin: number,
  aspect = 1,
): { template: Template; marginPx: number } {
  const { box } = product;
  const scaleY = productSide / Math.max(box.width, box.height);
  const scaleX = scaleY * aspect;
  const marginPx = Math.max(1, Math.round(productSide * margin));
  const w = Math.max(2, Math.round(box.width * scaleX)) + marginPx * 2;
  const h = Math.max(2, Math.round(box.height * scaleY)) + marginPx * 2;
  const area = { left: box.left - marginPx / scaleX, top: box.top - marginPx / scaleY, width: w / scaleX, height: h / scaleY };
  const sampled = sample(result, area, w, h, true);
  const planes = features(sampled);
  const maskPlanes = { channels: [sampled.channels[3]!] };
  const inside = new Uint8Array(w * h);
  for (let p = 0; p < inside.length; p++) inside[p] = maskPlanes.channels[0]![p]! >= 0.5 ? 1 : 0;
  return { template: { planes, inside, sums: templateSums(planes, inside) }, marginPx };
}

interface Placement {
  /** Original px per edited-image px, across and down (they differ when the model stretched the product). */
  scaleX: number;
  scaleY: number;
  /** Where the edited product's box's top-left lies in the original (original px). */
  left: number;
  top: number;
  correlation: number;
}

/**
 * Normalised cross-correlation of the template with the image at (x, y), averaged over the channels (colour channels
 * weighed by their spread in the template); the edge channel over the whole template, the colour channels inside the
 * product. Template pixels outside the image are skipped.
 */
function correlation(template: Template, image: Planes, x: number, y: number): number {
  const { width: tw, height: th } = template.planes;
  const { width: iw, height: ih } = image;
  const [te, tl, ta, tb] = template.planes.channels as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [ie, il, ia, ib] = image.channels as [Float32Array, Float32Array, Float32Array, Float32Array];
  const inside = template.inside;
  // Sums per channel: count, template, image, template², image², template x image (locals: kept in registers).
  let en = 0,
    et = 0,
    ei = 0,
    ett = 0,
    eii = 0,
    eti = 0;
  let cn = 0,
    lt = 0,
    li = 0,
    ltt = 0,
    lii = 0,
    lti = 0;
  let at = 0,
    ai = 0,
    att = 0,
    aii = 0,
    ati = 0;
  let bt = 0,
    bi = 0,
    btt = 0,
    bii = 0,
    bti = 0;
  const y0 = Math.max(0, -y);
  const y1 = Math.min(th, ih - y);
  const x0 = Math.max(0, -x);
  const x1 = Math.min(tw, iw - x);
  if (x0 === 0 && y0 === 0 && x1 === tw && y1 === th) return correlationInside(template, image, x, y);
  for (let ty = y0; ty < y1; ty++) {
    let tp = ty * tw + x0;
    let ip = (y + ty) * iw + x + x0;
    for (let tx = x0; tx < x1; tx++, tp++, ip++) {
      const a = te[tp]!;
      const b = ie[ip]!;
      en++;
      et += a;
      ei += b;
      ett += a * a;
      eii += b * b;
      eti += a * b;
      if (!inside[tp]) continue;
      let u = tl[tp]!;
      let v = il[ip]!;
      cn++;
      lt += u;
      li += v;
      ltt += u * u;
      lii += v * v;
      lti += u * v;
      u = ta[tp]!;
      v = ia[ip]!;
      at += u;
      ai += v;
      att += u * u;
      aii += v * v;
      ati += u * v;
      u = tb[tp]!;
      v = ib[ip]!;
      bt += u;
      bi += v;
      btt += u * u;
      bii += v * v;
      bti += u * v;
    }
  }
  // A placement mostly outside the image is judged on too few pixels to mean anything.
  if (en < tw * th * MIN_OVERLAP) return -1;
  return weightedCorrelation([en, et, ei, ett, eii, eti, cn, lt, li, ltt, lii, lti, cn, at, ai, att, aii, ati, cn, bt, bi, btt, bii, bti]);
}

/** correlation() where the template lies wholly inside the image: the template's own sums are computed once. */
function correlationInside(template: Template, image: Planes, x: number, y: number): number {
  const { width: tw, height: th } = template.planes;
  const iw = image.width;
  const [te, tl, ta, tb] = template.planes.channels as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [ie, il, ia, ib] = image.channels as [Float32Array, Float32Array, Float32Array, Float32Array];
  const inside = template.inside;
  let ei = 0,
    eii = 0,
    eti = 0,
    li = 0,
    lii = 0,
    lti = 0,
    ai = 0,
    aii = 0,
    ati = 0,
    bi = 0,
    bii = 0,
    bti = 0;
  for (let ty = 0; ty < th; ty++) {
    let tp = ty * tw;
    let ip = (y + ty) * iw + x;
    for (let tx = 0; tx < tw; tx++, tp++, ip++) {
      const b = ie[ip]!;
      ei += b;
      eii += b * b;
      eti += te[tp]! * b;
      if (!inside[tp]) continue;
      let v = il[ip]!;
      li += v;
      lii += v * v;
      lti += tl[tp]! * v;
      v = ia[ip]!;
      ai += v;
      aii += v * v;
      ati += ta[tp]! * v;
      v = ib[ip]!;
      bi += v;
      bii += v * v;
      bti += tb[tp]! * v;
    }
  }
  const { edges, colours } = template.sums;
  const [l, a, b] = colours as [[number, number, number], [number, number, number], [number, number, number]];
  return weightedCorrelation([
    edges[0],
    edges[1],
    ei,
    edges[2],
    eii,
    eti,
    l[0],
    l[1],
    li,
    l[2],
    lii,
    lti,
    a[0],
    a[1],
    ai,
    a[2],
    aii,
    ati,
    b[0],
    b[1],
    bi,
    b[2],
    bii,
    bti,
  ]);
}

/** Per channel (count, template, image, template², image², template x image sums): the weighted mean correlation. */
function weightedCorrelation(s: number[]): number {
  let total = 0;
  let weight = 0;
  for (let c = 0, o = 0; c < 4; c++, o += 6) {
    const n = s[o]!;
    if (n < 4) continue;
    const vt = s[o + 3]! - (s[o + 1]! * s[o + 1]!) / n;
    const vi = s[o + 4]! - (s[o + 2]! * s[o + 2]!) / n;
    const cov = s[o + 5]! - (s[o + 1]! * s[o + 2]!) / n;
    // Colour channels of a plain product carry little signal.
    const w = c === 0 ? 1 : Math.min(1, Math.sqrt(Math.max(0, vt) / n) / 12);
    if (w <= 0) continue;
    total += w * (vt > 1e-6 && vi > 1e-6 ? cov / Math.sqrt(vt * vi) : 0);
    weight += w;
  }
  return weight ? total / weight : 0;
}

interface Candidate {
  /** Longest side of the level the candidate's position is in. */
  side: number;
  /** The product's longest side over the original's longest side (at its height's scale). */
  share: number;
  /** Width scale over height scale of the product in the original relative to the edit (1 = same proportions). */
  aspect: number;
  /** Top-left of the product's box, in px of the level searched. */
  x: number;
  y: number;
  correlation: number;
}

function level(source: Pyramid, side: number): { planes: Planes; scale: number } {
  const { width, height } = source[0]!;
  const scale = side / Math.max(width, height);
  const whole = { left: 0, top: 0, width, height };
  return {
    planes: features(sample(source, whole, Math.max(2, Math.round(width * scale)), Math.max(2, Math.round(height * scale)))),
    scale,
  };
}

/**
 * The best placement near `candidate` (found on a level `ratio` times smaller): scales x `factors`, proportions x
 * `aspects`, positions +-`reach` px.
 */
function refine(
  candidate: Candidate,
  ratio: number,
  planes: Planes,
  side: number,
  result: Pyramid,
  product: ResultProduct,
  factors: number[],
  reach: number,
  aspects: number[] = [1],
): Candidate {
  let best: Candidate = { ...candidate, correlation: -2 };
  const { box } = product;
  const longest = Math.max(box.width, box.height);
  const startSide = candidate.share * side;
  const startW = (box.width / longest) * startSide * candidate.aspect;
  const startH = (box.height / longest) * startSide;
  for (const factor of factors) {
    for (const aspectFactor of aspects) {
      // Proportions change about the product's mean scale.
      const share = (candidate.share * factor) / Math.sqrt(aspectFactor);
      const aspect = candidate.aspect * aspectFactor;
      const productSide = share * side;
      const { template, marginPx } = templateAt(result, product, productSide, TEMPLATE_MARGIN, aspect);
      // Rescaling about the product's centre.
      const cx = Math.round(candidate.x * ratio + (startW - (box.width / longest) * productSide * aspect) * 0.5);
      const cy = Math.round(candidate.y * ratio + (startH - (box.height / longest) * productSide) * 0.5);
      for (let dy = -reach; dy <= reach; dy++) {
        for (let dx = -reach; dx <= reach; dx++) {
          const value = correlation(template, planes, cx + dx - marginPx, cy + dy - marginPx);
          if (value > best.correlation) best = { side, share, aspect, x: cx + dx, y: cy + dy, correlation: value };
        }
      }
    }
  }
  return best;
}

/**
 * The candidate's position to a fraction of a px: the peak of a parabola through the correlations one px either side
 * (a px of the last level is about 1% of the product, enough to misalign print and folds near its outline).
 */
function subPixel(candidate: Candidate, planes: Planes, result: Pyramid, product: ResultProduct): Candidate {
  const { template, marginPx } = templateAt(result, product, candidate.share * candidate.side, TEMPLATE_MARGIN, candidate.aspect);
  const at = (dx: number, dy: number) => correlation(template, planes, candidate.x + dx - marginPx, candidate.y + dy - marginPx);
  const centre = at(0, 0);
  const peak = (before: number, after: number) => {
    const curvature = before - 2 * centre + after;
    return curvature < 0 ? Math.max(-0.5, Math.min(0.5, (before - after) / (2 * curvature))) : 0;
  };
  return { ...candidate, x: candidate.x + peak(at(-1, 0), at(1, 0)), y: candidate.y + peak(at(0, -1), at(0, 1)) };
}

/** Finds the edited product in the original: an exhaustive coarse search over scale and position, then refinement on larger levels. */
function register(source: Pyramid, result: Pyramid, product: ResultProduct): Placement | null {
  const found: Candidate[] = [];
  const near = (a: Candidate, b: Candidate) =>
    Math.abs(Math.log(a.share / b.share)) < 0.1 &&
    Math.abs(a.x / a.side - b.x / b.side) <= 2 / COARSE_SIDE &&
    Math.abs(a.y / a.side - b.y / b.side) <= 2 / COARSE_SIDE;
  // Smaller products are searched on larger levels, so that they still span several pixels there; only when no good
  // match was found among larger ones (the search costs the more, the larger the level).
  for (const [side, minShare, maxShare, enough] of SEARCH_LEVELS) {
    if (found.some((f) => f.correlation >= enough)) break;
    const coarse = level(source, side);
    for (let share = maxShare; share >= minShare; share /= SCALE_STEP) {
      const { template, marginPx } = templateAt(result, product, share * side, TEMPLATE_MARGIN);
      const tw = template.planes.width - marginPx * 2;
      const th = template.planes.height - marginPx * 2;
      // Each size keeps only its few best separate peaks (not every position tried): the candidates come from those.
      // The product lies inside the original (a pixel of slack); its margin may not. On the largest level every other
      // position is enough: the refinement searches around each candidate.
      const stride = side > COARSE_SIDE * 2 ? 2 : 1;
      const xs: number[] = [];
      const ys: number[] = [];
      for (let y = -1; y + th <= coarse.planes.height + 1; y += stride) ys.push(y);
      for (let x = -1; x + tw <= coarse.planes.width + 1; x += stride) xs.push(x);
      const scores = new Float64Array(xs.length * ys.length);
      for (let j = 0; j < ys.length; j++) {
        for (let i = 0; i < xs.length; i++)
          scores[j * xs.length + i] = correlation(template, coarse.planes, xs[i]! - marginPx, ys[j]! - marginPx);
      }
      // The best position, then the best not near it, and so on (the first in scan order among equals).
      const taken = new Uint8Array(scores.length);
      const peaks: Candidate[] = [];
      while (peaks.length < CANDIDATES) {
        let bestAt = -1;
        for (let k = 0; k < scores.length; k++) if (!taken[k] && (bestAt < 0 || scores[k]! > scores[bestAt]!)) bestAt = k;
        if (bestAt < 0) break;
        const c = {
          side,
          share,
          aspect: 1,
          x: xs[bestAt % xs.length]!,
          y: ys[Math.floor(bestAt / xs.length)]!,
          correlation: scores[bestAt]!,
        };
        peaks.push(c);
        const other = { ...c };
        for (let k = 0; k < scores.length; k++) {
          if (taken[k]) continue;
          other.x = xs[k % xs.length]!;
          other.y = ys[Math.floor(k / xs.length)]!;
          if (near(c, other)) taken[k] = 1;
        }
      }
      found.push(...peaks);
    }
  }
  found.sort((a, b) => b.correlation - a.correlation);
  // The best few of each search level, each judged against its own level's best: a larger level has more positions,
  // so its best chance match scores higher, and would crowd out a larger product's true but weaker match. Within a
  // level, small templates match a grained floor by chance about as well as a pale product matches its own size, so
  // the best of each half of the level's sizes is a candidate too.
  const candidates: Candidate[] = [];
  const contenders: Candidate[] = [];
  const isNew = (f: Candidate) => !candidates.some((c) => near(c, f));
  for (const [side, minShare, maxShare] of SEARCH_LEVELS) {
    const ofLevel = found.filter((f) => f.side === side);
    const middle = Math.sqrt(minShare * maxShare);
    const larger = (f: Candidate) => f.share >= middle;
    const picks: Candidate[] = [];
    const take = (f: Candidate) => {
      picks.push(f);
      candidates.push(f);
    };
    for (const f of ofLevel) {
      if (picks.length === CANDIDATES_PER_LEVEL) break;
      if (isNew(f)) take(f);
    }
    for (const f of ofLevel) if (!picks.some((c) => larger(c) === larger(f)) && isNew(f)) take(f);
    // The level's first pick is its best.
    contenders.push(...picks.filter((c) => c.correlation >= picks[0]!.correlation - CANDIDATE_MARGIN));
  }
  if (!contenders.length) return null;

  const { planes: refineLevel } = level(source, REFINE_SIDE);
  const longest = Math.max(source[0]!.width, source[0]!.height);
  const levels = new Map<number, Planes>();
  const levelOf = (side: number) => levels.get(side) ?? levels.set(side, level(source, side).planes).get(side)!;
  let best: { candidate: Candidate; judged: number } | null = null;
  for (const candidate of contenders) {
    const nearby = refine(candidate, REFINE_SIDE / candidate.side, refineLevel, REFINE_SIDE, result, product, [0.95, 1, 1.05], 2);
    // Judged where the product spans VERIFY_SPAN px, so candidates of every size are compared on templates of one
    // size; a product the original has too few px for is judged on a smaller template, and trusted less.
    const side = Math.min(longest, Math.round(VERIFY_SPAN / nearby.share));
    // A px of the refinement level is side / REFINE_SIDE px of this one: the search reaches half of that either side.
    const reach = Math.max(1, Math.ceil(side / REFINE_SIDE / 2));
    const verified = refine(nearby, side / REFINE_SIDE, levelOf(side), side, result, product, [0.97, 1, 1.03], reach);
    const judged = verified.correlation * Math.sqrt(Math.min(1, (verified.share * side) / VERIFY_SPAN));
    if (!best || judged > best.judged) best = { candidate: verified, judged };
  }
  const { box } = product;
  return placementOf(best!.candidate, longest, best!.candidate.side, box);
}

function placementOf(best: Candidate, longest: number, side: number, box: Box): Placement {
  const scaleY = (best.share * longest) / Math.max(box.width, box.height);
  const toSource = longest / side;
  return { scaleX: scaleY * best.aspect, scaleY, left: best.x * toSource, top: best.y * toSource, correlation: best.correlation };
}

/**
 * The placement refined on the level where the product spans FINAL_PRODUCT_SIDE px (at most the original's own):
 * first its proportions (a model may stretch the product), on a level half as large, then scale and position. And,
 * when asked for, the same two steps each climbed on to its best fit (see climb), from the proportions already found.
 */
function refineFinally(
  source: Pyramid,
  result: Pyramid,
  product: ResultProduct,
  placement: Placement,
): { placement: Placement; climbed: () => Placement } {
  const longest = Math.max(source[0]!.width, source[0]!.height);
  const { box } = product;
  const share = (placement.scaleY * Math.max(box.width, box.height)) / longest;
  const side = Math.min(longest, Math.round(FINAL_PRODUCT_SIDE / share));
  const toLevel = side / longest;
  const aspect = placement.scaleX / placement.scaleY;
  const start: Candidate = {
    side,
    share,
    aspect,
    x: Math.round(placement.left * toLevel),
    y: Math.round(placement.top * toLevel),
    correlation: placement.correlation,
  };
  const half = Math.max(2, Math.round(side / 2));
  const halfPlanes = level(source, half).planes;
  const planes = level(source, side).planes;
  const proportioned = refine(start, half / side, halfPlanes, half, result, product, [0.94, 1, 1.06], 2, ASPECTS);
  const positioned = (from: Candidate, climbing: boolean) => {
    const fitted = refine(from, side / half, planes, side, result, product, [0.98, 1, 1.02], 1, [0.97, 1, 1.03]);
    const best = subPixel(climbing ? climb(fitted, planes, result, product, [0.98, 1, 1.02]) : fitted, planes, result, product);
    return { ...placementOf(best, longest, side, box), correlation: Math.max(best.correlation, placement.correlation) };
  };
  return {
    placement: positioned(proportioned, false),
    climbed: () => positioned(climb(proportioned, halfPlanes, result, product, [0.97, 1, 1.03]), true),
  };
}

/**
 * From `candidate`, the best of its neighbours (scale and proportions x `steps`, a px either way) while that correlates
 * better: one search around a coarser level's fit can stop a step short of the peak, where scale and proportions trade
 * off against each other (a longer leg for a narrower one).
 */
function climb(candidate: Candidate, planes: Planes, result: Pyramid, product: ResultProduct, steps: number[]): Candidate {
  let best = candidate;
  for (let step = 0; step < CLIMB_STEPS; step++) {
    const next = refine(best, 1, planes, best.side, result, product, steps, 1, steps);
    if (next.correlation <= best.correlation + 1e-9) break;
    best = next;
  }
  return best;
}

/**
 * The original (a) and the edited product (b) at its placement, on the comparison grid, with `margin` (share) around;
 * unblurred (each comparison blurs what it reads).
 */
function alignedPatches(source: Pyramid, result: Pyramid, product: ResultProduct, placement: Placement, margin: number, grid = GRID) {
  const { box } = product;
  const gridScale = grid / Math.max(box.width, box.height);
  const marginPx = Math.round(grid * margin);
  const w = Math.max(2, Math.round(box.width * gridScale)) + marginPx * 2;
  const h = Math.max(2, Math.round(box.height * gridScale)) + marginPx * 2;
  const resultArea = {
    left: box.left - marginPx / gridScale,
    top: box.top - marginPx / gridScale,
    width: w / gridScale,
    height: h / gridScale,
  };
  const sourceArea = {
    left: placement.left - (marginPx / gridScale) * placement.scaleX,
    top: placement.top - (marginPx / gridScale) * placement.scaleY,
    width: resultArea.width * placement.scaleX,
    height: resultArea.height * placement.scaleY,
  };
  const sharpA = sample(source, sourceArea, w, h);
  const sampled = sample(result, resultArea, w, h, true);
  const maskPlanes = { channels: [sampled.channels.pop()!] };
  const inside = new Uint8Array(w * h);
  for (let p = 0; p < inside.length; p++) inside[p] = maskPlanes.channels[0]![p]! >= 0.5 ? 1 : 0;
  return { sharpA, sharpB: sampled, inside, width: w, height: h, marginPx };
}

type AlignedPatches = ReturnType<typeof alignedPatches>;

/** 3x3 mean (NaN-aware): tolerates sub-pixel misregistration, sharpening and softening. */
function blur3(planes: Planes): Planes {
  const { width, height } = planes;
  // Separable: sums and counts of the valid px along each row's 3 px, then down each column's 3 rows.
  const rowSums = new Float64Array(width * height);
  const rowCounts = new Uint8Array(width * height);
  const channels = planes.channels.map((ch) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        let n = 0;
        for (let p = y * width + Math.max(0, x - 1), end = y * width + Math.min(width - 1, x + 1); p <= end; p++) {
          const v = ch[p]!;
          if (Number.isNaN(v)) continue;
          s += v;
          n++;
        }
        rowSums[y * width + x] = s;
        rowCounts[y * width + x] = n;
      }
    }
    const out = new Float32Array(ch.length);
    for (let y = 0; y < height; y++) {
      const from = Math.max(0, y - 1) * width;
      const to = Math.min(height - 1, y + 1) * width;
      for (let x = 0; x < width; x++) {
        let s = 0;
        let n = 0;
        for (let p = from + x; p <= to + x; p += width) {
          s += rowSums[p]!;
          n += rowCounts[p]!;
        }
        out[y * width + x] = n ? s / n : Number.NaN;
      }
    }
    return out;
  });
  return { channels, width, height };
}

/** The product's core on an aligned pair: two px (at GRID) in from the outline, where the original is in frame. */
function coreOf(patches: AlignedPatches, grid: number): Uint8Array {
  const { inside, sharpA, width, height } = patches;
  // The blur mixes in one px of backdrop (a floor in one, white in the other), and registration is good to about a px.
  const core = erodeDiamond(inside, width, height, Math.round((2 * grid) / GRID));
  for (let p = 0; p < core.length; p++) if (Number.isNaN(sharpA.channels[0]![p]!)) core[p] = 0;
  return core;
}

/**
 * Colour of the product after fitting the model's relighting: the largest share of changed pixels in a window of
 * the product (a recoloured label or patch), and the colour cast left over the whole product (a hue shift).
 */
function compareColours(
  source: Pyramid,
  result: Pyramid,
  product: ResultProduct,
  placement: Placement,
): { worstAreaChange: number; colourCast: number } {
  const patches = alignedPatches(source, result, product, placement, 0, GRID);
  const { width, height } = patches;
  const a = blur3(patches.sharpA);
  const b = blur3(patches.sharpB);
  const core = coreOf(patches, GRID);
  const fit = relightingFit(a, b, core);
  const changed = new Uint8Array(core.length);
  for (let p = 0; p < core.length; p++) {
    if (!core[p]) continue;
    let worst = 0;
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(b.channels[c]![p]! - (fit.gain * a.channels[c]![p]! + fit.offsets[c]!)));
    if (worst > CHANGED_PIXEL) changed[p] = 1;
  }
  return { worstAreaChange: worstWindowShare(changed, core, width, height, Math.round(GRID / CELLS)), colourCast: fit.cast };
}

/**
 * The largest share of `flagged` pixels among the `core` pixels of any window x window square (sliding by a px):
 * a change is measured whole wherever it lies, not split between fixed cells. Windows mostly outside the product
 * are too noisy to judge (and the outline is drawn anew).
 */
function worstWindowShare(flagged: Uint8Array, core: Uint8Array, width: number, height: number, window: number): number {
  const stride = width + 1;
  const coreSum = new Uint32Array(stride * (height + 1));
  const flaggedSum = new Uint32Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowCore = 0;
    let rowFlagged = 0;
    for (let x = 0; x < width; x++) {
      rowCore += core[y * width + x]!;
      rowFlagged += flagged[y * width + x]!;
      coreSum[(y + 1) * stride + x + 1] = coreSum[y * stride + x + 1]! + rowCore;
      flaggedSum[(y + 1) * stride + x + 1] = flaggedSum[y * stride + x + 1]! + rowFlagged;
    }
  }
  const sum = (table: Uint32Array, x: number, y: number) =>
    table[(y + window) * stride + x + window]! -
    table[y * stride + x + window]! -
    table[(y + window) * stride + x]! +
    table[y * stride + x]!;
  const minPixels = window * window * MIN_CELL_COVER;
  let worst = 0;
  for (let y = 0; y + window <= height; y++) {
    for (let x = 0; x + window <= width; x++) {
      const n = sum(coreSum, x, y);
      if (n >= minPixels) worst = Math.max(worst, sum(flaggedSum, x, y) / n);
    }
  }
  return worst;
}

/** Structure (print, text) on a grid of `grid` px: the largest loss of structural similarity in a window. */
function compareStructure(source: Pyramid, result: Pyramid, product: ResultProduct, placement: Placement, grid: number): number {
  const patches = alignedPatches(source, result, product, placement, 0, grid);
  const core = coreOf(patches, grid);
  // Blurred after taking the luminance: a third of the work of blurring the colours (the same up to rounding).
  const lumA = blur3(luminance(patches.sharpA));
  const lumB = blur3(luminance(patches.sharpB));
  // The placement is refined where the product spans FINAL_PRODUCT_SIDE px: on a finer grid its error spans more px.
  const reach = Math.max(1, Math.round(grid / FINAL_PRODUCT_SIDE));
  return structureLoss(lumA.channels[0]!, lumB.channels[0]!, core, patches.width, patches.height, DETAIL_CELLS, reach);
}

function luminance(planes: Planes): Planes {
  const [r, g, b] = planes.channels as [Float32Array, Float32Array, Float32Array];
  const out = new Float32Array(r.length);
  for (let p = 0; p < out.length; p++) out[p] = (r[p]! + 2 * g[p]! + b[p]!) / 4;
  return { channels: [out], width: planes.width, height: planes.height };
}

/**
 * The largest loss, over windows of a `cells` x `cells` division of the patch (and the same windows shifted by half
 * a window, so a change is never split between windows), of structural similarity (SSIM's contrast-structure term)
 * between the two (blurred) luminances, each window at its best shift of up to a pixel (up to `reach` px towards the
 * product's outline, for a window that differs at those): sharpening, softening and the registration's own error do
 * not count, while scrambled text or print does.
 */
function structureLoss(
  lumA: Float32Array,
  lumB: Float32Array,
  core: Uint8Array,
  width: number,
  height: number,
  cells: number,
  reach: number,
): number {
  // Moments per half-window tile; a window is 2 x 2 tiles.
  const tiles = cells * 2;
  const tileW = width / tiles;
  const tileH = height / tiles;
  const tileOfX = Int32Array.from({ length: width }, (_, x) => Math.min(tiles - 1, Math.floor(x / tileW)));
  const tileOfY = Int32Array.from({ length: height }, (_, y) => Math.min(tiles - 1, Math.floor(y / tileH)));
  const minWindowPixels = 4 * tileW * tileH * MIN_CELL_COVER;
  const windows = (tiles - 1) * (tiles - 1);
  const best = new Float64Array(windows).fill(Number.NEGATIVE_INFINITY);
  const moments = new Float64Array(tiles * tiles * 6);
  const window = new Float64Array(6);
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      moments.fill(0);
      for (let y = Math.max(0, -dy); y < Math.min(height, height - dy); y++) {
        const rowTile = tileOfY[y]! * tiles;
        for (let x = Math.max(0, -dx); x < Math.min(width, width - dx); x++) {
          const p = y * width + x;
          if (!core[p]) continue;
          const la = lumA[p]!;
          const lb = lumB[p + dy * width + dx]!;
          const m = (rowTile + tileOfX[x]!) * 6;
          moments[m]!++;
          moments[m + 1]! += la;
          moments[m + 2]! += lb;
          moments[m + 3]! += la * la;
          moments[m + 4]! += lb * lb;
          moments[m + 5]! += la * lb;
        }
      }
      for (let wy = 0; wy < tiles - 1; wy++) {
        for (let wx = 0; wx < tiles - 1; wx++) {
          window.fill(0);
          for (const t of [wy * tiles + wx, wy * tiles + wx + 1, (wy + 1) * tiles + wx, (wy + 1) * tiles + wx + 1]) {
            for (let k = 0; k < 6; k++) window[k]! += moments[t * 6 + k]!;
          }
          if (window[0]! < minWindowPixels) continue;
          const w = wy * (tiles - 1) + wx;
          best[w] = Math.max(best[w]!, structureSimilarity(window[0]!, window[1]!, window[2]!, window[3]!, window[4]!, window[5]!));
        }
      }
    }
  }
  // A window that looks changed at every shift of a px is searched further, up to `reach` px: the registration's
  // error in scale and proportions misaligns the product's far parts by more than a px on a fine grid.
  if (reach > 1) {
    const tileStartX = tileStarts(tileOfX, tiles);
    const tileStartY = tileStarts(tileOfY, tiles);
    for (let w = 0; w < windows; w++) {
      if (!(1 - best[w]! > WIDER_SEARCH_FROM)) continue;
      const wx = w % (tiles - 1);
      const wy = Math.floor(w / (tiles - 1));
      const area = { left: tileStartX[wx]!, right: tileStartX[wx + 2]!, top: tileStartY[wy]!, bottom: tileStartY[wy + 2]! };
      // How far the window's centre lies from the product's (0 at its centre, 1 at its box), where the error grows to.
      const away = Math.max(Math.abs((area.left + area.right) / width - 1), Math.abs((area.top + area.bottom) / height - 1));
      const windowReach = Math.max(1, Math.round(reach * Math.min(1, away)));
      let wider = Number.NEGATIVE_INFINITY;
      for (let dy = -windowReach; dy <= windowReach; dy++) {
        for (let dx = -windowReach; dx <= windowReach; dx++) {
          if (Math.abs(dx) <= 1 && Math.abs(dy) <= 1) continue;
          wider = Math.max(wider, windowSimilarity(lumA, lumB, core, width, height, area, dx, dy, minWindowPixels));
        }
      }
      // Displaced structure matches clearly better somewhere; scrambled structure matches about as badly everywhere,
      // and only chance lifts its best among more shifts.
      if (wider >= best[w]! + WIDER_SEARCH_GAIN) best[w] = wider;
    }
  }
  let worst = 0;
  for (const similarity of best) if (similarity > Number.NEGATIVE_INFINITY) worst = Math.max(worst, 1 - similarity);
  return worst;
}

/** The first px of each tile (and one past the last tile's end), from each px's tile. */
function tileStarts(tileOf: Int32Array, tiles: number): Int32Array {
  const starts = new Int32Array(tiles + 1).fill(tileOf.length);
  for (let i = tileOf.length - 1; i >= 0; i--) starts[tileOf[i]!] = i;
  return starts;
}

/**
 * SSIM's contrast-structure term from the moments of two luminances over a window: count, sums, sums of squares and
 * the sum of products; `plain` where both are plain (variance under MIN_STRUCTURE_VARIANCE).
 */
function structureSimilarity(n: number, sa: number, sb: number, saa: number, sbb: number, sab: number, plain = 1): number {
  const va = saa / n - (sa / n) ** 2;
  const vb = sbb / n - (sb / n) ** 2;
  const cov = sab / n - (sa * sb) / n / n;
  // Where both are plain, the structure term only measures noise: they match. (Skipping such a shift instead judged a
  // plain window only at the shifts that drag a neighbouring edge into it.)
  return Math.max(va, vb) < MIN_STRUCTURE_VARIANCE ? plain : (2 * cov + STRUCTURE_C) / (va + vb + STRUCTURE_C);
}

/** The structure term between `a` over `area` and `b` shifted by (dx, dy), as structureLoss computes it per window. */
function windowSimilarity(
  lumA: Float32Array,
  lumB: Float32Array,
  core: Uint8Array,
  width: number,
  height: number,
  area: { left: number; right: number; top: number; bottom: number },
  dx: number,
  dy: number,
  minPixels: number,
): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let y = Math.max(area.top, -dy); y < Math.min(area.bottom, height - dy); y++) {
    for (let x = Math.max(area.left, -dx); x < Math.min(area.right, width - dx); x++) {
      const p = y * width + x;
      if (!core[p]) continue;
      const la = lumA[p]!;
      const lb = lumB[p + dy * width + dx]!;
      n++;
      sa += la;
      sb += lb;
      saa += la * la;
      sbb += lb * lb;
      sab += la * lb;
    }
  }
  // Shifted onto a plain part of either, a window would pass as plain: only a match of its structure counts.
  return n < minPixels ? Number.NEGATIVE_INFINITY : structureSimilarity(n, sa, sb, saa, sbb, sab, Number.NEGATIVE_INFINITY);
}

/**
 * The model's relighting from `a` to `b` over `core`: one gain for all channels (matching the spreads: a least-
 * squares slope would shrink towards 0 on a plain product, where noise is most of the spread), and per channel an
 * offset (the median difference), within a small white-balance change of the others. What is left of the channels'
 * offsets beyond that is the product's colour cast (a hue shift of the whole product).
 */
function relightingFit(a: Planes, b: Planes, core: Uint8Array): { gain: number; offsets: number[]; cast: number } {
  let n = 0;
  let va = 0;
  let vb = 0;
  for (let c = 0; c < 3; c++) {
    const ca = a.channels[c]!;
    const cb = b.channels[c]!;
    let sa = 0;
    let sb = 0;
    let saa = 0;
    let sbb = 0;
    n = 0;
    for (let p = 0; p < core.length; p++) {
      if (!core[p]) continue;
      n++;
      sa += ca[p]!;
      sb += cb[p]!;
      saa += ca[p]! * ca[p]!;
      sbb += cb[p]! * cb[p]!;
    }
    if (!n) return { gain: 1, offsets: [0, 0, 0], cast: 0 };
    va += saa / n - (sa / n) ** 2;
    vb += sbb / n - (sb / n) ** 2;
  }
  const raw = va > 12 && vb > 12 ? Math.sqrt(vb / va) : 1;
  const gain = Math.max(1 - MAX_GAIN_CHANGE, Math.min(1 + MAX_GAIN_CHANGE, raw));
  const medians = [0, 1, 2].map((c) => medianDifference(a.channels[c]!, b.channels[c]!, gain, core, n));
  const common = (medians[0]! + medians[1]! + medians[2]!) / 3;
  const offset = Math.max(-MAX_OFFSET, Math.min(MAX_OFFSET, common));
  const cast = Math.max(...medians.map((m) => Math.abs(m - common)));
  const offsets = medians.map((m) => offset + Math.max(-MAX_BALANCE, Math.min(MAX_BALANCE, m - common)));
  return { gain, offsets, cast };
}

/** Median of b - gain x a over `core` (n pixels), to the nearest half level. */
function medianDifference(a: Float32Array, b: Float32Array, gain: number, core: Uint8Array, n: number): number {
  const histogram = new Uint32Array(2048);
  for (let p = 0; p < core.length; p++) {
    if (!core[p]) continue;
    histogram[Math.max(0, Math.min(2047, Math.round((b[p]! - gain * a[p]!) * 2) + 1024))]!++;
  }
  for (let bin = 0, seen = 0; bin < 2048; bin++) {
    seen += histogram[bin]!;
    if (seen * 2 >= n) return (bin - 1024) / 2;
  }
  return 0;
}

/**
 * Parts of the product the edit lacks: pixels of the original next to the edited product's outline whose colour is
 * the product's (not its surroundings'), connected to the product. A hand, a hanger or the floor has other colours.
 * Grown like a hysteresis threshold: from clearly product-coloured pixels at the outline through pixels that only lean
 * to the product's colours (a lit or shaded part of it), then closed and opened with a 3 x 3 square, so that a band a
 * px or two wide along the outline (blurred edges, a mask drawn a little tight) does not count, while a part with depth
 * does. Grown a second time through colours product-like in either set of bins (BIN_SHIFTS), counting only the parts
 * cut through the product's texture; the larger share counts.
 */
function missingParts(source: Pyramid, result: Pyramid, product: ResultProduct, placement: Placement): number {
  const { sharpA, sharpB, inside, width, height, marginPx } = alignedPatches(source, result, product, placement, MISSING_MARGIN);
  const near = dilationDistance(inside, width, height, 4);
  const shown = shownOutsideMask(sharpB, inside, product.background);
  const patch: MissingPatch = { sharp: sharpA, blurred: blur3(sharpA), inside, near, shown, width, height, marginPx };
  const frame = frameSurroundings(source, product, placement);
  const [binned, shifted] = BIN_SHIFTS.map((shift) => productLikeness(patch, frame, shift));
  if (!binned || !shifted) return 0;
  const eitherBins = binned.map((like, p) => Math.max(like, shifted[p]!));
  return Math.max(grownPartsShare(patch, binned, false), grownPartsShare(patch, eitherBins, true));
}

/** The original around the product on the missing parts' grid (`marginPx` around its box), and the edited product there. */
interface MissingPatch {
  sharp: Planes;
  blurred: Planes;
  inside: Uint8Array;
  /** Distance (px, up to 4) of each px outside the product from it; 0 farther or inside. */
  near: Uint8Array;
  /** 1 where the result shows something outside its product mask (see shownOutsideMask). */
  shown: Uint8Array;
  width: number;
  height: number;
  marginPx: number;
}

/**
 * 1 where the result, outside its product mask, differs from its background by more than SHOWN_DISTANCE: the palest
 * edge of a white or pale product, which the mask (PRODUCT_DISTANCE) leaves out but the result does show, so the
 * original's product there is not missing from it.
 */
function shownOutsideMask(result: Planes, inside: Uint8Array, [br, bg, bb]: Rgb): Uint8Array {
  const [r, g, b] = result.channels as [Float32Array, Float32Array, Float32Array];
  const shown = new Uint8Array(inside.length);
  for (let p = 0; p < inside.length; p++) {
    if (inside[p]) continue;
    if (Math.max(Math.abs(r[p]! - br), Math.abs(g[p]! - bg), Math.abs(b[p]! - bb)) > SHOWN_DISTANCE) shown[p] = 1;
  }
  return shown;
}

/**
 * How product-like each px outside the product is (CLEARLY_PRODUCT, LEANING_PRODUCT or 0): how much more often its
 * colour bin holds the product's px than the surroundings' (next to the product, or along the original's frame); null
 * when there is no product or no surroundings to tell them by.
 */
function productLikeness(
  { blurred, inside, near, width, height, marginPx }: MissingPatch,
  frame: FrameSurroundings,
  shift: number,
): Uint8Array | null {
  const bins = (p: number) => colourBin(blurred, p, shift);
  const valid = (p: number) => !Number.isNaN(blurred.channels[0]![p]!);
  const productHistogram = new Float32Array(BINS);
  let productCount = 0;
  for (let p = 0; p < inside.length; p++) {
    if (!valid(p) || !inside[p]) continue;
    productHistogram[bins(p)]!++;
    productCount++;
  }
  // The surroundings next to the product (outside its box in the patch, or when the original has too little of that,
  // anywhere away from it), and along the original's frame (see frameSurroundings).
  const outsideBox = (p: number) => {
    const x = p % width;
    const y = (p - x) / width;
    return x < marginPx - 1 || y < marginPx - 1 || x > width - marginPx || y > height - marginPx;
  };
  const nextTo = (onlyOutsideBox: boolean) => {
    const histogram = new Float32Array(BINS);
    let count = 0;
    for (let p = 0; p < inside.length; p++) {
      if (!valid(p) || inside[p] || near[p] !== 0 || (onlyOutsideBox && !outsideBox(p))) continue;
      histogram[bins(p)]!++;
      count++;
    }
    return { histogram, count };
  };
  let surroundings = nextTo(true);
  if (surroundings.count < MIN_SURROUND * productCount) surroundings = nextTo(false);
  const { histogram: surroundHistogram, count: surroundCount } = surroundings;
  if (!productCount || !surroundCount) return null;
  const frameHistogram = frame.histograms.get(shift)!;
  const productLike = new Uint8Array(inside.length);
  for (let p = 0; p < inside.length; p++) {
    if (inside[p] || !valid(p)) continue;
    const bin = bins(p);
    const pp = productHistogram[bin]! / productCount;
    const ps = Math.max(
      surroundHistogram[bin]! / surroundCount,
      frame.count >= MIN_FRAME_SURROUND ? frameHistogram[bin]! / frame.count : 0,
    );
    productLike[p] = pp > 0.01 && pp > ps * 4 ? CLEARLY_PRODUCT : pp > 0.005 && pp > ps * 2.5 ? LEANING_PRODUCT : 0;
  }
  return productLike;
}

/**
 * The product-coloured area of the original next to the product that the edit lacks, over the product's area: grown
 * from the product's outline through product-like px. With `onlyCutThroughTexture`, only the parts outside the
 * product whose texture runs on across its outline count (see cutThroughTexture).
 */
function grownPartsShare(patch: MissingPatch, productLike: Uint8Array, onlyCutThroughTexture: boolean): number {
  const { sharp, blurred, inside, near, shown, width, height } = patch;
  const queue = new Int32Array(inside.length);
  const reached = new Uint8Array(inside.length);
  let tail = 0;
  for (let p = 0; p < inside.length; p++) {
    if (productLike[p] === CLEARLY_PRODUCT && near[p] === 1) {
      reached[p] = 1;
      queue[tail++] = p;
    }
  }
  for (let head = 0; head < tail; head++) {
    const p = queue[head]!;
    const x = p % width;
    for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
      if (q < 0 || q >= inside.length || reached[q] || !productLike[q]) continue;
      reached[q] = 1;
      queue[tail++] = q;
    }
  }
  // Closed first (outside the product): behind a textured backdrop the part is reached as lace, not as a band.
  const closed = close(reached, width, height, 1);
  for (let p = 0; p < closed.length; p++) closed[p] = (closed[p]! & (1 - inside[p]!)) | reached[p]!;
  const parts = open(closed, width, height, 1);
  // Ignore a rim one px wide (edges redrawn, misregistration) and, outside the product, what the result shows.
  let missing = 0;
  if (!onlyCutThroughTexture) for (let p = 0; p < inside.length; p++) if (parts[p] && inside[p] && near[p] !== 1) missing++;
  for (const part of partsOutside(parts, inside, width)) {
    const steps = stepsAcrossOutline(sharp, part, inside, width, height);
    if (onlyCutThroughTexture && !cutThroughTexture(steps)) continue;
    const counted = part.filter((p) => near[p] !== 1 && !shown[p]).length;
    const cut = median(steps.across) <= CONTINUOUS_STEP ? CUT_PART_WEIGHT : 1;
    const productColoured = matchesProductBeside(blurred, part, inside, parts, width, height) ? PRODUCT_COLOURED_PART_WEIGHT : 1;
    missing += counted * cut * productColoured;
  }
  let area = 0;
  for (let p = 0; p < inside.length; p++) area += inside[p]!;
  return area ? missing / area : 0;
}

/** The 4-connected regions of `parts` outside the product, each as its px. */
function partsOutside(parts: Uint8Array, inside: Uint8Array, width: number): number[][] {
  const seen = new Uint8Array(parts.length);
  const regions: number[][] = [];
  for (let start = 0; start < parts.length; start++) {
    if (!parts[start] || inside[start] || seen[start]) continue;
    seen[start] = 1;
    const region = [start];
    for (let head = 0; head < region.length; head++) {
      const p = region[head]!;
      const x = p % width;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
        if (q < 0 || q >= parts.length || seen[q] || !parts[q] || inside[q]) continue;
        seen[q] = 1;
        region.push(q);
      }
    }
    regions.push(region);
  }
  return regions;
}

/**
 * Whether the mean colour of `region` in the original is PRODUCT_BESIDE_RATIO times nearer that of the product's px
 * within BESIDE px of it than that of the other px there (neither product nor a missing part).
 */
function matchesProductBeside(
  original: Planes,
  region: number[],
  inside: Uint8Array,
  parts: Uint8Array,
  width: number,
  height: number,
): boolean {
  const seen = new Uint8Array(inside.length);
  for (const p of region) seen[p] = 1;
  const means = { part: [0, 0, 0, 0], product: [0, 0, 0, 0], surroundings: [0, 0, 0, 0] };
  const add = (sum: number[], p: number) => {
    if (Number.isNaN(original.channels[0]![p]!)) return;
    for (let c = 0; c < 3; c++) sum[c]! += original.channels[c]![p]!;
    sum[3]!++;
  };
  for (const p of region) {
    add(means.part, p);
    const x = p % width;
    const y = (p - x) / width;
    for (let yy = Math.max(0, y - BESIDE); yy <= Math.min(height - 1, y + BESIDE); yy++) {
      for (let xx = Math.max(0, x - BESIDE); xx <= Math.min(width - 1, x + BESIDE); xx++) {
        const q = yy * width + xx;
        if (seen[q]) continue;
        seen[q] = 1;
        if (inside[q]) add(means.product, q);
        else if (!parts[q]) add(means.surroundings, q);
      }
    }
  }
  const { part, product, surroundings } = means;
  if (!part[3] || !product[3] || !surroundings[3]) return false;
  const distance = (a: number[], b: number[]) => Math.hypot(...[0, 1, 2].map((c) => a[c]! / a[3]! - b[c]! / b[3]!));
  return distance(part, surroundings) >= PRODUCT_BESIDE_RATIO * distance(part, product);
}

const FOUR_DIRECTIONS = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
] as const;

/**
 * Colour steps (largest of the three channels, levels) in the original where `region` touches the product's outline,
 * each over three px: across the outline (from two px outside to two px inside), within the product just inside it, and
 * beyond it just outside.
 */
function stepsAcrossOutline(original: Planes, region: number[], inside: Uint8Array, width: number, height: number) {
  const across: number[] = [];
  const within: number[] = [];
  const beyond: number[] = [];
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? -1 : y * width + x);
  const step = (a: number, b: number) => {
    let largest = 0;
    for (let c = 0; c < 3; c++) largest = Math.max(largest, Math.abs(original.channels[c]![a]! - original.channels[c]![b]!));
    return largest;
  };
  const push = (steps: number[], value: number) => {
    if (!Number.isNaN(value)) steps.push(value);
  };
  for (const p of region) {
    const x = p % width;
    const y = (p - x) / width;
    for (const [dx, dy] of FOUR_DIRECTIONS) {
      // The px beyond `p` away from the product, and the second px inside it; the product's edge lies between.
      const o = at(x - dx, y - dy);
      const i = at(x + 2 * dx, y + 2 * dy);
      if (o < 0 || i < 0 || !inside[p + dy * width + dx] || !inside[i]) continue;
      const stepAcross = step(o, i);
      if (Number.isNaN(stepAcross)) continue;
      across.push(stepAcross);
      const deeper = at(x + 5 * dx, y + 5 * dy);
      if (deeper >= 0 && inside[deeper]) push(within, step(i, deeper));
      const farther = at(x - 4 * dx, y - 4 * dy);
      if (farther >= 0 && !inside[farther]) push(beyond, step(farther, o));
    }
  }
  return { across, within, beyond };
}

/**
 * Whether the original's texture runs on across the product's outline there, as where the model cut through a printed
 * or woven product: the texture just inside and just outside alike (the smaller step at least TEXTURE_LIKENESS of the
 * larger) and the step across at most CUT_STEP_RATIO times the larger. A plain product on a textured bed or a patterned
 * product on a plain wall shows two textures; a product's true edge, a step beyond both.
 */
function cutThroughTexture({ across, within, beyond }: ReturnType<typeof stepsAcrossOutline>): boolean {
  if (across.length < MIN_OUTLINE_STEPS || !within.length || !beyond.length) return false;
  const inner = Math.max(MIN_TEXTURE_STEP, median(within));
  const outer = Math.max(MIN_TEXTURE_STEP, median(beyond));
  return Math.min(inner, outer) >= TEXTURE_LIKENESS * Math.max(inner, outer) && median(across) <= CUT_STEP_RATIO * Math.max(inner, outer);
}

/** The median of `values` (Infinity when there are none: no step could be read). */
function median(values: number[]): number {
  if (!values.length) return Number.POSITIVE_INFINITY;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The colour bin of pixel p: 32 levels a bin in each channel, the bins' edges moved down by `shift` levels (nine bins a
 * channel, so both sets share one index space).
 */
function colourBin(planes: Planes, p: number, shift: number): number {
  const [r, g, b] = planes.channels as [Float32Array, Float32Array, Float32Array];
  return channelBin(r[p]!, shift) * 81 + channelBin(g[p]!, shift) * 9 + channelBin(b[p]!, shift);
}

const channelBin = (level: number, shift: number) => Math.min(8, Math.max(0, (level + shift) >> 5));

interface FrameSurroundings {
  /** Per bin shift, the count of the ring's px in each colour bin. */
  histograms: Map<number, Float32Array>;
  count: number;
}

/**
 * Colours of the original's surroundings, read in a ring along its frame away from where the product was found:
 * a part the model left out lies next to the product (a whole trouser leg can fill the area around the product's box),
 * while the frame's edges show the floor, bed or wall it was shot on.
 */
function frameSurroundings(source: Pyramid, product: ResultProduct, placement: Placement): FrameSurroundings {
  const whole = source[0]!;
  const scale = SURROUND_SIDE / Math.max(whole.width, whole.height);
  const width = Math.max(2, Math.round(whole.width * scale));
  const height = Math.max(2, Math.round(whole.height * scale));
  const frame = sample(source, { left: 0, top: 0, width: whole.width, height: whole.height }, width, height);
  const boxWidth = product.box.width * placement.scaleX;
  const boxHeight = product.box.height * placement.scaleY;
  const left = (placement.left - boxWidth * SURROUND_BOX_GROWTH) * scale;
  const top = (placement.top - boxHeight * SURROUND_BOX_GROWTH) * scale;
  const right = (placement.left + boxWidth * (1 + SURROUND_BOX_GROWTH)) * scale;
  const bottom = (placement.top + boxHeight * (1 + SURROUND_BOX_GROWTH)) * scale;
  const histograms = new Map(BIN_SHIFTS.map((shift) => [shift, new Float32Array(BINS)]));
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inRing =
        x < width * SURROUND_RING || x >= width * (1 - SURROUND_RING) || y < height * SURROUND_RING || y >= height * (1 - SURROUND_RING);
      if (!inRing || (x >= left && x < right && y >= top && y < bottom)) continue;
      for (const [shift, histogram] of histograms) histogram[colourBin(frame, y * width + x, shift)]!++;
      count++;
    }
  }
  return { histograms, count };
}

/** For pixels outside `mask`: their 4-connected distance to it, 1..limit; 0 beyond the limit or inside. */
function dilationDistance(mask: Uint8Array, width: number, height: number, limit: number): Uint8Array {
  const distance = new Uint8Array(mask.length);
  let frontier: number[] = [];
  for (let p = 0; p < mask.length; p++) if (mask[p]) frontier.push(p);
  const seen = Uint8Array.from(mask);
  for (let d = 1; d <= limit; d++) {
    const next: number[] = [];
    for (const p of frontier) {
      const x = p % width;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
        if (q < 0 || q >= mask.length || seen[q]) continue;
        seen[q] = 1;
        distance[q] = d;
        next.push(q);
      }
    }
    frontier = next;
  }
  return distance;
}
