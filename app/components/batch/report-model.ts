// Reads the worker's compliance, fidelity and framing reports (stored as JSON) defensively for display.
import { isFidelityChange, type FidelityChange } from "~/imaging/fidelity-changes";

export interface ComplianceRule {
  id: string;
  label: string;
  passed: boolean;
  measured: string | null;
  expected: string | null;
}

export interface ComplianceView {
  passed: boolean;
  rules: ComplianceRule[];
}

export interface FidelityView {
  score: number | null;
  threshold: number | null;
  verdict: string;
  /** What looks different (reports stored before the check named it have none). */
  changes: FidelityChange[];
  message: string | null;
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  return JSON.stringify(value);
}

export function readCompliance(raw: unknown): ComplianceView | null {
  if (!raw || typeof raw !== "object") return null;
  const obj = raw as { passed?: unknown; rules?: unknown };
  if (!Array.isArray(obj.rules)) return null;
  const rules = obj.rules
    .filter((r): r is Record<string, unknown> => Boolean(r) && typeof r === "object")
    .map((r, index) => ({
      id: text(r.id) ?? String(index),
      label: text(r.label) ?? text(r.id) ?? `Rule ${index + 1}`,
      passed: r.passed === true,
      measured: text(r.measured),
      expected: text(r.expected),
    }));
  return { passed: obj.passed === true || (obj.passed === undefined && rules.every((r) => r.passed)), rules };
}

export function readFidelity(raw: unknown): FidelityView | null {
  if (!raw || typeof raw !== "object") return null;
  const obj = raw as Record<string, unknown>;
  return {
    score: typeof obj.score === "number" ? obj.score : null,
    threshold: typeof obj.threshold === "number" ? obj.threshold : null,
    verdict: text(obj.verdict) ?? "unknown",
    changes: Array.isArray(obj.changes) ? obj.changes.filter(isFidelityChange) : [],
    message: text(obj.message),
  };
}

export interface FramingView {
  /** Edges of the original's frame that cut through the product. */
  edges: string[];
  message: string;
}

/** The notice that the original photo shows only part of the product, or null when it shows all of it. */
const FRAME_EDGES = ["top", "bottom", "left", "right"] as const;

/** An edge of the original's frame, as the framing report names it. */
export function isFrameEdge(edge: string): edge is (typeof FRAME_EDGES)[number] {
  return (FRAME_EDGES as readonly string[]).includes(edge);
}

export function readFraming(raw: unknown): FramingView | null {
  if (!raw || typeof raw !== "object") return null;
  const obj = raw as { edges?: unknown; message?: unknown };
  const edges = Array.isArray(obj.edges) ? obj.edges.filter((edge): edge is string => typeof edge === "string") : [];
  if (!edges.length || typeof obj.message !== "string") return null;
  return { edges, message: obj.message };
}

/** True when the fidelity check found (or suspects) that the product itself changed ("altered"). */
export function fidelityNeedsAttention(fidelity: FidelityView | null): boolean {
  if (!fidelity) return false;
  if (fidelity.verdict === "unchanged") return false;
  if (fidelity.verdict === "altered") return true;
  // An unknown verdict: fall back on the numbers when both are there.
  return fidelity.score !== null && fidelity.threshold !== null ? fidelity.score < fidelity.threshold : false;
}
