/**
 * A page route rendered as the merchant's browser shows it (happy-dom): Remix's own router (createRemixStub) runs a
 * stubbed loader as it would on navigation, inside Polaris and i18next in the chosen language. Shared by the page
 * tests; a test file calls `setUpPageTests` once.
 */
import { act, type ComponentType } from "react";
import { createRoot, type Root } from "react-dom/client";
import { json } from "@remix-run/node";
import { createRemixStub } from "@remix-run/testing";
import { AppProvider } from "@shopify/polaris";
import { I18nextProvider } from "react-i18next";
import { afterEach, beforeAll } from "vitest";
import { i18nFor, type Locale } from "~/i18n/locales";
import { POLARIS_TRANSLATIONS } from "~/i18n/polaris";

let root: Root | null = null;

/** `shopify`: App Bridge's global, which admin injects into the embedded app (toasts, for pages that show them). */
export function setUpPageTests(shopify: object = {}): void {
  beforeAll(() => {
    (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
    (window as unknown as { shopify: object }).shopify = shopify;
  });
  afterEach(() => {
    act(() => root?.unmount());
    root = null;
    document.body.replaceChildren();
  });
}

export interface PageRoute {
  id: string;
  path: string;
  Component: ComponentType;
}

/** Mounts the page at its path with `data` as its loader's answer; resolves once the loader's data is shown. */
export async function renderPage(route: PageRoute, data: unknown, locale: Locale = "en"): Promise<HTMLElement> {
  const RemixStub = createRemixStub([{ ...route, loader: () => json(data) }]);
  const container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
  await act(async () => {
    root!.render(
      <I18nextProvider i18n={i18nFor(locale)}>
        <AppProvider i18n={POLARIS_TRANSLATIONS[locale]}>
          <RemixStub initialEntries={[route.path]} />
        </AppProvider>
      </I18nextProvider>,
    );
  });
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
  return container;
}

/** The page's visible text with whitespace collapsed. */
export const textOf = (page: HTMLElement) => (page.textContent ?? "").replace(/\s+/g, " ");
