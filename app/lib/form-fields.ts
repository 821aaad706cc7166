import { z } from "zod";

/** Form fields as they arrive from a Polaris form (strings), shared by the Settings, rule and catalogue forms. */

/** A checkbox: present ("on"/"true") or absent. */
export const checkboxField = z
  .union([z.boolean(), z.string(), z.undefined(), z.null()])
  .transform((v) => v === true || v === "on" || v === "true");

/** One of `values`, or the message saying which. */
export function choiceField<T extends string>(values: readonly T[], message: string) {
  return z.enum(values as unknown as [T, ...T[]], { errorMap: () => ({ message }) });
}

/**
 * An optional whole number of credits from `min` to `max`; empty is null. The message names the range and what empty
 * means, e.g. "Enter a whole number of credits from 3 (one image) to 1,000,000, or leave it empty to use only your
 * balance."
 */
export function optionalCreditsField(opts: { min: number; minLabel?: string; max: number; empty: string }) {
  const message =
    `Enter a whole number of credits from ${opts.min}${opts.minLabel ? ` (${opts.minLabel})` : ""} to ` +
    `${opts.max.toLocaleString("en-US")}, or leave it empty ${opts.empty}.`;
  return z.union([z.string(), z.number(), z.null(), z.undefined()]).transform((v, ctx) => {
    if (v === null || v === undefined || (typeof v === "string" && v.trim() === "")) return null;
    const n = typeof v === "number" ? v : Number(v.trim());
    if (!Number.isInteger(n) || n < opts.min || n > opts.max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
      return z.NEVER;
    }
    return n;
  });
}

/** A form's validation issues as one message per field (the first), for each field's `error` prop. */
export function fieldErrors<F extends string>(issues: readonly z.ZodIssue[]): Partial<Record<F, string>> {
  const errors: Partial<Record<F, string>> = {};
  for (const issue of issues) {
    const field = issue.path[0] as F | undefined;
    if (field !== undefined && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}
