/**
 * The batch gallery's view-model: one verdict per image in a merchant's words (from the stored compliance, fidelity
 * and framing reports), the state filters with their counts, and which images bulk approve/reject may select.
 * Pure code: the page renders what it returns through gallery-messages.ts.
 */
import { aspectLabel, formatName, isPipelineId, resolvePipeline, type PipelineSettings, type ResolvedPipeline } from "~/imaging/pipelines";
import type { MerchantMessage } from "~/lib/merchant-message";
import { ITEM_STATES } from "~/models/batch-item-states";
import { message, type Message, type Said } from "./gallery-messages";
import type { FidelityChange } from "~/imaging/fidelity-changes";
import { fidelityNeedsAttention, readCompliance, readFidelity, readFraming, type ComplianceRule, type FidelityView } from "./report-model";

export interface GalleryItemInput {
  id: string;
  state: string;
  reason: string | null;
  /** The reason as a merchant message; null on rows from before codes, which show the English reason. */
  reasonMessage?: MerchantMessage | null;
  compliance?: unknown;
  fidelity?: unknown;
  framing?: unknown;
  /** Published, and its original is being put back. */
  restoring?: boolean;
}

export interface BatchPipeline {
  pipeline: string;
  settings: PipelineSettings;
}

export type VerdictTone = "success" | "attention" | "critical" | "info" | "subdued";

export interface Verdict {
  tone: VerdictTone;
  message: Message;
}

const GALLERY_FILTERS = ["all", "review", "published", "failed", "rejected", "restored", "working", "cancelled"] as const;
export type GalleryFilter = (typeof GALLERY_FILTERS)[number];
/** Shown even when empty, so the tabs do not move as a batch progresses; the others appear when they have images. */
const ALWAYS_SHOWN: ReadonlySet<GalleryFilter> = new Set(["all", "review", "published", "failed", "rejected", "restored"]);

/** The filter an image belongs to, from the state of its current version. */
function filterOf(state: string): Exclude<GalleryFilter, "all"> {
  switch (state) {
    case "NEEDS_REVIEW":
      return "review";
    case "PUBLISHED":
      return "published";
    case "FAILED":
      return "failed";
    case "REJECTED":
    case "SUPERSEDED":
      return "rejected";
    case "RESTORED":
      return "restored";
    case "CANCELLED":
      return "cancelled";
    default:
      return "working";
  }
}

export function filterCounts(items: ReadonlyArray<{ state: string }>): Record<GalleryFilter, number> {
  const counts = Object.fromEntries(GALLERY_FILTERS.map((f) => [f, 0])) as Record<GalleryFilter, number>;
  counts.all = items.length;
  for (const item of items) counts[filterOf(item.state)] += 1;
  return counts;
}

/** The tabs to show, in order, each with its count and label. */
export function filterTabs(
  items: ReadonlyArray<{ state: string }>,
  selected: GalleryFilter,
): Array<{ filter: GalleryFilter; count: number; label: Message }> {
  const counts = filterCounts(items);
  return GALLERY_FILTERS.filter((f) => ALWAYS_SHOWN.has(f) || counts[f] > 0 || f === selected).map((filter) => ({
    filter,
    count: counts[filter],
    label: message(`filter.${filter}`),
  }));
}

export function applyFilter<T extends { state: string }>(items: readonly T[], filter: GalleryFilter): T[] {
  return filter === "all" ? [...items] : items.filter((item) => filterOf(item.state) === filter);
}

/** Images bulk approve/reject may select: held for review, nothing else (a published image is restored one by one). */
export function isBulkReviewable(item: { state: string; restoring?: boolean }): boolean {
  return item.state === "NEEDS_REVIEW" && !item.restoring;
}

export function bulkReviewableIds(items: ReadonlyArray<{ id: string; state: string; restoring?: boolean }>): string[] {
  return items.filter(isBulkReviewable).map((item) => item.id);
}

/** The marketplace of a pipeline, for sentences ("Meets every Amazon rule"). */
export function marketOf(pipeline: string): Message {
  return isPipelineId(pipeline) ? message(`market.${pipeline}`) : message("market.other");
}

/** Rules a merchant notices first come first when an image misses several. */
const RULE_ORDER = ["background", "coverage", "not-cropped", "clean-background", "size", "aspect", "format"];

interface Measurements {
  format?: string;
  width?: number;
  height?: number;
  borderPurity?: number;
  coverage?: number;
  minMargin?: number;
  strayMarks?: number;
}

