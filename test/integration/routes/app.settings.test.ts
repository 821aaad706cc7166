import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { action, loader } from "~/routes/app.settings/route";
import { body, bearerRequest, call, formRequest, status } from "./helpers";
import { createOfflineSession, uniqueShopDomain } from "../../factories";

const valid = {
  defaultPipeline: "ebay",
  reviewBeforePublish: "on",
  backgroundColor: "f5f5f5",
  outputSizePreset: "large",
  dailySpendCap: "90",
};

describe("settings page", () => {
  it("shows the defaults to a shop that never saved settings", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const data = await body<{ settings: Record<string, unknown>; pipelines: { id: string }[] }>(
      await call(loader, await bearerRequest(shop, "/app/settings")),
    );
    expect(data.settings).toEqual({
      defaultPipeline: "amazon",
      reviewBeforePublish: false,
      backgroundColor: "#FFFFFF",
      outputSizePreset: "standard",
      dailySpendCap: null,
    });
    expect(data.pipelines.map((p) => p.id)).toEqual(["amazon", "ebay", "instagram"]);
  });

  it("saves valid settings, normalises the colour and shows them on the next load", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const saved = await call(action, await formRequest(shop, "/app/settings", valid));
    expect(status(saved)).toBe(200);
    const data = await body<{ settings: Record<string, unknown> }>(await call(loader, await bearerRequest(shop, "/app/settings")));
    expect(data.settings).toEqual({
      defaultPipeline: "ebay",
      reviewBeforePublish: true,
      backgroundColor: "#F5F5F5",
      outputSizePreset: "large",
      dailySpendCap: 90,
    });
  });

  it("answers 422 with an error on each invalid field and changes nothing", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    await call(action, await formRequest(shop, "/app/settings", valid));
    const result = await call(
      action,
      await formRequest(shop, "/app/settings", {
        defaultPipeline: "etsy",
        backgroundColor: "white",
        outputSizePreset: "huge",
        dailySpendCap: "2.5",
      }),
    );
    expect(status(result)).toBe(422);
    const { errors } = await body<{ errors: Record<string, string> }>(result);
    expect(Object.keys(errors).sort()).toEqual(["backgroundColor", "dailySpendCap", "defaultPipeline", "outputSizePreset"]);
    expect(errors.backgroundColor).toMatch(/#FFFFFF/);
    expect(errors.dailySpendCap).toMatch(/whole number/);
    const row = await prisma.shop.findUniqueOrThrow({ where: { domain: shop } });
    expect(row.defaultPipeline).toBe("ebay");
    expect(row.dailySpendCap).toBe(90);
  });

  it("clears the daily cap and review flag when left empty", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    await call(action, await formRequest(shop, "/app/settings", valid));
    await call(action, await formRequest(shop, "/app/settings", { ...valid, reviewBeforePublish: "", dailySpendCap: "" }));
    const row = await prisma.shop.findUniqueOrThrow({ where: { domain: shop } });
    expect(row.reviewBeforePublish).toBe(false);
    expect(row.dailySpendCap).toBeNull();
  });

  it("keeps one shop's settings away from another", async () => {
    const a = uniqueShopDomain();
    const b = uniqueShopDomain();
    await createOfflineSession(prisma, a);
    await createOfflineSession(prisma, b);
    await call(action, await formRequest(a, "/app/settings", valid));
    const data = await body<{ settings: { defaultPipeline: string } }>(await call(loader, await bearerRequest(b, "/app/settings")));
    expect(data.settings.defaultPipeline).toBe("amazon");
  });

  it("refuses a request without a valid session token", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const request = new Request(`${process.env.SHOPIFY_APP_URL}/app/settings`, {
      headers: { Authorization: "Bearer not-a-jwt" },
    });
    const result = await call(loader, request);
    expect(result).toBeInstanceOf(Response);
    expect(status(result)).toBe(401);
  });
});

describe("settings page: automatic cleanup rule", () => {
  it("turns the rule on with its pipeline, images, review and budget, and shows it on the next load", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const saved = await call(
      action,
      await formRequest(shop, "/app/settings", {
        intent: "auto-rule",
        enabled: "on",
        pipeline: "ebay",
        images: "featured",
        reviewBeforePublish: "",
        monthlyBudget: "300",
      }),
    );
    expect(status(saved)).toBe(200);
    const data = await body<{ rule: Record<string, unknown>; settings: Record<string, unknown> }>(
      await call(loader, await bearerRequest(shop, "/app/settings")),
    );
    expect(data.rule).toMatchObject({
      enabled: true,
      pipeline: "ebay",
      images: "featured",
      reviewBeforePublish: false,
      monthlyBudget: 300,
      pausedAt: null,
      spentThisMonth: 0,
    });
    expect(data.rule.enabledAt).toBeTruthy();
    // The defaults for manual batches are a separate form and stay as they were.
    expect(data.settings).toMatchObject({ defaultPipeline: "amazon", reviewBeforePublish: false });
  });

  it("answers 422 with what to enter for a budget below one image, and keeps the rule off", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const result = await call(
      action,
      await formRequest(shop, "/app/settings", {
        intent: "auto-rule",
        enabled: "on",
        pipeline: "amazon",
        images: "every",
        monthlyBudget: "2",
      }),
    );
    expect(status(result)).toBe(422);
    const { errors } = await body<{ errors: Record<string, string> }>(result);
    expect(errors.monthlyBudget).toMatch(/from 3 \(one image\)/);
    expect(errors.images).toMatch(/all images or only the featured image/);
    const data = await body<{ rule: { enabled: boolean } }>(await call(loader, await bearerRequest(shop, "/app/settings")));
    expect(data.rule.enabled).toBe(false);
  });

  it("saving a paused rule resumes it", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    await call(
      action,
      await formRequest(shop, "/app/settings", {
        intent: "auto-rule",
        enabled: "on",
        pipeline: "amazon",
        images: "all",
        monthlyBudget: "9",
      }),
    );
    await prisma.shop.update({
      where: { domain: shop },
      data: { autoCleanPausedAt: new Date(), autoCleanPausedFor: "budget", autoCleanPauseReason: "Automatic cleanup is paused: ..." },
    });
    const paused = await body<{ rule: { pauseReason: string | null } }>(await call(loader, await bearerRequest(shop, "/app/settings")));
    expect(paused.rule.pauseReason).toMatch(/paused/);
    await call(
      action,
      await formRequest(shop, "/app/settings", {
        intent: "auto-rule",
        enabled: "on",
        pipeline: "amazon",
        images: "all",
        monthlyBudget: "30",
      }),
    );
    const resumed = await body<{ rule: { pauseReason: string | null; monthlyBudget: number } }>(
      await call(loader, await bearerRequest(shop, "/app/settings")),
    );
    expect(resumed.rule).toMatchObject({ pauseReason: null, monthlyBudget: 30 });
  });
});
