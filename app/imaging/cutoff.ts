import type { ProductPlacement } from "./fidelity";
import type { Box } from "./segment";

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
// registration says where it lies in the original (its placement, so nothing is registered twice), and the result's
// product pixels, carried there, show which edges of the original's frame the product runs along. A product the frame
// cut (a hem leaving the picture) runs along an edge for a good part of it; a hanger's hook or a sleeve's tip
// touching it runs only a few percent.

/** The original's frame is judged at this size (longest side, px), the size the band and run were chosen at. */
const FRAME_SIDE = 256;
/**
 * A product pixel carried within this share of the original's shorter side from an edge lies on that edge: the
 * registration's slack. With the run below, chosen on the 120 corpus photos (test/integration/imaging/
 * real-photos-cutoff.test.ts) with the fidelity check's placement: a 10% run or a 1.25% band flags more whole ones.
 */
const EDGE_BAND = 0.01;
/** The product cuts an edge when it runs along at least this share of it (a hanger's hook runs 1-5%). */
const CUT_RUN_SHARE = 0.115;
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
 * Which edges of the original's frame cut through the product, judged by where the fidelity check found the result's
 * product in the original (`measureFidelity`'s placement; null when it found none).
 */
export function detectCutOff(placement: ProductPlacement | null): CutOffReport {
  if (!placement || placement.correlation < MIN_REGISTRATION) return { edges: [], runs: { ...NONE }, message: null };
  const toFrame = FRAME_SIDE / Math.max(placement.frame.width, placement.frame.height);
  const frame = { width: Math.round(placement.frame.width * toFrame), height: Math.round(placement.frame.height * toFrame) };
  const { left, top, width, height } = placement.sourceBox;
  const runs = edgeRuns(
    placement.product,
    { left: left * toFrame, top: top * toFrame, width: width * toFrame, height: height * toFrame },
    frame,
  );
  const edges = (Object.keys(runs) as FrameEdge[]).filter((edge) => runs[edge] >= CUT_RUN_SHARE);
  return { edges, runs, message: cutOffMessage(edges) };
}

/** Share of each edge of the original the result's product (its mask and box), carried onto `sourceBox`, runs along. */
function edgeRuns(
  product: { mask: Uint8Array; width: number; box: Box },
  sourceBox: Box,
  frame: { width: number; height: number },
  edgeBand = EDGE_BAND,
): Record<FrameEdge, number> {
  const { mask, width, box } = product;
  const { left, top } = box;
  const right = left + box.width - 1;
  const bottom = top + box.height - 1;
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
      if (!mask[y * width + x]) continue;
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
