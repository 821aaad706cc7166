/**
 * What a held edit changed, one per part of the fidelity measurement, so the merchant knows where to look. Its own
 * module: the gallery reads stored reports in the browser, where the check itself (sharp) cannot go.
 */
export const FIDELITY_CHANGES = ["missing-part", "recoloured", "colour-cast", "print", "proportions", "not-found"] as const;
export type FidelityChange = (typeof FIDELITY_CHANGES)[number];

export function isFidelityChange(value: unknown): value is FidelityChange {
  return (FIDELITY_CHANGES as readonly unknown[]).includes(value);
}
