// Admin action UI (Polaris web components, API 2025-10). Thin: all decisions are in ./logic.ts.
// The type import registers the s-* elements for this target (HTMLElementTagNameMap).
import type {} from "@shopify/ui-extensions/admin.product-index.selection-action.render";
import {
  ExtensionError,
  PIPELINE_CHOICES,
  batchPageHref,
  costLine,
  fetchPricing,
  selectionLine,
  startedMessage,
  submitBatch,
  summariseSelection,
  type ActionApi,
  type PipelineId,
  type SelectionSummary,
} from "./logic";

type ExtensionShopify = ActionApi & { close: () => void };

// The extension runtime provides `shopify` as a global; read it here rather than declaring a global
// type, which would clash with App Bridge's `shopify` in the app's own type-check.
const shopify = () => (globalThis as unknown as { shopify: ExtensionShopify }).shopify;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | boolean | undefined> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

export default async function extension(): Promise<void> {
  const api = shopify();
  const t = api.i18n.translate;
  let pipeline: PipelineId = "amazon";
  let summary: SelectionSummary | null = null;
  let creditsPerImage: number | null = null;

  const status = el("s-text", {}, t("counting"));
  const cost = el("s-text", { type: "strong" });
  const description = el("s-paragraph", {}, t(`pipelines.${PIPELINE_CHOICES[0]!.id}.description`));
  const message = el("s-box");
  const select = el(
    "s-select",
    { label: t("pipeline"), name: "pipeline", value: pipeline },
    ...PIPELINE_CHOICES.map((p) => el("s-option", { value: p.id }, t(`pipelines.${p.id}.label`))),
  );
  const primary = el("s-button", { slot: "primary-action", variant: "primary", disabled: true }, t("startBatch"));
  const cancel = el("s-button", { slot: "secondary-actions" }, t("close"));
  const action = el(
    "s-admin-action",
    { heading: t("heading"), loading: true },
    el("s-stack", { direction: "block", gap: "base" }, status, select, description, cost, message),
    primary,
    cancel,
  );
  document.body.append(action);

  const render = () => {
    const images = summary?.images ?? 0;
    cost.textContent = summary && creditsPerImage !== null ? costLine(t, images, creditsPerImage) : "";
    description.textContent = t(`pipelines.${pipeline}.description`);
    // No batch without a price shown: the merchant confirms what it costs.
    if (summary) primary.toggleAttribute("disabled", images === 0 || creditsPerImage === null);
  };
  type Tone = "critical" | "success" | "warning";
  const showMessages = (...banners: Array<[Tone, string]>) => {
    message.replaceChildren(...banners.map(([tone, text]) => el("s-banner", { tone }, text)));
  };
  const showMessage = (tone: Tone, text: string) => showMessages([tone, text]);
  const errorText = (error: unknown, fallback: string) => (error instanceof ExtensionError ? error.message : t(fallback));

  select.addEventListener("change", (event) => {
    pipeline = ((event.currentTarget as HTMLElement & { value?: string }).value as PipelineId) ?? "amazon";
    render();
  });
  cancel.addEventListener("click", () => api.close());

  let started = false;
  primary.addEventListener("click", async () => {
    if (started || !summary) return;
    primary.setAttribute("loading", "");
    try {
      const created = await submitBatch(api, { productIds: summary.productIds, pipeline });
      started = true;
      showMessage("success", startedMessage(t, created));
      primary.textContent = t("openBatch");
      primary.setAttribute("href", batchPageHref(created.batchId));
      select.setAttribute("disabled", "");
    } catch (error) {
      showMessage("critical", error instanceof ExtensionError ? error.message : t("errors.generic"));
    } finally {
      primary.removeAttribute("loading");
    }
  });

  // Read apart: a price that cannot be read must not hide how many images are selected.
  const [counted, pricing] = await Promise.allSettled([summariseSelection(api), fetchPricing(api)]);
  const banners: Array<[Tone, string]> = [];
  if (counted.status === "fulfilled") {
    summary = counted.value;
    status.textContent = selectionLine(t, summary);
  } else {
    status.textContent = "";
    banners.push(["critical", errorText(counted.reason, "errors.countFailed")]);
  }
  if (pricing.status === "fulfilled") creditsPerImage = pricing.value.creditsPerImage;
  else if (summary) banners.push(["critical", errorText(pricing.reason, "errors.priceFailed")]);
  if (summary && summary.missing > 0) banners.push(["warning", t("missing", { count: summary.missing })]);
  showMessages(...banners);
  action.removeAttribute("loading");
  render();
}
