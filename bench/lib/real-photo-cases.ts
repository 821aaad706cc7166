// The edits of corpus photos that the calibration bench (bench/real-photos.ts) and the corpus tests judge: each photo
// edited faithfully (with and without a shadow) and with every alteration kind, through the app's post-processing and
// both checks, as the app's edit step runs them.
import { checkCompliance, type ComplianceReport } from "../../app/imaging/compliance";
import { modelInputFor } from "../../app/imaging/edit-product-image";
import { measureFidelity, FIDELITY_THRESHOLD, type FidelityMeasurement } from "../../app/imaging/fidelity";
import type { FidelityChange } from "../../app/imaging/fidelity-changes";
import { DEFAULT_PIPELINE_SETTINGS, resolveOutputFormat, type PipelineId } from "../../app/imaging/pipelines";
import { postProcessEdit } from "../../app/imaging/postprocess";
import {
  composeRealPhotoEdit,
  DEFAULT_STAND_IN_SEED,
  readCorpusEntry,
  REAL_PHOTO_ALTERATIONS,
  standInDraw,
  type CorpusEntry,
  type RealPhotoAlteration,
  type RealPhotoCorpus,
} from "../../emulators/dashscope/real-photo-edit";
import { MASK_FLAWS } from "./corpus-mask-flaws";

export type CaseKind = "faithful" | "faithful-shadow" | RealPhotoAlteration;
export const CASE_KINDS: readonly CaseKind[] = ["faithful", "faithful-shadow", ...REAL_PHOTO_ALTERATIONS];

/**
 * What the merchant should be told of a held edit of each alteration kind: its own change (an added object reads as a
 * changed patch, as the merchant sees it).
 */
export const CHANGE_OF_ALTERATION: Readonly<Record<RealPhotoAlteration, FidelityChange>> = {
  "added-object": "recoloured",
  "recoloured-patch": "recoloured",
  "hue-shift": "colour-cast",
  stretched: "proportions",
  "missing-part": "missing-part",
  "garbled-text": "print",
};

export interface CaseResult {
  /** Position of the photo in the corpus index. */
  index: number;
  /** Which of the calibration's draws for this photo and kind (0: its own), or the demo's (see CaseDraw). */
  draw: CaseDraw;
  entry: CorpusEntry;
  kind: CaseKind;
  /** What the photo's faithful edit shows when its corpus mask does not match the product (see MASK_FLAWS), else null. */
  maskFlaw: string | null;
  pipeline: PipelineId;
  compliance: ComplianceReport;
  fidelity: FidelityMeasurement;
  published: boolean;
  output: Buffer;
  modelInput: Buffer;
}

/**
 * The thresholds are fitted on the photos of even position in the index and judged on the others, so the figures of
 * the held-out half are not the fit's own.
 */
export function splitOf(index: number): "fit" | "held-out" {
  return index % 2 === 0 ? "fit" : "held-out";
}

/** Faithful edits of photos whose mask matches the product; the others are expected held, as every altered edit. */
export function expectedPublished(result: Pick<CaseResult, "kind" | "maskFlaw">): boolean {
  return (result.kind === "faithful" || result.kind === "faithful-shadow") && result.maskFlaw === null;
}

/**
 * The stand-in's seed for a case: draw 0 is the calibration's own; further draws give the same photo and kind with other
 * benign differences (sharpening, relighting, shift, shadow) and another altered spot, to see how much a verdict owes
 * to one draw.
 */
const seedOf = (index: number, kind: CaseKind, draw: number) => index * 31 + CASE_KINDS.indexOf(kind) + 1 + draw * 100_003;

/**
 * A draw of the calibration (0, 1, ...), or "demo": the DashScope stand-in's own draw of the photo's faithful edit, as
 * `npm run demo` gets it (its shadow left to the seed).
 */
export type CaseDraw = number | "demo";

export async function runCase(
  corpus: RealPhotoCorpus,
  index: number,
  kind: CaseKind,
  pipelineId: PipelineId = "amazon",
  draw: CaseDraw = 0,
): Promise<CaseResult> {
  const entry = corpus.entries[index]!;
  const { photo, mask } = await readCorpusEntry(corpus, entry);
  const settings = DEFAULT_PIPELINE_SETTINGS;
  const { pipeline, modelInput, info } = await modelInputFor(photo, pipelineId, settings);
  const faithful = kind === "faithful" || kind === "faithful-shadow";
  // The demo asks for faithful edits only, and the stand-in then leaves the shadow to its seed.
  if (draw === "demo" && kind !== "faithful") throw new Error(`the demo's draw is of a faithful edit, not "${kind}"`);
  const edit = await composeRealPhotoEdit(photo, mask, {
    size: pipeline.qwenSize,
    seed: draw === "demo" ? standInDraw(entry.id, DEFAULT_STAND_IN_SEED, false).seed : seedOf(index, kind, draw),
    shadow: kind === "faithful-shadow" ? true : faithful && draw !== "demo" ? false : undefined,
    alteration: faithful ? null : kind,
  });
  const output = await postProcessEdit(edit.png, pipeline, resolveOutputFormat(pipelineId, info.format));
  const [compliance, fidelity] = await Promise.all([
    checkCompliance(output.bytes, pipelineId, settings),
    measureFidelity(modelInput.image, output.bytes),
  ]);
  return {
    index,
    draw,
    entry,
    kind,
    maskFlaw: MASK_FLAWS[entry.id] ?? null,
    pipeline: pipelineId,
    compliance,
    fidelity,
    published: compliance.passed && fidelity.score >= FIDELITY_THRESHOLD,
    output: output.bytes,
    modelInput: modelInput.image,
  };
}