function readMeasurements(raw: unknown): Measurements {
  if (!raw || typeof raw !== "object") return {};
  const m = (raw as { measurements?: unknown }).measurements;
  if (!m || typeof m !== "object") return {};
  const out: Measurements = {};
  for (const key of ["width", "height", "borderPurity", "coverage", "minMargin", "strayMarks"] as const) {
    const value = (m as Record<string, unknown>)[key];
    if (typeof value === "number" && Number.isFinite(value)) out[key] = value;
  }
  const format = (m as Record<string, unknown>).format;
  if (typeof format === "string") out.format = format;
  return out;
}

function checksOf(batch: BatchPipeline) {
  if (!isPipelineId(batch.pipeline)) return null;
  try {
    return resolvePipeline(batch.pipeline, batch.settings);
  } catch {
    return null;
  }
}

/** Percent of a share, to the digits the compliance report shows. */
const percent = (share: number, digits: number) => Number((share * 100).toFixed(digits));

/** "JPEG or PNG or WebP" in the viewer's language. */
function eitherOf(names: string[]): Message | string {
  const [first, ...rest] = names;
  return rest.length ? message("check.either", { first: first ?? "", second: eitherOf(rest) }) : (first ?? "");
}

/** Each change's key under `details.change` and `verdict.heldAlteredAs`. */
const CHANGE_KEYS = {
  "missing-part": "missingPart",
  recoloured: "recoloured",
  "colour-cast": "colourCast",
  print: "print",
  proportions: "proportions",
  "not-found": "notFound",
} as const satisfies Record<FidelityChange, string>;

/** "a part looks missing and it looks stretched" in the viewer's language. */
function allOf(changes: FidelityChange[]): Message {
  const [first, ...rest] = changes;
  const words = message(`details.change.${CHANGE_KEYS[first!]}`);
  return rest.length ? message("details.both", { first: words, second: allOf(rest) }) : words;
}

/** The line on the product's similarity under an image: when held, what looks different (if the report says). */
export function fidelityDetail(fidelity: FidelityView): Message | null {
  if (fidelity.score === null || fidelity.threshold === null) return null;
  const numbers = { score: fidelity.score.toFixed(2), threshold: fidelity.threshold.toFixed(2) };
  if (!fidelityNeedsAttention(fidelity)) return message("details.fidelity", numbers);
  if (!fidelity.changes.length) return message("details.fidelityAltered", numbers);
  return message("details.fidelityAlteredWhat", { ...numbers, changes: allOf(fidelity.changes) });
}

/** What a rule asks for, in the viewer's language (the report's English text when the pipeline is unknown). */
function expectedOf(rule: ComplianceRule, resolved: ResolvedPipeline | null): Message | string {
  if (!resolved) return rule.expected ?? "?";
  const { checks } = resolved;
  switch (rule.id) {
    case "format":
      return eitherOf(resolved.definition.output.allowed.map(formatName));
    case "size":
      return checks.exactSize
        ? message("check.pixels", { width: checks.exactSize.width, height: checks.exactSize.height })
        : message("check.longestSide", { px: checks.minLongestSide });
    case "aspect": {
      const [min, max] = checks.aspect;
      return min === max ? aspectLabel(min) : message("check.aspectRange", { min: aspectLabel(min), max: aspectLabel(max) });
    }
    case "background": {
      const share = percent(checks.minBorderPurity, 1);
      return checks.backgroundTolerance === 0
        ? message("check.purityExact", { percent: share })
        : message("check.purityWithin", { percent: share, levels: checks.backgroundTolerance });
    }
    case "coverage":
      return message("check.coverageRange", { min: percent(checks.coverage[0], 0), max: percent(checks.coverage[1], 0) });
    case "clean-background":
      return message("check.marksExpected");
    case "not-cropped":
      return message("check.marginExpected");
    default:
      return rule.expected ?? "?";
  }
}

/** What the check measured, in the viewer's language (the report's English text when it kept no figures). */
function measuredOf(rule: ComplianceRule, m: Measurements): Message | string {
  const fallback = rule.measured ?? "?";
  switch (rule.id) {
    case "format":
      return m.format === undefined ? fallback : formatName(m.format);
    case "size":
      return m.width === undefined || m.height === undefined ? fallback : message("check.pixels", { width: m.width, height: m.height });
    case "aspect":
      return m.width === undefined || !m.height ? fallback : aspectLabel(m.width / m.height);
    case "background":
      return m.borderPurity === undefined ? fallback : message("check.purityMeasured", { percent: percent(m.borderPurity, 2) });
    case "coverage":
      if (m.coverage === undefined) return fallback;
      return m.coverage > 0 ? message("check.percent", { percent: percent(m.coverage, 1) }) : message("check.noProduct");
    case "clean-background":
      if (m.strayMarks === undefined) return fallback;
      return m.strayMarks === 0 ? message("check.noMarks") : message("check.strayMarks", { count: m.strayMarks });
    case "not-cropped":
      if (m.minMargin === undefined) return fallback;
      return m.minMargin < 0 ? message("check.noProduct") : message("check.margin", { px: m.minMargin });
    default:
      return fallback;
  }
}

