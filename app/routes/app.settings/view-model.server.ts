/**
 * The Settings page's data: the loader's answer (the shop's settings, its automatic rule, the pipelines, the limits)
 * and the action's handling of its two forms (the shop settings, and the automatic rule with `intent=auto-rule`).
 */
import { json } from "@remix-run/node";
import db from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import { MAX_MONTHLY_BUDGET, getAutoRule, saveAutoRule, type AutoRuleErrors, type AutoRuleState } from "~/models/auto-rule.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { MAX_DAILY_SPEND_CAP, getSettings, saveSettings, type SettingsErrors, type ShopSettings } from "~/models/settings.server";

export async function settingsPageData(shop: string) {
  const [settings, rule] = await Promise.all([getSettings(db, shop), getAutoRule(db, shop)]);
  const pipelines = PIPELINE_IDS.map((id) => {
    const p = getPipeline(id);
    return { id: p.id, label: p.label, summary: p.summary };
  });
  return {
    settings,
    rule,
    pipelines,
    creditsPerImage: CREDITS_PER_IMAGE,
    limits: { dailySpendCap: MAX_DAILY_SPEND_CAP, monthlyBudget: MAX_MONTHLY_BUDGET },
  };
}

export type SettingsPageData = Awaited<ReturnType<typeof settingsPageData>>;

/** What the page's forms get back: the saved settings or rule, or the fields at fault. */
export type SettingsActionData =
  | { ok: true; intent: "auto-rule"; rule: AutoRuleState }
  | { ok: false; intent: "auto-rule"; errors: AutoRuleErrors }
  | { ok: true; settings: ShopSettings }
  | { ok: false; errors: SettingsErrors };

/** Saves the automatic rule or the shop settings from the page's submitted form. */
export async function answerSettingsForm(shop: string, form: Record<string, FormDataEntryValue>): Promise<Response> {
  if (form.intent === "auto-rule") {
    const saved = await saveAutoRule(db, shop, form);
    if (!saved.ok) return json({ ok: false as const, intent: "auto-rule" as const, errors: saved.errors }, { status: 422 });
    return json({ ok: true as const, intent: "auto-rule" as const, rule: saved.rule });
  }
  const result = await saveSettings(db, shop, form);
  if (!result.ok) return json({ ok: false as const, errors: result.errors }, { status: 422 });
  return json({ ok: true as const, settings: result.settings });
}
