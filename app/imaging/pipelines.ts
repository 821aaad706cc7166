import { z } from "zod";

export type PipelineId = "amazon" | "ebay" | "instagram";
export const PIPELINE_IDS: readonly PipelineId[] = ["amazon", "ebay", "instagram"];

export function isPipelineId(value: string): value is PipelineId {
  return (PIPELINE_IDS as readonly string[]).includes(value);
}

export type OutputFormat = "jpeg" | "png" | "webp";
export type OutputSizePreset = "standard" | "large";
export type InstagramAspect = "portrait" | "square";

export interface PipelineSettings {
  /** "#RRGGBB". Amazon always uses white; eBay uses it only when it is light (else white). */
  backgroundColor: string;
  outputSizePreset: OutputSizePreset;
  instagramAspect: InstagramAspect;
}

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = {
  backgroundColor: "#FFFFFF",
  outputSizePreset: "standard",
  instagramAspect: "portrait",
};

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

export const pipelineSettingsSchema = z.object({
  backgroundColor: z
    .string()
    .trim()
    .regex(HEX_COLOR, "Use a colour like #FFFFFF (a # and six hex digits).")
    .transform((value) => value.toUpperCase()),
  outputSizePreset: z.enum(["standard", "large"]),
  instagramAspect: z.enum(["portrait", "square"]),
});

/** Parses settings from a form or JSON, filling gaps with the defaults. Throws a ZodError on bad values. */
export function parsePipelineSettings(input: unknown): PipelineSettings {
  const partial = typeof input === "object" && input !== null ? input : {};
  return pipelineSettingsSchema.parse({ ...DEFAULT_PIPELINE_SETTINGS, ...partial });
}

export interface Size {
  width: number;
  height: number;
}

/** A rectangle of an image, in pixels. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export type Rgb = [number, number, number];

/** How the output frame is shaped. `fixed`: exactly that canvas. `fit-product`: the product's own aspect ratio, clamped. */
export type CanvasSpec = { kind: "fixed"; size: Size } | { kind: "fit-product"; longestSide: number; minAspect: number; maxAspect: number };

/** What the compliance check measures an output against. */
export interface PipelineChecks {
  /** Longest side at least this many px. */
  minLongestSide: number;
  /** Accepted width/height ratios, inclusive, as [min, max]. */
  aspect: [number, number];
  /** Exact sizes required (Instagram), or null. */
  exactSize: Size | null;
  /** Share of border pixels that must match the background colour. */
  minBorderPurity: number;
  /** Max per-channel difference for a border pixel to count as background (0 = exact). */
  backgroundTolerance: number;
  /** Product bounding box over the frame, max(bw/W, bh/H), inclusive range. */
  coverage: [number, number];
  /** Fail stray marks on the background (see compliance's countStrayMarks). */
  noStrayMarks: boolean;
}

export interface PipelineDefinition {
  id: PipelineId;
  label: string;
  summary: string;
  /** Plain words for the UI. */
  rules: string[];
  /** Bump when prompts or processing change, so cached results of the old version are not reused. */
  version: number;
  /** Edit instruction; `{background}` is replaced by the colour in words. */
  prompt: string;
  negativePrompt: string;
  /** Which background colour the output gets. */
  background: "white" | "setting-if-light" | "setting";
  /**
   * A contact shadow the model drew under the product: removed (the background is the exact colour everywhere) or
   * kept soft (a neutral darkening of the background colour under the product, at most SOFT_SHADOW_MAX_DEPTH levels,
   * clear of the frame's border).
   */
  shadow: "remove" | "keep-soft";
  /** Coverage the post-processing aims for (max(bw/W, bh/H)). */
  targetCoverage: number;
  /** Per size preset (and for Instagram per aspect): what to ask Qwen for and the output frame. */
  frames: Record<OutputSizePreset, { qwen: Size | "source-aspect"; qwenLongestSide: number; canvas: CanvasSpec }>;
  /** Instagram's frame follows the aspect setting instead of the size preset. */
  aspectFrames?: Record<InstagramAspect, { qwen: Size; canvas: Size }>;
  output: { preferred: OutputFormat; allowed: readonly OutputFormat[]; quality: number };
  checks: PipelineChecks;
}

