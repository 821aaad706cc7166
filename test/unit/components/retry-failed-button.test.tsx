// @vitest-environment happy-dom
/**
 * "Try the N failed images again" on the batch page, rendered through Remix's own router (createRemixStub) with the
 * action stubbed: the button names how many images it takes and what they cost, posts once to the batch's
 * retry-failed route, and shows the answer (or the refusal) in the viewer's language.
 */
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { json } from "@remix-run/node";
import { createRemixStub } from "@remix-run/testing";
import { AppProvider } from "@shopify/polaris";
import { I18nextProvider } from "react-i18next";
import { afterEach, describe, expect, it } from "vitest";
import { RetryFailedImages } from "~/components/batch/RetryFailedImages";
import { i18nFor, type Locale } from "~/i18n/locales";
import { POLARIS_TRANSLATIONS } from "~/i18n/polaris";
import { setUpPageTests, textOf } from "./render-page";

const toasts: Array<{ text: string; isError: boolean }> = [];
setUpPageTests({ toast: { show: (text: string, opts?: { isError?: boolean }) => toasts.push({ text, isError: opts?.isError ?? false }) } });

let root: Root | null = null;
afterEach(() => {
  act(() => root?.unmount());
  root = null;
  toasts.length = 0;
});

async function render(count: number, answer: object, locale: Locale = "en") {
  const posts: Array<{ method: string; batchId: string | undefined }> = [];
  const RemixStub = createRemixStub([
    { path: "/app/batches/:id", Component: () => <RetryFailedImages batchId="batch-1" count={count} creditsPerImage={3} /> },
    {
      path: "/app/batches/:id/retry-failed",
      action: ({ request, params }) => {
        posts.push({ method: request.method, batchId: params.id });
        return json(answer);
      },
    },
  ]);
  const container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
  await act(async () => {
    root!.render(
      <I18nextProvider i18n={i18nFor(locale)}>
        <AppProvider i18n={POLARIS_TRANSLATIONS[locale]}>
          <RemixStub initialEntries={["/app/batches/batch-1"]} />
        </AppProvider>
      </I18nextProvider>,
    );
  });
  return { container, posts };
}

async function click(button: HTMLButtonElement) {
  await act(async () => {
    button.click();
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
}

const buttonOf = (container: HTMLElement) => [...container.querySelectorAll("button")];

describe("Try the failed images again", () => {
  it("names the images and the price, posts once and shows the answer", async () => {
    const { container, posts } = await render(2, {
      ok: true,
      message:
        "Making a new version of 2 failed images (3 credits each, charged only for those that succeed); this page shows the progress.",
      messageCode: "retryFailedQueued",
      messageParams: { count: 2, credits: 3 },
    });
    expect(buttonOf(container).map((b) => b.textContent)).toEqual(["Try the 2 failed images again"]);
    expect(textOf(container)).toContain("3 credits per image, held now and charged only for images that succeed.");
    await click(buttonOf(container)[0]!);
    expect(posts).toEqual([{ method: "POST", batchId: "batch-1" }]);
    expect(toasts).toEqual([
      {
        text: "Making a new version of 2 failed images (3 credits each, charged only for those that succeed); this page shows the progress.",
        isError: false,
      },
    ]);
  });

  it("shows a refusal for a short balance in the viewer's language", async () => {
    const { container } = await render(
      2,
      {
        ok: false,
        error: "Trying the 2 failed images again needs 6 credits and you have 3, so nothing was reserved.",
        errorCode: "retryFailedNeedsCredits",
        errorParams: { count: 2, needed: 6, available: 3 },
      },
      "es",
    );
    expect(buttonOf(container).map((b) => b.textContent)).toEqual(["Volver a intentar con las 2 imágenes con error"]);
    await click(buttonOf(container)[0]!);
    expect(toasts).toEqual([
      {
        text:
          "Volver a intentar con las 2 imágenes con error necesita 6 créditos y tienes 3, así que no se reservó nada. " +
          "Compra un paquete de créditos en la página Créditos y vuelve a intentarlo.",
        isError: true,
      },
    ]);
  });

  it("is not offered when no failed image can be tried again", async () => {
    const { container } = await render(0, {});
    expect(buttonOf(container)).toEqual([]);
    expect(textOf(container)).toBe("");
  });
});
