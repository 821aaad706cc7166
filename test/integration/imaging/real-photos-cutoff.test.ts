import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { detectCutOff, type CutOffReport, type FrameEdge } from "~/imaging/cutoff";
import { modelInputFor } from "~/imaging/edit-product-image";
import { measureFidelity } from "~/imaging/fidelity";
import { DEFAULT_PIPELINE_SETTINGS, resolveOutputFormat } from "~/imaging/pipelines";
import { postProcessEdit } from "~/imaging/postprocess";
import { composeRealPhotoEdit, loadCorpus, readCorpusEntry, type RealPhotoCorpus } from "../../../emulators/dashscope/real-photo-edit";
import { mapConcurrent } from "./harness";

// "The original shows only part of the product", on all 120 corpus photos. The truth comes from the corpus masks (what
// a segmentation network sees as the product), which the app never reads: an original is cut off at an edge when its
// mask reaches within 1% of the frame along at least 8% of that edge. Hooks of hangers and a sleeve's tip touch the
// frame along 1-5%; a hem or a trouser leg leaving the picture runs along 8-64%. The app sees only the original and
// the post-processed result of a faithful edit (the DashScope stand-in's composition).
const EDGE_BAND = 0.01;
const CUT_RUN = 0.08;
const SET_TIMEOUT_MS = 600_000;
const EDGES: FrameEdge[] = ["top", "bottom", "left", "right"];

interface Truth {
  index: number;
  category: string;
  runs: Record<FrameEdge, number>;
  cut: FrameEdge[];
}

async function truthOf(corpus: RealPhotoCorpus, index: number): Promise<Truth> {
  const entry = corpus.entries[index]!;
  const { mask } = await readCorpusEntry(corpus, entry);
  const { data, info } = await sharp(mask).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const band = Math.max(2, Math.round(Math.min(width, height) * EDGE_BAND));
  const product = (x: number, y: number) => data[y * width + x]! >= 128;
  // Share of the edge's length with product somewhere in the band across it.
  const along = (length: number, depth: number, at: (i: number, d: number) => [number, number]) => {
    let covered = 0;
    for (let i = 0; i < length; i++) {
      for (let d = 0; d < depth; d++) {
        if (product(...at(i, d))) {
          covered++;
          break;
        }
      }
    }
    return covered / length;
  };
  const runs: Record<FrameEdge, number> = {
    top: along(width, band, (x, d) => [x, d]),
    bottom: along(width, band, (x, d) => [x, height - 1 - d]),
    left: along(height, band, (y, d) => [d, y]),
    right: along(height, band, (y, d) => [width - 1 - d, y]),
  };
  return { index, category: entry.category, runs, cut: EDGES.filter((edge) => runs[edge] >= CUT_RUN) };
}

/** A faithful edit of the photo through the app's post-processing, then the app's detector on original and result. */
async function detect(corpus: RealPhotoCorpus, index: number): Promise<CutOffReport> {
  const entry = corpus.entries[index]!;
  const { photo, mask } = await readCorpusEntry(corpus, entry);
  const { pipeline, modelInput, info } = await modelInputFor(photo, "amazon", DEFAULT_PIPELINE_SETTINGS);
  const edit = await composeRealPhotoEdit(photo, mask, { size: pipeline.qwenSize, seed: index * 31 + 1, shadow: false });
  const output = await postProcessEdit(edit.png, pipeline, resolveOutputFormat("amazon", info.format));
  return detectCutOff((await measureFidelity(modelInput.image, output.bytes)).placement);
}

describe("originals that show only part of the product (all 120 corpus photos)", () => {
  let rows: { truth: Truth; found: CutOffReport }[];
  beforeAll(async () => {
    const corpus = await loadCorpus();
    rows = await mapConcurrent(
      corpus.entries.map((_, index) => index),
      2,
      async (index) => ({ truth: await truthOf(corpus, index), found: await detect(corpus, index) }),
    );
  }, SET_TIMEOUT_MS);

  const describeRow = ({ truth, found }: { truth: Truth; found: CutOffReport }) => ({
    photo: truth.index,
    category: truth.category,
    cut: truth.cut,
    flagged: found.edges,
    maskRuns: EDGES.map((edge) => Number(truth.runs[edge].toFixed(2))),
    foundRuns: EDGES.map((edge) => Number(found.runs[edge].toFixed(2))),
  });

  it("flags most originals the frame cuts through, and hardly any that show the whole product", () => {
    const cut = rows.filter((r) => r.truth.cut.length > 0);
    const whole = rows.filter((r) => r.truth.cut.length === 0);
    const flaggedCut = cut.filter((r) => r.found.edges.length > 0);
    const flaggedWhole = whole.filter((r) => r.found.edges.length > 0);
    console.log(
      `cut off by the frame: ${cut.length} of ${rows.length}; flagged ${flaggedCut.length} of them (${((100 * flaggedCut.length) / cut.length).toFixed(0)}%)` +
        `; whole products flagged: ${flaggedWhole.length} of ${whole.length} (${((100 * flaggedWhole.length) / whole.length).toFixed(1)}%)`,
    );
    const missed = cut.filter((r) => r.found.edges.length === 0).map(describeRow);
    const wrong = flaggedWhole.map(describeRow);
    expect(cut.length).toBeGreaterThanOrEqual(15);
    expect(flaggedCut.length / cut.length, JSON.stringify(missed)).toBeGreaterThanOrEqual(0.85);
    expect(flaggedWhole.length / whole.length, JSON.stringify(wrong)).toBeLessThanOrEqual(0.05);
  });

  it("names an edge the frame really cuts when it flags a cut-off original", () => {
    const flagged = rows.filter((r) => r.truth.cut.length > 0 && r.found.edges.length > 0);
    const wrongEdge = flagged.filter((r) => !r.found.edges.some((edge) => r.truth.cut.includes(edge))).map(describeRow);
    expect(wrongEdge).toEqual([]);
    for (const { found } of flagged)
      expect(found.message).toMatch(/^The original photo shows only part of the product \(cut off at the (top|bottom|left|right)/);
  });
});