/**
 * The darkest a kept shadow may be (levels below the background colour). The compliance check counts pixels more
 * than this (plus JPEG's error) off the background as product, so a kept shadow never moves the product's measured
 * box; it never reaches the border band the background rule reads either.
 */
export const SOFT_SHADOW_MAX_DEPTH = 16;

/**
 * The border band the background rule reads: 1% of the shorter side, at least 2 px. Post-processing keeps a soft
 * shadow clear of it, so both use this one width.
 */
export function borderBandWidth(size: { width: number; height: number }): number {
  return Math.max(2, Math.round(Math.min(size.width, size.height) * 0.01));
}

const KEEP_PRODUCT =
  "Keep the product exactly as it is: the same shape, proportions, colours, materials, label text, logos and every printed detail. Do not redraw, restyle or retouch the product.";

const NEGATIVE_PROMPT =
  "changed label, changed text, misspelled text, changed logo, different product, recoloured product, distorted shape, extra objects, props, hands, people, watermark, text overlay, border, frame, blurry, low resolution, noise, artifacts";

const PIPELINES: Record<PipelineId, PipelineDefinition> = {
  amazon: {
    id: "amazon",
    label: "Amazon main image",
    summary: "Pure white background, product centred and filling about 85% of a square frame, 2000 px for zoom.",
    rules: [
      "Background is pure white (RGB 255, 255, 255)",
      "Product fills at least 85% of the frame",
      "Square image, at least 1000 px (2000 px by default, for zoom)",
      "JPEG (PNG kept when the original is a PNG)",
      "Product is not cut off at the edges",
      "No marks on the background",
    ],
    version: 2,
    prompt: `Remove the background and place the product on a seamless pure white (#FFFFFF) studio background, evenly lit, with no shadow, no reflection and no other objects. Centre the product and show all of it. ${KEEP_PRODUCT}`,
    negativePrompt: `${NEGATIVE_PROMPT}, grey background, off-white background, gradient background, shadow, reflection`,
    background: "white",
    shadow: "remove",
    targetCoverage: 0.88,
    frames: {
      standard: {
        qwen: { width: 1328, height: 1328 },
        qwenLongestSide: 1328,
        canvas: { kind: "fixed", size: { width: 2000, height: 2000 } },
      },
      large: { qwen: { width: 2048, height: 2048 }, qwenLongestSide: 2048, canvas: { kind: "fixed", size: { width: 2560, height: 2560 } } },
    },
    output: { preferred: "jpeg", allowed: ["jpeg", "png"], quality: 90 },
    checks: {
      minLongestSide: 1000,
      aspect: [1, 1],
      exactSize: null,
      minBorderPurity: 0.999,
      backgroundTolerance: 0,
      coverage: [0.85, 0.95],
      noStrayMarks: true,
    },
  },
  ebay: {
    id: "ebay",
    label: "eBay listing",
    summary: "Clean light background, product as large as the frame allows, 1600 px or more for zoom.",
    rules: [
      "Clean, light, even background (a soft shadow under the product is kept)",
      "Product fills at least 85% of the frame",
      "At least 1600 px on the longest side",
      "Aspect ratio between 3:4 and 4:3",
      "Product is not cut off at the edges",
      "No marks on the background",
    ],
    version: 2,
    prompt: `Replace the background with a clean, plain {background} studio background, evenly lit, with no other objects. Show the whole product in sharp focus with maximum detail. ${KEEP_PRODUCT}`,
    negativePrompt: `${NEGATIVE_PROMPT}, cluttered background, dark background, busy background`,
    background: "setting-if-light",
    shadow: "keep-soft",
    targetCoverage: 0.9,
    frames: {
      standard: {
        qwen: "source-aspect",
        qwenLongestSide: 1328,
        canvas: { kind: "fit-product", longestSide: 1600, minAspect: 3 / 4, maxAspect: 4 / 3 },
      },
      large: {
        qwen: "source-aspect",
        qwenLongestSide: 2048,
        canvas: { kind: "fit-product", longestSide: 2400, minAspect: 3 / 4, maxAspect: 4 / 3 },
      },
    },
    output: { preferred: "jpeg", allowed: ["jpeg", "png", "webp"], quality: 92 },
    checks: {
      minLongestSide: 1600,
      aspect: [3 / 4 - 0.005, 4 / 3 + 0.005],
      exactSize: null,
      minBorderPurity: 0.995,
      backgroundTolerance: 4,
      coverage: [0.85, 0.97],
      noStrayMarks: true,
    },
  },
  instagram: {
    id: "instagram",
    label: "Instagram post",
    summary: "Social-ready: product centred on a clean backdrop in your colour, 1080 × 1350 (4:5) or 1080 × 1080.",
    rules: [
      "Clean backdrop in your chosen colour (a soft shadow under the product is kept)",
      "1080 × 1350 px (4:5 portrait) or 1080 × 1080 px (square)",
      "Product centred with room to breathe (65–85% of the frame)",
      "Product is not cut off at the edges",
      "No marks on the background",
    ],
    version: 2,
    prompt: `Place the product on a clean, seamless {background} backdrop with soft, natural studio light, social-media ready, with no other objects. Centre the product and show all of it. ${KEEP_PRODUCT}`,
    negativePrompt: `${NEGATIVE_PROMPT}, cluttered background`,
    background: "setting",
    shadow: "keep-soft",
    targetCoverage: 0.75,
    frames: {
      standard: {
        qwen: { width: 1024, height: 1280 },
        qwenLongestSide: 1280,
        canvas: { kind: "fixed", size: { width: 1080, height: 1350 } },
      },
      large: { qwen: { width: 1024, height: 1280 }, qwenLongestSide: 1280, canvas: { kind: "fixed", size: { width: 1080, height: 1350 } } },
    },
    aspectFrames: {
      portrait: { qwen: { width: 1024, height: 1280 }, canvas: { width: 1080, height: 1350 } },
      square: { qwen: { width: 1024, height: 1024 }, canvas: { width: 1080, height: 1080 } },
    },
    output: { preferred: "jpeg", allowed: ["jpeg", "png"], quality: 90 },
    checks: {
      minLongestSide: 1080,
      aspect: [0.8, 1],
      exactSize: null,
      minBorderPurity: 0.995,
      backgroundTolerance: 4,
      coverage: [0.65, 0.85],
      noStrayMarks: true,
    },
  },
};

