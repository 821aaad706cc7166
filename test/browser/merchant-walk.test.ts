/**
 * A merchant's path through the built app in Chromium, against the stand-ins (scripts/serve-e2e.ts):
 * open the app as Shopify admin does, filter, select 6 images, pick Amazon, submit, watch the batch
 * finish, compare before/after, restore one, buy a pack through Shopify's approval page, see the
 * balance change, turn on the automatic rule for new products, and clean the rest of the catalogue with a
 * whole-catalogue run (count and cost first, then progress), then open it as an admin in Spanish does (Images and
 * Credits in Spanish). Screenshots of each page go to test-artifacts/.
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, launchChromium, newAppPage, openAppContext, serveApp, type ServedApp } from "./session";

const ARTIFACTS = path.join(ROOT, "test-artifacts");
const PRODUCTS = 5;
const IMAGES_PER_PRODUCT = 2;
const GRANTED = 30;

let info: ServedApp;
let browser: Browser | undefined;
const consoleErrors: string[] = [];

async function openPage(): Promise<Page> {
  const page = await newAppPage(await openAppContext(browser!, info), info);
  page.on("console", (message) => {
    // Chromium logs every non-2xx fetch. Two are the protocol working: the settings step's 422, and the
    // 401 that carries Shopify's "open this URL at the top level" header when buying credits.
    if (message.type() === "error" && !/^Failed to load resource: the server responded with a status of (401|422)/.test(message.text())) {
      consoleErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function adminNavigate(page: Page, href: string): Promise<void> {
  await page.evaluate((to) => (window as unknown as { __appBridge: { navigate(h: string): void } }).__appBridge.navigate(to), href);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  info = await serveApp({
    E2E_PRODUCTS: String(PRODUCTS),
    E2E_IMAGES_PER_PRODUCT: String(IMAGES_PER_PRODUCT),
    E2E_CREDITS: String(GRANTED),
    // The stand-in's store is a development store, whose welcome credits and test charges share this cap:
    // room for the whole pack the walk buys after its welcome credits.
    DEV_STORE_TEST_CREDITS: "100",
  });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await info?.stop();
});

describe("a merchant in the embedded app", () => {
  it("cleans up 6 images with Amazon, restores one, buys credits, turns on the automatic rule and runs the whole catalogue", async () => {
    const page = await openPage();
    try {
      await walk(page);
    } catch (error) {
      await shot(page, "99-failure").catch(() => undefined);
      throw error;
    }
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});

async function walk(page: Page): Promise<void> {
  {
    // Images: the grid loads as Shopify admin opens the app. The first open installs the app (token
    // exchange, welcome credits); open it again as a returning merchant so the balance is settled.
    await page.goto(info.openUrl);
    await expect.poll(() => page.getByTestId("image-cell").count(), { timeout: 30_000 }).toBe(PRODUCTS * IMAGES_PER_PRODUCT);
    await page.goto(info.adminUrl("/app"));
    await expect.poll(() => page.getByTestId("image-cell").count(), { timeout: 30_000 }).toBe(PRODUCTS * IMAGES_PER_PRODUCT);
    await expect(page.getByRole("heading", { name: "Images", exact: true }).isVisible()).resolves.toBe(true);
    // Welcome credits (from the app's install hook) plus the credits the test store was granted.
    const costLine = page.getByTestId("cost-line");
    const initialBalance = Number(/balance (\d+)/.exec((await costLine.textContent()) ?? "")?.[1]);
    expect(initialBalance).toBeGreaterThanOrEqual(GRANTED);
    await expect(page.getByTestId("submit-blocked-reason").textContent()).resolves.toMatch(/Select at least one image/);
    await shot(page, "01-images");

    // Filter by a word of one product's title, then clear the search.
    const firstTitle = (await page.getByTestId("product-group").first().getAttribute("aria-label"))!;
    const word = firstTitle.split(" ")[0]!;
    await page.getByPlaceholder("Search by product title").fill(word);
    await expect.poll(() => page.url(), { timeout: 10_000 }).toContain(`q=${encodeURIComponent(word)}`);
    await expect
      .poll(
        async () => {
          const titles = await page.getByTestId("product-group").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""));
          return titles.length > 0 && titles.every((t) => t.includes(word));
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    await shot(page, "02-images-filtered");
    await page.getByPlaceholder("Search by product title").fill("");
    await expect.poll(() => page.getByTestId("image-cell").count(), { timeout: 15_000 }).toBe(PRODUCTS * IMAGES_PER_PRODUCT);

    // Jump to one product chosen in App Bridge's resource picker, then back to all products.
    const pickedId = (await page.getByTestId("product-group").nth(1).getAttribute("data-product-id"))!;
    await page.evaluate(
      (id) => (window as unknown as { __appBridge: { setPickerSelection(s: unknown): void } }).__appBridge.setPickerSelection([{ id }]),
      pickedId,
    );
    await page.getByRole("button", { name: "Choose products…" }).click();
    await expect
      .poll(() => page.getByTestId("product-group").evaluateAll((els) => els.map((e) => e.getAttribute("data-product-id"))), {
        timeout: 15_000,
      })
      .toEqual([pickedId]);
    await page.getByRole("button", { name: "Show all products" }).click();
    await expect.poll(() => page.getByTestId("image-cell").count(), { timeout: 15_000 }).toBe(PRODUCTS * IMAGES_PER_PRODUCT);

    // Select 6 images: three whole products (2 images each).
    const groups = page.getByTestId("product-group");
    for (let i = 0; i < 3; i++) await groups.nth(i).getByRole("checkbox").first().check();
    await expect(costLine.textContent()).resolves.toBe(`6 images x 3 credits = 18 credits; balance ${initialBalance}`);
    await page.getByRole("radio", { name: /Amazon/ }).check();
    await expect(page.getByText("What Amazon main image does").isVisible()).resolves.toBe(true);
    await shot(page, "03-images-selected");

    // Submit and watch the batch page reach done.
    await page.getByRole("button", { name: "Process 6 images" }).click();
    await page.waitForURL(/\/app\/batches\/[0-9a-f-]{36}/, { timeout: 30_000 });
    await expect
      .poll(() => page.getByTestId("batch-summary").textContent(), { timeout: 120_000, interval: 500 })
      .toMatch(/^6 of 6 done · 6 published/);
    expect(await page.getByTestId("batch-item").count()).toBe(6);
    expect(await page.getByText(/Credits used: 18/).isVisible()).toBe(true);
    await shot(page, "04-batch-done");

    // Before/after of the first image: on its tile, then bigger in the comparison dialog.
    const firstItem = page.getByTestId("batch-item").first();
    const tileAfter = firstItem.getByTestId("after-image");
    await tileAfter.waitFor({ state: "visible", timeout: 15_000 });
    await expect.poll(() => tileAfter.evaluate((img) => (img as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    await firstItem.getByRole("button", { name: /^Compare before and after of / }).click();
    const after = page.getByRole("dialog").getByTestId("compare-after");
    await after.waitFor({ state: "visible", timeout: 15_000 });
    await expect.poll(() => after.evaluate((img) => (img as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(page, "05-before-after");
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).first().click();
    await page.getByRole("dialog").waitFor({ state: "detached", timeout: 10_000 });

    // Restore that image's original.
    await firstItem.getByRole("button", { name: /Restore the original/ }).click();
    await page.getByText("Original image restored.").waitFor({ timeout: 30_000 });
    await expect.poll(() => firstItem.getAttribute("data-state"), { timeout: 15_000 }).toBe("RESTORED");
    await expect.poll(() => page.getByTestId("batch-summary").textContent(), { timeout: 15_000 }).toMatch(/5 published · 1 restored/);
    await shot(page, "06-batch-restored-one");

    // ZIP of the processed images, fetched with the session token and saved by the browser.
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 30_000 }),
      page.getByRole("button", { name: "Download ZIP" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    const zip = readFileSync((await download.path())!);
    expect(zip.subarray(0, 2).toString("latin1")).toBe("PK");

    // Batches history, reached through the app's nav menu as admin shows it.
    await adminNavigate(page, "/app/batches");
    await page.waitForURL(/\/app\/batches$/);
    await page.getByRole("heading", { name: "Batches", exact: true }).waitFor();
    const row = page.locator("tr", { hasText: "Amazon main image" }).first();
    await expect(row.textContent()).resolves.toMatch(/6\s*5\s*0\s*18/);
    await shot(page, "07-batches");

    // Settings: an invalid colour is refused on its field.
    await adminNavigate(page, "/app/settings");
    await page.getByLabel("Background colour").waitFor();
    await page.getByLabel("Background colour").fill("white");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText(/Enter the colour as 6 hex digits/).waitFor({ timeout: 15_000 });
    await shot(page, "08-settings-error");
    await page.getByLabel("Background colour").fill("#f5f5f5");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Settings saved").waitFor({ timeout: 15_000 });

    // Credits: buy a pack through Shopify's approval page and come back to a higher balance.
    await adminNavigate(page, "/app/credits");
    await page.waitForURL(/\/app\/credits/);
    const available = async () =>
      Number(
        ((await page.getByText("Available", { exact: true }).first().locator("xpath=following-sibling::*[1]").textContent()) ?? "").replace(
          /[^\d]/g,
          "",
        ),
      );
    const before = await available();
    expect(before).toBe(initialBalance - 18);
    await shot(page, "09-credits");
    await page
      .getByRole("button", { name: /pack with Shopify/ })
      .first()
      .click();
    await page.waitForURL((url) => url.href.startsWith(info.shopifyUrl), { timeout: 30_000 });
    const packCredits = Number(/(\d+)\s*(?:image\s+)?credits/i.exec((await page.getByTestId("charge-name").textContent()) ?? "")?.[1]);
    expect(packCredits).toBeGreaterThan(0);
    await shot(page, "10-shopify-approve-charge");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((url) => url.href.startsWith(info.appUrl) && url.pathname === "/app/credits", { timeout: 30_000 });
    await expect.poll(available, { timeout: 20_000 }).toBe(before + packCredits);
    await shot(page, "11-credits-after-purchase");

    // Settings: turn on the automatic rule for new products, publishing directly, within a monthly budget.
    await adminNavigate(page, "/app/settings");
    await page.getByLabel("Clean new product images automatically").waitFor();
    await page.getByLabel("Clean new product images automatically").check();
    await page.getByLabel("Which images").selectOption("featured");
    await page.getByLabel("Review before publishing", { exact: true }).nth(1).uncheck();
    await page.getByLabel("Monthly budget (credits)").fill("2");
    await page.getByRole("button", { name: "Save rule" }).click();
    await page.getByText(/from 3 \(one image\)/).waitFor({ timeout: 15_000 });
    await page.getByLabel("Monthly budget (credits)").fill("90");
    await page.getByRole("button", { name: "Save rule" }).click();
    await page.getByText("Automatic cleanup is on").waitFor({ timeout: 15_000 });
    await shot(page, "12-settings-automatic-rule");

    // Whole catalogue: count the images not processed yet (10 in the store: 5 published, 1 restored on purpose),
    // see the count and the cost, confirm, and watch the run finish.
    await adminNavigate(page, "/app/catalog");
    await page.getByRole("heading", { name: "Whole catalogue", exact: true }).waitFor();
    await page.getByRole("button", { name: "Count images" }).click();
    const summary = page.getByText(/images match, costing/);
    await summary.waitFor({ timeout: 60_000 });
    await expect(summary.textContent()).resolves.toMatch(/^4 images match, costing 12 credits/);
    await shot(page, "13-catalogue-counted");
    await page.getByRole("button", { name: "Clean 4 images" }).click();
    await expect
      .poll(
        () =>
          page
            .getByText(/of 4 done/)
            .first()
            .textContent(),
        { timeout: 120_000, interval: 500 },
      )
      .toMatch(/^4 of 4 done · 4 published/);
    await shot(page, "14-catalogue-done");
    await adminNavigate(page, "/app/batches");
    const catalogueRow = page.locator("tr", { hasText: "Whole catalogue" }).first();
    await catalogueRow.waitFor({ timeout: 15_000 });
    await expect(catalogueRow.textContent()).resolves.toMatch(/4\s*4\s*0\s*12/);
    await shot(page, "15-batches-with-catalogue-run");

    // The merchant's language: Shopify admin opens the app with its `locale`; any Spanish variant is Spanish, with
    // Spanish number and money formats, and it stays Spanish on pages reached inside the app (no `locale` there).
    await page.goto(info.adminUrl("/app", { locale: "es-ES" }));
    await page.getByRole("heading", { name: "Imágenes", exact: true }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId("image-cell").count(), { timeout: 30_000 }).toBe(PRODUCTS * IMAGES_PER_PRODUCT);
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("es");
    await expect(page.getByRole("heading", { name: "Procesar las imágenes seleccionadas" }).isVisible()).resolves.toBe(true);
    await expect(page.getByTestId("submit-blocked-reason").textContent()).resolves.toMatch(/Selecciona al menos una imagen/);
    await expect(
      page
        .getByText(/^Procesada · Amazon$/)
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await shot(page, "16-images-spanish");
    await adminNavigate(page, "/app/credits");
    await page.getByRole("heading", { name: "Saldo", exact: true }).waitFor({ timeout: 15_000 });
    await expect(page.getByRole("heading", { name: "Créditos", exact: true }).isVisible()).resolves.toBe(true);
    // Pack prices in Spanish format: "9,99 US$".
    await expect(
      page
        .getByText(/^9,99\sUS\$$/)
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await expect(page.getByRole("button", { name: "Comprar el paquete Starter con Shopify" }).isVisible()).resolves.toBe(true);
    await shot(page, "17-credits-spanish");
  }
}
