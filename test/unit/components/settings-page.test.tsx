// @vitest-environment happy-dom
/**
 * The Settings page as the merchant sees it, rendered through Remix's own router (createRemixStub) with the loader's
 * data stubbed: the saved shop settings in the form, and the automatic rule's state, pause reason and budget.
 */
import { describe, expect, it } from "vitest";
import { type Locale } from "~/i18n/locales";
import type { AutoRuleState } from "~/models/auto-rule.server";
import SettingsPage from "~/routes/app.settings/route";
import type { SettingsPageData } from "~/routes/app.settings/view-model.server";
import { renderPage, setUpPageTests, textOf } from "./render-page";

// App Bridge's global, which admin injects into the embedded app; the page shows a toast when settings are saved.
setUpPageTests({ toast: { show: () => undefined } });

const pausedRule: AutoRuleState = {
  enabled: true,
  pipeline: "ebay",
  images: "featured",
  reviewBeforePublish: true,
  monthlyBudget: 500,
  enabledAt: new Date("2026-11-01T09:00:00.000Z"),
  pausedAt: new Date("2026-11-20T10:00:00.000Z"),
  pausedFor: "budget",
  pauseReason:
    "Automatic cleanup is paused: this month's budget of 500 credits is used up, so 3 new images were not cleaned. " +
    "Raise the budget in Settings (saving resumes the rule), or it resumes next month.",
  pauseMessage: { code: "autoRulePausedBudget", params: { budget: 500, count: 3 } },
  spentThisMonth: 495,
};

function pageData(rule: AutoRuleState = pausedRule): SettingsPageData {
  return {
    settings: {
      defaultPipeline: "instagram",
      reviewBeforePublish: true,
      backgroundColor: "#F5F5F5",
      outputSizePreset: "large",
      dailySpendCap: 250,
    },
    rule,
    pipelines: [
      { id: "amazon", label: "Amazon", summary: "Pure white background" },
      { id: "ebay", label: "eBay", summary: "Clean light background" },
      { id: "instagram", label: "Instagram", summary: "Square, soft background" },
    ],
    creditsPerImage: 5,
    limits: { dailySpendCap: 100_000, monthlyBudget: 1_000_000 },
  };
}

const renderAt = (data: SettingsPageData, locale?: Locale) =>
  renderPage({ id: "routes/app.settings", path: "/app/settings", Component: SettingsPage }, data, locale);

/** The control a visible label names, as the merchant finds it. */
function field<T extends HTMLElement>(page: HTMLElement, label: string): T {
  const labelled = [...page.querySelectorAll("label")].find((l) => l.textContent?.trim() === label);
  if (!labelled)
    throw new Error(`no field labelled "${label}"; labels: ${[...page.querySelectorAll("label")].map((l) => l.textContent).join(" | ")}`);
  return page.querySelector<T>(`#${CSS.escape(labelled.htmlFor)}`)!;
}

/** Both forms use some of the same labels; the automatic rule's form is the second. */
function fields<T extends HTMLElement>(page: HTMLElement, label: string): T[] {
  return [...page.querySelectorAll("label")]
    .filter((l) => l.textContent?.trim() === label)
    .map((l) => page.querySelector<T>(`#${CSS.escape(l.htmlFor)}`)!);
}

describe("the Settings page", () => {
  it("shows the shop's saved settings in the form", async () => {
    const page = await renderAt(pageData());
    expect(field<HTMLSelectElement>(page, "Default pipeline").value).toBe("instagram");
    expect(fields<HTMLInputElement>(page, "Review before publishing")[0]!.checked).toBe(true);
    expect(field<HTMLInputElement>(page, "Background colour").value).toBe("#F5F5F5");
    expect(field<HTMLSelectElement>(page, "Output size").value).toBe("large");
    expect(field<HTMLInputElement>(page, "Daily spend cap (credits)").value).toBe("250");
    expect(textOf(page)).toContain("Social-ready: product centred on a clean backdrop in your colour");
  });

  it("shows the automatic rule on, why it is paused, its budget and what it used this month", async () => {
    const page = await renderAt(pageData());
    const text = textOf(page);
    expect(field<HTMLInputElement>(page, "Clean new product images automatically").checked).toBe(true);
    expect(field<HTMLSelectElement>(page, "Pipeline").value).toBe("ebay");
    expect(field<HTMLSelectElement>(page, "Which images").value).toBe("featured");
    expect(field<HTMLInputElement>(page, "Monthly budget (credits)").value).toBe("500");
    expect(text).toContain("Paused");
    expect(text).toContain("this month's budget of 500 credits is used up, so 3 new images were not cleaned.");
    expect(text).toContain("Each image costs 5 credits. 495 used this month.");
  });

  it("shows no pause notice and an empty budget for a rule that is off", async () => {
    const off: AutoRuleState = {
      ...pausedRule,
      enabled: false,
      monthlyBudget: null,
      enabledAt: null,
      pausedAt: null,
      pausedFor: null,
      pauseReason: null,
      pauseMessage: null,
      spentThisMonth: 0,
    };
    const page = await renderAt(pageData(off));
    expect(field<HTMLInputElement>(page, "Clean new product images automatically").checked).toBe(false);
    expect(field<HTMLInputElement>(page, "Monthly budget (credits)").value).toBe("");
    expect(textOf(page)).not.toContain("Paused");
  });

  it("speaks the merchant's language", async () => {
    const page = await renderAt(pageData(), "es");
    const text = textOf(page);
    expect(field<HTMLInputElement>(page, "Color de fondo").value).toBe("#F5F5F5");
    expect(field<HTMLInputElement>(page, "Presupuesto mensual (créditos)").value).toBe("500");
    expect(text).toContain("En pausa");
    expect(text).toContain("se agotó el presupuesto de 500 créditos de este mes, así que 3 imágenes nuevas no se limpiaron.");
    expect(text).toContain("Cada imagen cuesta 5 créditos. Este mes se usaron 495.");
  });
});