export function getPipeline(id: PipelineId): PipelineDefinition {
  return PIPELINES[id];
}

const FORMAT_NAMES: Record<string, string> = { jpeg: "JPEG", png: "PNG", webp: "WebP", gif: "GIF", tiff: "TIFF", avif: "AVIF" };
/** A file format as merchants know it ("JPEG"), in the compliance report and the gallery alike. */
export const formatName = (format: string) => FORMAT_NAMES[format] ?? format.toUpperCase();

/** A width/height ratio as merchants know it ("4:5"), in the compliance report and the gallery alike. */
export function aspectLabel(ratio: number): string {
  const known: [number, string][] = [
    [1, "1:1"],
    [4 / 5, "4:5"],
    [3 / 4, "3:4"],
    [4 / 3, "4:3"],
  ];
  const match = known.find(([value]) => Math.abs(value - ratio) < 0.01);
  return match ? match[1] : `${ratio.toFixed(3)}:1`;
}

/** Everything one edit needs, with settings applied. */
export interface ResolvedPipeline {
  definition: PipelineDefinition;
  prompt: string;
  negativePrompt: string;
  /** Output size requested from Qwen (each side 512..2048, multiple of 16). */
  qwenSize: Size;
  canvas: CanvasSpec;
  background: Rgb;
  backgroundHex: string;
  targetCoverage: number;
  checks: PipelineChecks;
}

