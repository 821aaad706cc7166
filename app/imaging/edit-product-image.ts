import { createHash } from "node:crypto";
import { checkCompliance, decodeOutput, type ComplianceReport } from "./compliance";
import { detectCutOff, type CutOffReport } from "./cutoff";
import { asImageInputError, openImage } from "./decode";
import { ImageInputError } from "./errors";
import { fidelityReport, measureFidelity, type FidelityReport } from "./fidelity";
import { inspectImage, type ImageInfo } from "./inspect";
import { promptWithInstruction } from "./instruction";
import {
  relevantSettings,
  resolveOutputFormat,
  resolvePipeline,
  getPipeline,
  type PipelineId,
  type PipelineSettings,
  type Size,
} from "./pipelines";
import { postProcessEdit } from "./postprocess";
import { describePreview } from "./preview";

export type { ComplianceReport, ComplianceRule } from "./compliance";
export type { FidelityReport } from "./fidelity";
export type { CutOffReport } from "./cutoff";

/** What the pipeline needs from an image-edit model (QwenClient implements it; tests may use others). */
export interface ImageEditor {
  edit(req: {
    image: Buffer;
    mimeType: string;
    prompt: string;
    negativePrompt: string;
    size: { width: number; height: number };
  }): Promise<{ image: Buffer; requestId: string | null }>;
}

export interface EditResult {
  bytes: Buffer;
  mimeType: string;
  width: number;
  height: number;
  compliance: ComplianceReport;
  fidelity: FidelityReport;
  /** Edges of the original's frame that cut through the product (the result may look cropped). */
  framing: CutOffReport;
  /** describePreview of the result when `describe` asked for it and the check's decode could make it (else null). */
  describePreview: Buffer | null;
  qwenRequestId: string | null;
}

export interface EditInput {
  source: Buffer;
  /** What the store says the file is; the bytes decide (a mismatch is only logged by the caller). */
  sourceMimeType?: string;
  /** inspectImage of `source` when the caller has it already: a large original's header is then not read again. */
  sourceInfo?: ImageInfo;
  pipeline: PipelineId;
  settings: PipelineSettings;
  editor: ImageEditor;
  /** The merchant's sanitised note for a "Try again" (sanitizeInstruction), added to the pipeline's prompt. */
  instruction?: string | null;
  /** The result will be described (alt text): make its describePreview from the pixels the check decodes anyway. */
  describe?: boolean;
  /** Called once the model's input is made: `source` is not read after it, so the caller may let it go. */
  onModelInputReady?: () => void;
}

/**
 * The model's input: at most the longest side it draws, and never under 1024 px (more detail than it can use only
 * costs decoding, encoding and upload).
 */
const MODEL_INPUT_MAX_SIDE = 2048;
const MODEL_INPUT_DETAIL_SIDE = 1024;
/** DashScope refuses sides under 384 px. */
const MODEL_INPUT_MIN_SIDE = 384;

/**
 * The source as the model should see it: orientation applied, transparency on white, sRGB, within
 * DashScope's size limits, as a high-quality JPEG (small upload, accepted everywhere).
 */
export async function prepareModelInput(source: Buffer, size: Size, outputSize?: Size): Promise<{ image: Buffer; mimeType: string }> {
  const shortest = Math.min(size.width, size.height);
  const longest = Math.max(size.width, size.height);
  const maxSide = outputSize
    ? Math.min(MODEL_INPUT_MAX_SIDE, Math.max(MODEL_INPUT_DETAIL_SIDE, outputSize.width, outputSize.height))
    : MODEL_INPUT_MAX_SIDE;
  let scale = Math.min(1, maxSide / longest);
  if (shortest * scale < MODEL_INPUT_MIN_SIDE) scale = MODEL_INPUT_MIN_SIDE / shortest;
  const width = Math.round(size.width * scale);
  const height = Math.round(size.height * scale);
  if (Math.max(width, height) > 3072) {
    throw new ImageInputError(
      "aspect-ratio",
      `The image is ${size.width} × ${size.height} px, too long and narrow to edit. Crop it closer to the product (at most 8:1) and upload it again.`,
      { params: { width: size.width, height: size.height } },
    );
  }
  try {
    const image = await (
      await openImage(source)
    )
      .resize(width, height, { fit: "fill", kernel: "lanczos3" })
      .removeAlpha()
      .jpeg({ quality: 92, chromaSubsampling: "4:4:4" })
      .toBuffer();
    return { image, mimeType: "image/jpeg" };
  } catch (cause) {
    throw asImageInputError(cause);
  }
}

