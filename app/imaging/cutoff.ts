import sharp from "sharp";
import { decodeRgb } from "./decode";
import { measureFidelity } from "./fidelity";
import { borderMedian, type Box } from "./segment";

export type FrameEdge = "top" | "bottom" | "left" | "right";

export interface CutOffReport {
  /** Edges of the ORIGINAL photo's frame that cut through the product (empty when the original shows all of it). */
  edges: FrameEdge[];
  /** Per edge, the share of the original's edge the product runs along (0..1), for diagnostics. */
  runs: Record<FrameEdge, number>;
  /** What the merchant is told, or null. */
  message: string | null;
}

// How it works. The original's own product outline is not reliable on a cluttered photo (floors, beds, hangers), so
// it is never segmented. The result's product is (it stands on the pipeline's flat background): the fidelity check's
// registration says where it lies in the original, and the result's product pixels, carried there, show which edges
// of the original's frame the product runs along. A product the frame cut (a hem leaving the picture) runs along an
// edge for a good part of it; a hanger's hook or a sleeve's tip touching it runs only a few percent.

/** The result is read at this size (longest side), like the fidelity check reads it. */
const RESULT_SIDE = 192;
/**
 * The original is handed to the registration at this size (longest side): at or under the size the fidelity check
 * reads originals at, so the box it reports is in these pixels.
 */
const ORIGINAL_SIDE = 256;
/** Distance from the background (max channel) above which a result pixel is product: beyond a kept soft shadow. */
const PRODUCT_DISTANCE = 24;
/**
 * A product pixel carried within this share of the original's shorter side from an edge lies on that edge: the
 * registration's slack. With the run below, chosen on the 120 corpus photos (test/integration/imaging/
 * real-photos-cutoff.test.ts): a 1% band flags fewer cut originals, 2% more whole ones.
 */
const EDGE_BAND = 0.015;
/** The product cuts an edge when it runs along at least this share of it (a hanger's hook runs 1-5%). */
export const CUT_RUN_SHARE = 0.1;
/** Below this registration correlation the product was not found in the original: nothing is claimed. */
const MIN_REGISTRATION = 0.3;

const EDGE_WORDS: Record<FrameEdge, string> = { top: "the top", bottom: "the bottom", left: "the left", right: "the right" };

export function cutOffMessage(edges: FrameEdge[]): string | null {
  if (!edges.length) return null;
  const where = edges.map((edge) => EDGE_WORDS[edge]);
  const list = where.length === 1 ? where[0]! : `${where.slice(0, -1).join(", ")} and ${where[where.length - 1]!}`;
  return `The original photo shows only part of the product (cut off at ${list}); the result may look cropped. Use a photo that shows the whole product for a complete result.`;
}

const NONE: Record<FrameEdge, number> = { top: 0, bottom: 0, left: 0, right: 0 };

/**
 * Which edges of the original's frame cut through the product, judged by where the result's product lies in the
 * original. `original` is the photo as the model was shown it (oriented, sRGB); `result` the post-processed output.
 */
export async function detectCutOff(original: Buffer, result: Buffer): Promise<CutOffReport> {
  const small = await sharp(original).resize(ORIGINAL_SIDE, ORIGINAL_SIDE, { fit: "inside", withoutEnlargement: true, kernel: "linear" }).jpeg({ quality: 90 }).toBuffer({ resolveWithObject: true });
  const [placement, image] = await Promise.all([measureFidelity(small.data, result), decodeRgb(result, { maxWidth: RESULT_SIDE, maxHeight: RESULT_SIDE, kernel: "linear" })]);
  const { sourceBox } = placement;
  if (!sourceBox || placement.registration < MIN_REGISTRATION) return { edges: [], runs: { ...NONE }, message: null };
  const runs = edgeRuns(image, sourceBox, { width: small.info.width, height: small.info.height });
  const edges = (Object.keys(runs) as FrameEdge[]).filter((edge) => runs[edge] >= CUT_RUN_SHARE);
  return { edges, runs, message: cutOffMessage(edges) };
}

/** Share of each edge of the original the result's product, carried onto `sourceBox`, runs along (exported for calibration). */
export function edgeRuns(
  image: { data: Uint8Array; width: number; height: number },
  sourceBox: Box,
  frame: { width: number; height: number },
  edgeBand = EDGE_BAND,
): Record<FrameEdge, number> {
  const { data, width, height } = image;
  const [br, bg, bb] = borderMedian(image, 2);
  const product = new Uint8Array(width * height);
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const i = p * 3;
      if (Math.max(Math.abs(data[i]! - br), Math.abs(data[i + 1]! - bg), Math.abs(data[i + 2]! - bb)) <= PRODUCT_DISTANCE) continue;
      product[p] = 1;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
    }
  }
  if (right < 0) return { ...NONE };
  const sx = sourceBox.width / (right - left + 1);
  const sy = sourceBox.height / (bottom - top + 1);
  const band = Math.max(1, Math.min(frame.width, frame.height) * edgeBand);
  const along: Record<FrameEdge, Uint8Array> = {
    top: new Uint8Array(frame.width),
    bottom: new Uint8Array(frame.width),
    left: new Uint8Array(frame.height),
    right: new Uint8Array(frame.height),
  };
  const mark = (line: Uint8Array, from: number, to: number) => {
    for (let k = Math.max(0, Math.floor(from)); k < Math.min(line.length, Math.ceil(to)); k++) line[k] = 1;
  };
  for (let y = top; y <= bottom; y++) {
    const y0 = sourceBox.top + (y - top) * sy;
    const y1 = y0 + sy;
    for (let x = left; x <= right; x++) {
      if (!product[y * width + x]) continue;
      const x0 = sourceBox.left + (x - left) * sx;
      const x1 = x0 + sx;
      if (y0 < band) mark(along.top, x0, x1);
      if (y1 > frame.height - band) mark(along.bottom, x0, x1);
      if (x0 < band) mark(along.left, y0, y1);
      if (x1 > frame.width - band) mark(along.right, y0, y1);
    }
  }
  const share = (line: Uint8Array) => line.reduce((sum, v) => sum + v, 0) / line.length;
  return { top: share(along.top), bottom: share(along.bottom), left: share(along.left), right: share(along.right) };
}
