/**
 * "Try again" in Chromium against the stand-ins: clean one image, try it again with a note from the batch page,
 * see both versions with the new one on the product and one more charge, then publish the first version again for
 * free. Screenshots go to test-artifacts/try-again-*.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, launchChromium, newAppPage, openAppContext, serveApp, type ServedApp } from "./session";

const ARTIFACTS = path.join(ROOT, "test-artifacts");

let info: ServedApp;
let browser: Browser | undefined;
const consoleErrors: string[] = [];

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `try-again-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  info = await serveApp({ E2E_PRODUCTS: "1", E2E_IMAGES_PER_PRODUCT: "1", E2E_CREDITS: "30" });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await info?.stop();
});

describe("trying an image again with a note", () => {
  it("makes a second version for 3 more credits, keeps the first, and publishes the first again for free", async () => {
    const page = await newAppPage(await openAppContext(browser!, info), info);
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
    try {
      await page.goto(info.openUrl);
      await expect.poll(() => page.getByTestId("image-cell").count(), { timeout: 30_000 }).toBe(1);
      await page.getByTestId("product-group").first().getByRole("checkbox").first().check();
      await page.getByRole("radio", { name: /Amazon/ }).check();
      await page.getByRole("button", { name: "Process 1 image" }).click();
      await page.waitForURL(/\/app\/batches\/[0-9a-f-]{36}/, { timeout: 30_000 });
      const summary = page.getByTestId("batch-summary");
      await expect.poll(() => summary.textContent(), { timeout: 120_000, interval: 500 }).toMatch(/^1 of 1 done · 1 published/);
      const item = page.getByTestId("batch-item").first();

      // Try again with a note (in the image's details): the form says what it costs; the note is capped at 200
      // characters as it is typed.
      await item.getByRole("button", { name: "Details" }).click();
      await item.getByRole("button", { name: /Try .* again/ }).click();
      const note = item.getByLabel("Note for the new version (optional)");
      await note.fill("x".repeat(250));
      expect((await note.inputValue()).length).toBe(200);
      await note.fill("keep the strap");
      await expect(item.getByText(/Costs 3 credits, charged only if the new version succeeds/).isVisible()).resolves.toBe(true);
      await shot(page, "01-note");
      await item.getByRole("button", { name: "Make a new version" }).click();

      const versions = item.getByTestId("item-version");
      await expect.poll(() => versions.count(), { timeout: 120_000, interval: 500 }).toBe(2);
      await expect
        .poll(() => versions.evaluateAll((els) => els.map((e) => e.getAttribute("data-state"))), { timeout: 120_000, interval: 500 })
        .toEqual(["SUPERSEDED", "PUBLISHED"]);
      await expect(item.getByText("Your note: “keep the strap”").isVisible()).resolves.toBe(true);
      await expect.poll(() => page.getByText(/Credits used: 6/).isVisible(), { timeout: 15_000 }).toBe(true);
      await expect(summary.textContent()).resolves.toMatch(/^1 of 1 done · 1 published/);
      await shot(page, "02-two-versions");

      // The first version goes back on the product, at no charge.
      await versions
        .first()
        .getByRole("button", { name: /Publish version 1/ })
        .click();
      await expect
        .poll(() => versions.evaluateAll((els) => els.map((e) => e.getAttribute("data-state"))), { timeout: 120_000, interval: 500 })
        .toEqual(["PUBLISHED", "SUPERSEDED"]);
      await expect.poll(() => page.getByText(/Credits used: 6/).isVisible(), { timeout: 15_000 }).toBe(true);
      await shot(page, "03-first-version-back");
    } catch (error) {
      await shot(page, "99-failure").catch(() => undefined);
      throw error;
    }
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});