/**
 * One product image through one pipeline: check the source, ask the model for the edit, make the
 * result compliant, and report compliance and fidelity. Throws ImageInputError for a bad source,
 * ImageResultError when the edit cannot be made usable; the editor's errors (Qwen*) pass through.
 * A result whose compliance or fidelity fails is still returned: the caller holds it for review.
 */
export async function editProductImage(input: EditInput): Promise<EditResult> {
  const { pipeline: pipelineId, settings, editor } = input;
  const { info, pipeline, modelInput } = await modelInputFor(input.source, pipelineId, settings, input.sourceInfo);
  input.onModelInputReady?.();
  const edited = await editor.edit({
    image: modelInput.image,
    mimeType: modelInput.mimeType,
    prompt: promptWithInstruction(pipeline.prompt, input.instruction),
    negativePrompt: pipeline.negativePrompt,
    size: pipeline.qwenSize,
  });
  const output = await postProcessEdit(edited.image, pipeline, resolveOutputFormat(pipelineId, info.format));
  const checked = await checkResult(output.bytes, modelInput.image, pipelineId, settings, input.describe ?? false);
  return {
    bytes: output.bytes,
    mimeType: output.mimeType,
    width: output.width,
    height: output.height,
    ...checked,
    qwenRequestId: edited.requestId,
  };
}

/** The source as editProductImage hands it to the model, with the pipeline resolved for it (`known`: its inspectImage). */
export async function modelInputFor(source: Buffer, pipelineId: PipelineId, settings: PipelineSettings, known?: ImageInfo) {
  const info = known ?? (await inspectImage(source));
  const pipeline = resolvePipeline(pipelineId, settings, info);
  return { info, pipeline, modelInput: await prepareModelInput(source, info, pipeline.qwenSize) };
}

/**
 * The product is compared with what the model was shown: the source oriented, on white, at the model's scale. Where
 * the fidelity check found the product in it also says whether its frame cut through the product. The result is
 * decoded once, for the rules and (when `describe`) for the copy the alt text is written from.
 */
async function checkResult(result: Buffer, modelInput: Buffer, pipelineId: PipelineId, settings: PipelineSettings, describe: boolean) {
  const rules = decodeOutput(result).then((decoded) =>
    Promise.all([
      checkCompliance(decoded, pipelineId, settings),
      // The alt text never holds up the image: without this copy it is made from the file.
      describe && decoded.plain ? describePreview(decoded).catch(() => null) : null,
    ]),
  );
  const [[compliance, preview], measurement] = await Promise.all([rules, measureFidelity(modelInput, result)]);
  return { compliance, fidelity: fidelityReport(measurement), framing: detectCutOff(measurement.placement), describePreview: preview };
}

/**
 * The compliance and fidelity reports of an earlier result of the same source (the result cache), measured exactly
 * as editProductImage measures a new one, so a cached image gets the verdict a fresh edit would.
 */
export async function checkCachedResult(
  source: Buffer,
  result: Buffer,
  pipelineId: PipelineId,
  settings: PipelineSettings,
  opts: { describe?: boolean; sourceInfo?: ImageInfo } = {},
): Promise<{ compliance: ComplianceReport; fidelity: FidelityReport; framing: CutOffReport; describePreview: Buffer | null }> {
  const { modelInput } = await modelInputFor(source, pipelineId, settings, opts.sourceInfo);
  return checkResult(result, modelInput.image, pipelineId, settings, opts.describe ?? false);
}

export function contentHash(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Cache key of a result: the same source bytes through the same pipeline version with the same
 * effective settings give the same output, so it is never paid for twice. Settings a pipeline
 * ignores (Amazon's background colour) do not change the key. 64 hex chars, safe as a job id.
 * `attempt` names a "Try again" (its item): the merchant asked for a new edit, so it never matches an earlier
 * result of the same source, while a crashed run of that same try still finds its own.
 */
export function resultCacheKey(sourceHash: string, pipeline: PipelineId, settings: PipelineSettings, attempt?: string): string {
  const { version } = getPipeline(pipeline);
  const relevant = relevantSettings(pipeline, settings);
  const parts: unknown[] = [sourceHash, pipeline, version, Object.entries(relevant).sort(([a], [b]) => a.localeCompare(b))];
  if (attempt) parts.push(attempt);
  const canonical = JSON.stringify(parts);
  return createHash("sha256").update(canonical).digest("hex");
}