export function parseHexColor(hex: string): Rgb {
  if (!HEX_COLOR.test(hex)) throw new Error(`not a #RRGGBB colour: ${hex}`);
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

export function toHexColor([r, g, b]: Rgb): string {
  return `#${[r, g, b]
    .map((c) => c.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase()}`;
}

/** Relative luminance (0..1) of an sRGB colour. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** eBay asks for a light background: at least this luminance (#E0E0E0 is ~0.75). */
const LIGHT_BACKGROUND_MIN_LUMINANCE = 0.7;

export function resolveBackground(definition: PipelineDefinition, settings: PipelineSettings): Rgb {
  if (definition.background === "white") return [255, 255, 255];
  const chosen = HEX_COLOR.test(settings.backgroundColor) ? parseHexColor(settings.backgroundColor) : ([255, 255, 255] as Rgb);
  if (definition.background === "setting-if-light" && luminance(chosen) < LIGHT_BACKGROUND_MIN_LUMINANCE) return [255, 255, 255];
  return chosen;
}

function colorInWords(rgb: Rgb): string {
  const [r, g, b] = rgb;
  if (r === 255 && g === 255 && b === 255) return "pure white (#FFFFFF)";
  return `solid ${toHexColor(rgb)} coloured`;
}

const QWEN_MIN_SIDE = 512;
const QWEN_MAX_SIDE = 2048;

/** A Qwen output size with the source's aspect ratio (clamped to 1:2..2:1), longest side as given, multiples of 16. */
export function qwenSizeForAspect(aspect: number, longestSide: number): Size {
  const a = Math.min(2, Math.max(0.5, aspect));
  const round16 = (v: number) => Math.min(QWEN_MAX_SIDE, Math.max(QWEN_MIN_SIDE, Math.round(v / 16) * 16));
  return a >= 1
    ? { width: round16(longestSide), height: round16(longestSide / a) }
    : { width: round16(longestSide * a), height: round16(longestSide) };
}

/** Applies settings (and the source's aspect ratio, for pipelines that keep it) to a pipeline. */
export function resolvePipeline(id: PipelineId, settings: PipelineSettings, sourceSize?: Size): ResolvedPipeline {
  const definition = getPipeline(id);
  const background = resolveBackground(definition, settings);
  const frame = definition.frames[settings.outputSizePreset];
  let qwenSize: Size;
  let canvas: CanvasSpec = frame.canvas;
  let checks = definition.checks;
  const aspectFrame = definition.aspectFrames?.[settings.instagramAspect];
  if (aspectFrame) {
    qwenSize = aspectFrame.qwen;
    canvas = { kind: "fixed", size: aspectFrame.canvas };
    const ratio = aspectFrame.canvas.width / aspectFrame.canvas.height;
    checks = { ...checks, exactSize: aspectFrame.canvas, aspect: [ratio, ratio] };
  } else if (frame.qwen === "source-aspect") {
    const aspect = sourceSize ? sourceSize.width / sourceSize.height : 1;
    qwenSize = qwenSizeForAspect(aspect, frame.qwenLongestSide);
  } else {
    qwenSize = frame.qwen;
  }
  return {
    definition,
    prompt: definition.prompt.replaceAll("{background}", colorInWords(background)),
    negativePrompt: definition.negativePrompt,
    qwenSize,
    canvas,
    background,
    backgroundHex: toHexColor(background),
    targetCoverage: definition.targetCoverage,
    checks,
  };
}

/**
 * The output format: the original's when the pipeline allows it (a .png stays a .png, so the
 * write-back replaces a file with one of the same type), else the pipeline's preferred format.
 */
export function resolveOutputFormat(id: PipelineId, sourceFormat: string | null | undefined): OutputFormat {
  const { output } = getPipeline(id);
  const normalized = sourceFormat === "jpg" ? "jpeg" : sourceFormat;
  return (output.allowed as readonly string[]).includes(normalized ?? "") ? (normalized as OutputFormat) : output.preferred;
}

export const MIME_BY_OUTPUT_FORMAT: Record<OutputFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
};

/** Settings that change the output of this pipeline (others are ignored, so they do not split the cache). */
export function relevantSettings(id: PipelineId, settings: PipelineSettings): Record<string, string> {
  const definition = getPipeline(id);
  const relevant: Record<string, string> = { background: toHexColor(resolveBackground(definition, settings)) };
  if (definition.aspectFrames) relevant.instagramAspect = settings.instagramAspect;
  else relevant.outputSizePreset = settings.outputSizePreset;
  return relevant;
}
