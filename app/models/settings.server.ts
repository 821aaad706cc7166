import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { PIPELINE_IDS, type PipelineSettings } from "~/imaging/pipelines";
import { checkboxField, choiceField, fieldErrors, optionalCreditsField } from "~/lib/form-fields";

/** A shop's defaults for new batches, stored on its `Shop` row. */
export interface ShopSettings {
  defaultPipeline: (typeof PIPELINE_IDS)[number];
  reviewBeforePublish: boolean;
  /** Background for the non-Amazon pipelines (Amazon is always pure white). `#RRGGBB`. */
  backgroundColor: string;
  outputSizePreset: "standard" | "large";
  /** Most credits the shop may reserve in one UTC day; null = no cap. */
  dailySpendCap: number | null;
}

export type SettingsField = keyof ShopSettings;
export type SettingsErrors = Partial<Record<SettingsField, string>>;
export type SettingsResult = { ok: true; settings: ShopSettings } | { ok: false; errors: SettingsErrors };

const DEFAULT_SETTINGS: ShopSettings = {
  defaultPipeline: "amazon",
  reviewBeforePublish: false,
  backgroundColor: "#FFFFFF",
  outputSizePreset: "standard",
  dailySpendCap: null,
};

const OUTPUT_SIZE_PRESETS = ["standard", "large"] as const;
export const MAX_DAILY_SPEND_CAP = 100_000;

const settingsSchema = z.object({
  defaultPipeline: choiceField(PIPELINE_IDS, `Choose one of the pipelines: ${PIPELINE_IDS.join(", ")}.`),
  reviewBeforePublish: checkboxField,
  backgroundColor: z
    .string({ required_error: "Enter a background colour such as #FFFFFF." })
    .trim()
    .regex(/^#?[0-9a-fA-F]{6}$/, "Enter the colour as 6 hex digits, such as #FFFFFF or #F5F5F5.")
    .transform((v) => `#${v.replace(/^#/, "").toUpperCase()}`),
  outputSizePreset: z.enum(OUTPUT_SIZE_PRESETS, {
    errorMap: () => ({ message: "Choose Standard or Large output." }),
  }),
  dailySpendCap: optionalCreditsField({ min: 1, max: MAX_DAILY_SPEND_CAP, empty: "for no cap" }),
});

/** Validates raw form input; errors are keyed by field and say what to enter instead. */
function parseSettings(input: Record<string, unknown>): SettingsResult {
  const parsed = settingsSchema.safeParse(input);
  if (parsed.success) return { ok: true, settings: parsed.data as ShopSettings };
  return { ok: false, errors: fieldErrors<SettingsField>(parsed.error.issues) };
}

export async function getSettings(db: PrismaClient, shop: string): Promise<ShopSettings> {
  const row = await db.shop.findUnique({ where: { domain: shop } });
  if (!row) return { ...DEFAULT_SETTINGS };
  return {
    defaultPipeline: (PIPELINE_IDS as readonly string[]).includes(row.defaultPipeline)
      ? (row.defaultPipeline as ShopSettings["defaultPipeline"])
      : DEFAULT_SETTINGS.defaultPipeline,
    reviewBeforePublish: row.reviewBeforePublish,
    backgroundColor: row.backgroundColor,
    outputSizePreset: row.outputSizePreset === "large" ? "large" : "standard",
    dailySpendCap: row.dailySpendCap,
  };
}

/** Validates and stores the settings; nothing is written when any field is invalid. */
export async function saveSettings(db: PrismaClient, shop: string, input: Record<string, unknown>): Promise<SettingsResult> {
  const result = parseSettings(input);
  if (!result.ok) return result;
  const data = result.settings;
  await db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, ...data },
    update: data,
  });
  return result;
}

/** The per-batch settings a pipeline run takes from the shop's defaults. */
export function pipelineSettingsFrom(settings: ShopSettings): PipelineSettings {
  return {
    backgroundColor: settings.backgroundColor,
    outputSizePreset: settings.outputSizePreset,
    instagramAspect: "portrait",
  } as PipelineSettings;
}
