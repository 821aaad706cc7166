/**
 * A bench's numeric setting from the environment (BENCH_*), or `fallback` when unset. A value that is not a number
 * of at least `min` (a whole one unless `fraction`) stops the bench naming the variable: `Number("x")` is NaN, and a
 * bench run on NaN prints empty figures that look like results.
 */
export function benchNumber(name: string, fallback: number, opts: { min?: number; fraction?: boolean } = {}): number {
  const { min = 0, fraction = false } = opts;
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (!fraction && !Number.isInteger(value)))
    throw new Error(`${name} must be a ${fraction ? "number" : "whole number"} of at least ${min}, not "${raw}"`);
  return value;
}
