// @vitest-environment happy-dom
/**
 * The banner the layout shows on every page while Shopify refuses the store: frozen (its Shopify bill unpaid) says
 * to pay the bill, locked says to contact Shopify support, each with when Shopify last refused it, in the viewer's
 * language; a healthy store shows nothing.
 */
import { describe, expect, it } from "vitest";
import { ShopUnavailableBanner } from "~/components/ShopUnavailableBanner";
import type { Locale } from "~/i18n/locales";
import { renderPage, setUpPageTests, textOf } from "./render-page";

setUpPageTests();

const since = "2026-12-06T08:30:00.000Z";
const at = (locale: Locale) => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(since));

async function shown(unavailable: { status: number; since: string } | null, locale: Locale = "en") {
  const page = await renderPage(
    { id: "routes/app", path: "/app", Component: () => <ShopUnavailableBanner unavailable={unavailable} /> },
    {},
    locale,
  );
  return { text: textOf(page).trim(), alert: page.querySelector('[role="alert"]') !== null };
}

describe("the frozen or locked store banner", () => {
  it("tells a frozen store to pay its Shopify bill, and when Shopify last refused it", async () => {
    const { text, alert } = await shown({ status: 402, since });
    expect(alert).toBe(true);
    expect(text).toContain(
      "Shopify has frozen this store until its outstanding Shopify bill is paid. Image processing, catalogue runs and " +
        "new-product processing are paused; pay the bill in your Shopify admin and they continue (images that failed " +
        "can be tried again from their batch).",
    );
    expect(text).toContain(`Shopify last refused the store's requests on ${at("en")}.`);
  });

  it("tells a locked store to contact Shopify support", async () => {
    const { text } = await shown({ status: 423, since });
    expect(text).toContain(
      "Shopify has locked this store. Image processing, catalogue runs and new-product processing are paused; " +
        "contact Shopify support to unlock the store and they continue (images that failed can be tried again from their batch).",
    );
    expect(text).not.toContain("bill");
  });

  it("speaks Spanish to a Spanish admin", async () => {
    const frozen = await shown({ status: 402, since }, "es");
    expect(frozen.text).toContain("Shopify ha congelado esta tienda hasta que se pague la factura pendiente de Shopify.");
    expect(frozen.text).toContain(`Shopify rechazó por última vez las solicitudes de la tienda el ${at("es")}.`);
    expect((await shown({ status: 423, since }, "es")).text).toContain("contacta con el soporte de Shopify para desbloquear la tienda");
  });

  it("shows nothing for a store Shopify answers", async () => {
    expect((await shown(null)).text).toBe("");
  });
});