/** A rule's name, in the viewer's language (the report's English label for a rule this page does not know). */
function ruleName(rule: ComplianceRule, resolved: ResolvedPipeline | null): Message | string {
  switch (rule.id) {
    case "format":
      return message("check.format");
    case "size":
      return message("check.size");
    case "aspect":
      return message("check.aspect");
    case "background":
      if (!resolved) return rule.label;
      return message(resolved.checks.backgroundTolerance === 0 ? "check.backgroundExact" : "check.backgroundClean", {
        hex: resolved.backgroundHex,
      });
    case "coverage":
      return message("check.coverage");
    case "clean-background":
      return message("check.cleanBackground");
    case "not-cropped":
      return message("check.notCropped");
    default:
      return rule.label;
  }
}

/** One line of the measured details: a rule (passed or missed), what was measured and what it asks for. */
export function ruleDetail(rule: ComplianceRule, report: unknown, batch: BatchPipeline): Message {
  const resolved = checksOf(batch);
  return message("details.ruleLine", {
    label: ruleName(rule, resolved),
    measured: measuredOf(rule, readMeasurements(report)),
    expected: expectedOf(rule, resolved),
  });
}

/** One missed rule in a merchant's words, with the figures the check measured where the report kept them. */
function ruleMessage(rule: ComplianceRule, report: unknown, batch: BatchPipeline): Message {
  const market = marketOf(batch.pipeline);
  const m = readMeasurements(report);
  const resolved = checksOf(batch);
  switch (rule.id) {
    case "background": {
      const hex = resolved?.backgroundHex ?? "";
      const exact = resolved ? resolved.checks.backgroundTolerance === 0 : /exactly/.test(rule.label);
      if (hex.toUpperCase() === "#FFFFFF" || (!resolved && /#FFFFFF/i.test(rule.label))) {
        return message(exact ? "rule.backgroundWhite" : "rule.backgroundCleanWhite");
      }
      return message("rule.backgroundColour", { hex });
    }
    case "coverage": {
      if (m.coverage === 0) return message("rule.noProduct");
      if (m.coverage === undefined || !resolved) return message("rule.coverage", { market });
      const [min, max] = resolved.checks.coverage;
      const measured = Math.round(m.coverage * 100);
      return m.coverage < min
        ? message("rule.coverageLow", { measured, market, needed: Math.round(min * 100) })
        : message("rule.coverageHigh", { measured, market, needed: Math.round(max * 100) });
    }
    case "not-cropped":
      return rule.measured === "no product found" ? message("rule.noProduct") : message("rule.notCropped");
    case "clean-background":
      return m.strayMarks ? message("rule.strayMarks", { count: m.strayMarks }) : message("rule.marks");
    case "size":
      return message("rule.size", {
        width: m.width ?? "?",
        height: m.height ?? "?",
        market,
        expected: expectedOf(rule, resolved),
      });
    case "aspect":
      return message("rule.aspect", { measured: measuredOf(rule, m), market, expected: expectedOf(rule, resolved) });
    case "format":
      return message("rule.format", { measured: measuredOf(rule, m), market, expected: expectedOf(rule, resolved) });
    default:
      return message("rule.other", { label: rule.label });
  }
}

/** The missed rules of a compliance report, the one a merchant notices first first. */
function missedRules(report: unknown): ComplianceRule[] {
  const compliance = readCompliance(report);
  if (!compliance) return [];
  const rank = (id: string) => {
    const at = RULE_ORDER.indexOf(id);
    return at < 0 ? RULE_ORDER.length : at;
  };
  return compliance.rules.filter((r) => !r.passed).sort((a, b) => rank(a.id) - rank(b.id));
}

function ruleVerdict(item: GalleryItemInput, batch: BatchPipeline, missed: ComplianceRule[]): Message {
  const rule = ruleMessage(missed[0]!, item.compliance, batch);
  return missed.length > 1 ? message("verdict.heldRuleMore", { rule, count: missed.length - 1 }) : message("verdict.heldRule", { rule });
}

/**
 * The one line an image's tile says: "Meets every Amazon rule", the rule it misses, or its state (held and why,
 * failed and why, rejected, restored, in progress).
 */
export function verdictFor(item: GalleryItemInput, batch: BatchPipeline): Verdict {
  const market = marketOf(batch.pipeline);
  const compliance = readCompliance(item.compliance);
  const missed = missedRules(item.compliance);
  switch (item.state) {
    case "QUEUED":
      return { tone: "subdued", message: message("verdict.queued") };
    case "PROCESSING":
      return { tone: "info", message: message("verdict.processing") };
    case "FAILED": {
      const reason = reasonOf(item);
      return { tone: "critical", message: reason ? message("verdict.failed", { reason }) : message("verdict.failedNoReason") };
    }
    case "CANCELLED": {
      const reason = reasonOf(item);
      return { tone: "subdued", message: reason ? message("verdict.cancelled", { reason }) : message("verdict.cancelledNoReason") };
    }
    case "REJECTED":
      return { tone: "subdued", message: message("verdict.rejected") };
    case "RESTORED":
      return { tone: "subdued", message: message("verdict.restored") };
    case "SUPERSEDED":
      return { tone: "subdued", message: message("verdict.superseded") };
    case "NEEDS_REVIEW": {
      const fidelity = readFidelity(item.fidelity);
      if (fidelity && fidelityNeedsAttention(fidelity)) {
        const [clearest] = fidelity.changes;
        return { tone: "attention", message: message(clearest ? `verdict.heldAlteredAs.${CHANGE_KEYS[clearest]}` : "verdict.heldAltered") };
      }
      if (readFraming(item.framing)) return { tone: "attention", message: message("verdict.heldCutOff") };
      if (missed.length) return { tone: "attention", message: ruleVerdict(item, batch, missed) };
      return { tone: "attention", message: message("verdict.meetsEveryRuleHeld", { market }) };
    }
    case "PUBLISHED": {
      if (item.restoring) return { tone: "info", message: message("verdict.restoring") };
      if (missed.length)
        return { tone: "success", message: message("verdict.publishedDespite", { rule: ruleMessage(missed[0]!, item.compliance, batch) }) };
      return { tone: "success", message: compliance ? message("verdict.meetsEveryRule", { market }) : message("verdict.published") };
    }
    default:
      return { tone: "subdued", message: message("verdict.queued") };
  }
}

/** An item's stored reason: its message in the viewer's language, else (rows from before codes) its English text. */
function reasonOf(item: { reason: string | null; reasonMessage?: MerchantMessage | null }): MerchantMessage | string | null {
  return item.reasonMessage ?? item.reason;
}

/**
 * The line under a held or cancelled image's verdict: its stored reason. A rule it misses is worded from its
 * compliance report, as the verdict words it, rather than by the stored message's shorter sentence.
 */
export function heldOrCancelledNote(item: GalleryItemInput, batch: BatchPipeline): Said | null {
  if (item.state !== "NEEDS_REVIEW" && item.state !== "CANCELLED") return null;
  const missed = missedRules(item.compliance);
  if (item.reasonMessage?.code === "itemHeldRules" && missed.length) return ruleVerdict(item, batch, missed);
  return reasonOf(item);
}

/** What the versions list says under one version: why publishing it again failed, else its own reason. */
export function versionNote(version: {
  state: string;
  reason: string | null;
  reasonMessage?: MerchantMessage | null;
  publishError?: string | null;
  publishErrorMessage?: MerchantMessage | null;
}): Said | null {
  if (version.publishErrorMessage) return message("versions.publishFailed", { reason: version.publishErrorMessage });
  if (version.publishError)
    return message("versions.publishFailed", {
      reason: /[.!?]$/.test(version.publishError) ? version.publishError : `${version.publishError}.`,
    });
  if (version.state === "PUBLISHED" || version.state === "QUEUED" || version.state === "PROCESSING") return null;
  return reasonOf(version);
}

type BadgeTone = "success" | "attention" | "critical" | "info" | "warning";
/** The badge's tone per state; the words are `batchGallery.state.*` in the locale files. */
const STATE_TONES: Partial<Record<string, BadgeTone>> = {
  PROCESSING: "info",
  NEEDS_REVIEW: "attention",
  PUBLISHED: "success",
  FAILED: "critical",
  REJECTED: "warning",
};

/** The state badge of an image: its words and Polaris tone. */
export function stateBadge(state: string): { label: Message | string; tone?: BadgeTone } {
  const known = ITEM_STATES.find((s) => s === state);
  return { label: known ? message(`state.${known}`) : state, tone: STATE_TONES[state] };
}
