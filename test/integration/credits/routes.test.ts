import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import db from "~/db.server";
import { getBalance } from "~/models/credit-ledger.server";
import { action as creditsAction, loader as creditsLoader } from "~/routes/app.credits/route";
import { loader as returnLoader } from "~/routes/app.credits.return";
import { action as purchaseWebhook } from "~/routes/webhooks.app_purchases_one_time.update";
import { type StripeEmulator, startStripeEmulator } from "../../../emulators/stripe/server";
import { offlineAdmin, shopifyStandInForFile } from "../batches/shop-setup";
import { bearerRequest, body, call, formRequest, status } from "../routes/helpers";
import { createOfflineSession, uniqueShopDomain } from "../../factories";

const REAUTHORIZE_HEADER = "X-Shopify-API-Request-Failure-Reauthorize-Url";
const WEBHOOK_PATH = "/webhooks/app_purchases_one_time/update";

// Port 9 refuses at once: the stand-in's own webhook deliveries fail fast, and tests deliver them by hand.
const shopify = shopifyStandInForFile({ appUrl: "http://127.0.0.1:9" });
let stripe: StripeEmulator;

beforeAll(async () => {
  stripe = await startStripeEmulator({ secretKey: "sk_test_routes_suite", webhookSecret: "whsec_routes_suite" });
});
afterAll(async () => {
  // The stand-in numbers purchases from the same start in every process; drop ours so a re-run on the same
  // database does not meet its own old ids.
  await db.purchase.deleteMany({ where: { shop: { in: shops }, provider: "SHOPIFY" } });
  await stripe.close();
});
beforeEach(() => {
  process.env.SHOPIFY_BILLING_TEST = "true";
  delete process.env.STRIPE_SECRET_KEY;
});

interface Overview {
  balance: { available: number; reserved: number; total: number };
  packs: Array<{ id: string; name: string; credits: number; price: string }>;
  shopifyBilling: { enabled: boolean; test?: boolean; reason?: string };
  stripe: { enabled: boolean; reason?: string };
  history: { lines: Array<{ kind: string | null; available: number }>; nextCursor: string | null };
  recentPurchases: Array<{ id: string; status: string; packName: string }>;
  returnedPurchase: { id: string; status: string; credits: number; note: string | null } | null;
}

const shops: string[] = [];

/** A development store unless `partnerDevelopment: false` (a store on a paid plan). */
async function installedShop(opts: { partnerDevelopment?: boolean } = {}): Promise<string> {
  const shop = uniqueShopDomain();
  shops.push(shop);
  shopify.addShop(shop, { products: 1, ...opts });
  await createOfflineSession(db, shop, { accessToken: shopify.grantAccessToken(shop) });
  return shop;
}

async function overview(shop: string, search = ""): Promise<Overview> {
  return body<Overview>(await call(creditsLoader, await bearerRequest(shop, `/app/credits${search}`)));
}

/** Buys a pack through the page's action; returns the recorded purchase and where App Bridge is told to go. */
async function buyWithShopify(shop: string, packId = "starter") {
  const response = await call(creditsAction, await formRequest(shop, "/app/credits", { intent: "buy-shopify", packId }));
  expect(response).toBeInstanceOf(Response);
  const redirectTo = (response as Response).headers.get(REAUTHORIZE_HEADER);
  const purchase = await db.purchase.findFirstOrThrow({ where: { shop }, orderBy: { createdAt: "desc" } });
  return { response: response as Response, redirectTo, purchase, numericId: purchase.externalId.split("/").pop()! };
}

async function returnFromShopify(shop: string, chargeId: string) {
  return call(returnLoader, await bearerRequest(shop, `/app/credits/return?charge_id=${chargeId}`));
}

function purchaseUpdate(shop: string, gid: string, status: string, webhookId = randomUUID()) {
  const name = shopify.purchases(shop).find((p) => p.id === gid)?.name ?? "Starter pack: 30 image credits";
  return shopify.buildWebhookRequest({
    topic: "app_purchases_one_time/update",
    shop,
    path: WEBHOOK_PATH,
    webhookId,
    payload: {
      app_purchase_one_time: {
        admin_graphql_api_id: gid,
        name,
        status,
        admin_graphql_api_shop_id: "gid://shopify/Shop/1",
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      },
    },
  });
}

async function deliver(request: Request): Promise<number> {
  return status(await call(purchaseWebhook, request));
}

describe("Credits page", () => {
  it("shows the balance, the three packs with their prices, and why Stripe is absent", async () => {
    const shop = await installedShop();
    const data = await overview(shop);
    expect(data.balance).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(data.packs.map((p) => [p.name, p.credits, p.price])).toEqual([
      ["Starter", 30, "$9.99"],
      ["Pro", 100, "$29.99"],
      ["Business", 300, "$79.99"],
    ]);
    expect(data.shopifyBilling).toEqual({ enabled: true, test: true });
    expect(data.stripe.enabled).toBe(false);
    expect(data.stripe.reason).toMatch(/Stripe/);
  });

  it("refuses an unknown pack and an unconfigured billing mode with a message", async () => {
    const shop = await installedShop();
    const unknown = await call(creditsAction, await formRequest(shop, "/app/credits", { intent: "buy-shopify", packId: "mega" }));
    expect(status(unknown)).toBe(400);
    expect((await body<{ error: string }>(unknown)).error).toMatch(/no credit pack called "mega"/);
    delete process.env.SHOPIFY_BILLING_TEST;
    const unconfigured = await call(creditsAction, await formRequest(shop, "/app/credits", { intent: "buy-shopify", packId: "pro" }));
    expect(status(unconfigured)).toBe(400);
    expect((await body<{ error: string }>(unconfigured)).error).toMatch(/SHOPIFY_BILLING_TEST/);
    expect(shopify.purchases(shop)).toHaveLength(0);
    expect(await db.purchase.count({ where: { shop } })).toBe(0);
  });
});

describe("Shopify one-time purchases", () => {
  it("records the purchase before sending the merchant, top level, to Shopify's confirmation page", async () => {
    const shop = await installedShop();
    const { redirectTo, purchase, response } = await buyWithShopify(shop, "pro");
    expect(response.status).toBe(401); // App Bridge turns this into a top-level navigation
    const [charge] = shopify.purchases(shop);
    expect(redirectTo).toMatch(/confirm_application_charge/);
    expect(charge).toMatchObject({ id: purchase.externalId, test: true, price: { amount: "29.99", currencyCode: "USD" } });
    expect(charge!.returnUrl).toBe(
      `https://admin.shopify.com/store/${shop.replace(".myshopify.com", "")}/apps/${process.env.SHOPIFY_API_KEY}/app/credits/return`,
    );
    expect(purchase).toMatchObject({ provider: "SHOPIFY", pack: "pro", credits: 100, status: "PENDING", test: true });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("waits out Shopify throttling the purchase call, as catalogue calls do, and still sends the merchant to approve", async () => {
    const shop = await installedShop();
    // Right before the purchase mutation the store's bucket is all but empty, refilling at 20 points a second.
    shopify.beforeNextOperation(shop, "CreditPackPurchaseCreate", async () => {
      shopify.setThrottle(shop, { bucketSize: 1 });
      shopify.setThrottle(shop, { bucketSize: 1000, restoreRate: 20 });
    });
    const { redirectTo, purchase, response } = await buyWithShopify(shop);
    expect(response.status).toBe(401);
    expect(redirectTo).toMatch(/confirm_application_charge/);
    expect(purchase).toMatchObject({ provider: "SHOPIFY", status: "PENDING" });
    const calls = shopify.graphqlLog(shop).filter((entry) => entry.operationName === "CreditPackPurchaseCreate");
    expect(calls[0]?.throttled).toBe(true);
    expect(calls.at(-1)?.throttled).toBe(false);
    expect(shopify.purchases(shop)).toHaveLength(1);
  });

  it("sends SHOPIFY_BILLING_TEST=false through as a real charge", async () => {
    process.env.SHOPIFY_BILLING_TEST = "false";
    const shop = await installedShop({ partnerDevelopment: false });
    const { purchase } = await buyWithShopify(shop);
    expect(shopify.purchases(shop)[0]!.test).toBe(false);
    expect(purchase.test).toBe(false);
  });

  it("charges a development store with a test charge even when the app bills for real", async () => {
    process.env.SHOPIFY_BILLING_TEST = "false";
    const shop = await installedShop({ partnerDevelopment: true });
    const { purchase } = await buyWithShopify(shop);
    expect(shopify.purchases(shop)[0]!.test).toBe(true);
    expect(purchase.test).toBe(true);
    expect(await db.shop.findUniqueOrThrow({ where: { domain: shop } })).toMatchObject({ partnerDevelopment: true });
  });

  it("adds no credits for a test charge on a store that pays, and tells the merchant why", async () => {
    const shop = await installedShop({ partnerDevelopment: false });
    const { purchase, numericId } = await buyWithShopify(shop);
    expect(purchase.test).toBe(true);
    await shopify.approvePurchase(shop, purchase.externalId);
    expect(await deliver(purchaseUpdate(shop, purchase.externalId, "ACTIVE"))).toBe(200);
    await returnFromShopify(shop, numericId);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    const page = await overview(shop, `?purchase=${purchase.id}`);
    expect(page.returnedPurchase).toMatchObject({ status: "ACTIVE", note: expect.stringMatching(/test charge.*development stores only/i) });
  });

  it("credits a development store's test charges only up to its cap, however many packs it buys", async () => {
    const shop = await installedShop({ partnerDevelopment: true });
    const first = await buyWithShopify(shop, "business");
    await shopify.approvePurchase(shop, first.purchase.externalId);
    await returnFromShopify(shop, first.numericId);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    const page = await overview(shop, `?purchase=${first.purchase.id}`);
    expect(page.returnedPurchase?.note).toMatch(/30 of 300 credits added/);

    const second = await buyWithShopify(shop, "starter");
    await shopify.approvePurchase(shop, second.purchase.externalId);
    await Promise.all([returnFromShopify(shop, second.numericId), deliver(purchaseUpdate(shop, second.purchase.externalId, "ACTIVE"))]);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: second.purchase.id } })).toMatchObject({ status: "ACTIVE", grantedAt: null });
  });

  it("credits an approved purchase once from the return URL, replayed 10 times, and the webhook after it is a no-op", async () => {
    const shop = await installedShop();
    const { purchase, numericId } = await buyWithShopify(shop);
    await shopify.approvePurchase(shop, purchase.externalId);

    for (let i = 0; i < 10; i++) {
      const response = await returnFromShopify(shop, numericId);
      expect(status(response)).toBe(302);
      expect((response as Response).headers.get("location")).toMatch(new RegExp(`/app/credits\\?purchase=${purchase.id}`));
    }
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await deliver(purchaseUpdate(shop, purchase.externalId, "ACTIVE"))).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });

    const page = await overview(shop, `?purchase=${purchase.id}`);
    expect(page.returnedPurchase).toMatchObject({ id: purchase.id, status: "ACTIVE", credits: 30 });
    expect(page.history.lines.map((e) => [e.kind, e.available])).toEqual([["PURCHASE", 30]]);
  });

  it("credits once from the webhook delivered 10 times (retries and new deliveries), then the return URL is a no-op", async () => {
    process.env.SHOPIFY_BILLING_TEST = "false";
    const shop = await installedShop({ partnerDevelopment: false });
    const { purchase, numericId } = await buyWithShopify(shop, "business");
    await shopify.approvePurchase(shop, purchase.externalId);
    const retried = randomUUID();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => deliver(purchaseUpdate(shop, purchase.externalId, "ACTIVE", i < 5 ? retried : randomUUID()))),
    );
    expect(statuses).toEqual(Array(10).fill(200));
    expect(await getBalance(db, shop)).toEqual({ available: 300, reserved: 0, total: 300 });
    await returnFromShopify(shop, numericId);
    expect(await getBalance(db, shop)).toEqual({ available: 300, reserved: 0, total: 300 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "ACTIVE" });
  });

  it("records a declined purchase, shows it, and never credits it", async () => {
    const shop = await installedShop();
    const { purchase, numericId } = await buyWithShopify(shop);
    await shopify.declinePurchase(shop, purchase.externalId);
    await returnFromShopify(shop, numericId);
    expect(await deliver(purchaseUpdate(shop, purchase.externalId, "DECLINED"))).toBe(200);
    // A stale ACTIVE claim cannot come after a decline from Shopify; even so the read-back decides on the return URL.
    await returnFromShopify(shop, numericId);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    const page = await overview(shop, `?purchase=${purchase.id}`);
    expect(page.returnedPurchase).toMatchObject({ status: "DECLINED" });
    expect(page.recentPurchases[0]).toMatchObject({ id: purchase.id, status: "DECLINED" });
  });

  it("records an expired purchase and never credits it", async () => {
    const shop = await installedShop();
    const { purchase } = await buyWithShopify(shop);
    await shopify.expirePurchase(shop, purchase.externalId);
    for (let i = 0; i < 3; i++) expect(await deliver(purchaseUpdate(shop, purchase.externalId, "EXPIRED"))).toBe(200);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "EXPIRED", grantedAt: null });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("answers 401 to a webhook with a bad HMAC and credits nothing", async () => {
    const shop = await installedShop();
    const { purchase } = await buyWithShopify(shop);
    await shopify.approvePurchase(shop, purchase.externalId);
    const signed = purchaseUpdate(shop, purchase.externalId, "ACTIVE");
    const forged = new Request(signed.url, {
      method: "POST",
      headers: { ...Object.fromEntries(signed.headers), "x-shopify-hmac-sha256": Buffer.from("not the signature").toString("base64") },
      body: await signed.text(),
    });
    expect(await deliver(forged)).toBe(401);
    const wrongSecret = shopify.buildWebhookRequest({
      topic: "app_purchases_one_time/update",
      shop,
      path: WEBHOOK_PATH,
      secret: "someone-elses-secret",
      payload: {
        app_purchase_one_time: { admin_graphql_api_id: purchase.externalId, name: "Starter pack: 30 image credits", status: "ACTIVE" },
      },
    });
    expect(await deliver(wrongSecret)).toBe(401);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "PENDING" });
  });

  it("records and credits an approved purchase for a shop the app does not know (uninstalled), instead of losing it", async () => {
    const shop = uniqueShopDomain();
    const gid = `gid://shopify/AppPurchaseOneTime/${Date.now()}${Math.floor(Math.random() * 1000)}`;
    const request = shopify.buildWebhookRequest({
      topic: "app_purchases_one_time/update",
      shop,
      path: WEBHOOK_PATH,
      payload: { app_purchase_one_time: { admin_graphql_api_id: gid, name: "Pro pack: 100 image credits", status: "ACTIVE" } },
    });
    expect(await deliver(request)).toBe(200);
    expect(await db.purchase.findUniqueOrThrow({ where: { externalId: gid } })).toMatchObject({
      shop,
      pack: "pro",
      credits: 100,
      status: "ACTIVE",
    });
    expect(await getBalance(db, shop)).toEqual({ available: 100, reserved: 0, total: 100 });
  });

  it("confirms a purchase with one Admin read however many purchases the shop made since", async () => {
    const shop = await installedShop();
    const { purchase, numericId } = await buyWithShopify(shop);
    await shopify.approvePurchase(shop, purchase.externalId);
    // 60 newer charges (another tab, other packs): the one to confirm is on the second page of the newest.
    const graphql = await offlineAdmin(shop);
    for (let i = 0; i < 60; i++) {
      await graphql(
        `
          #graphql
          mutation TestChargeCreate($price: MoneyInput!) {
            appPurchaseOneTimeCreate(
              name: "Starter pack: 30 image credits"
              price: $price
              returnUrl: "https://example.test/r"
              test: true
            ) {
              userErrors {
                message
              }
            }
          }
        `,
        { variables: { price: { amount: "9.99", currencyCode: "USD" } } },
      );
    }
    const before = shopify.graphqlLog(shop).length;
    await returnFromShopify(shop, numericId);
    const reads = shopify
      .graphqlLog(shop)
      .slice(before)
      .filter((entry) => entry.operationName !== "ShopPlanForBilling");
    expect(reads).toHaveLength(1);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });

  it("does not let a shop confirm another shop's purchase through the return URL", async () => {
    const owner = await installedShop();
    const other = await installedShop();
    const { purchase, numericId } = await buyWithShopify(owner);
    await shopify.approvePurchase(owner, purchase.externalId);
    const response = await returnFromShopify(other, numericId);
    expect((response as Response).headers.get("location")).not.toMatch(/purchase=/);
    expect(await getBalance(db, other)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ shop: owner, status: "PENDING" });
  });
});

describe("Stripe from the Credits page", () => {
  function enableStripe() {
    process.env.STRIPE_SECRET_KEY = stripe.secretKey;
    process.env.STRIPE_WEBHOOK_SECRET = stripe.webhookSecret;
    process.env.STRIPE_API_URL = stripe.url;
  }

  it("refuses Stripe with the reason when it is not configured", async () => {
    const shop = await installedShop();
    const response = await call(creditsAction, await formRequest(shop, "/app/credits", { intent: "buy-stripe", packId: "starter" }));
    expect(status(response)).toBe(400);
    expect((await body<{ error: string }>(response)).error).toMatch(/Stripe/);
  });

  it("sends the merchant to Stripe Checkout and credits once when they come back paid", async () => {
    enableStripe();
    const shop = await installedShop();
    expect((await overview(shop)).stripe).toEqual({ enabled: true });
    const response = (await call(
      creditsAction,
      await formRequest(shop, "/app/credits", { intent: "buy-stripe", packId: "starter" }),
    )) as Response;
    const purchase = await db.purchase.findFirstOrThrow({ where: { shop, provider: "STRIPE" } });
    const session = stripe.session(purchase.externalId)!;
    expect(response.headers.get(REAUTHORIZE_HEADER)).toBe(session.url);
    expect(session.success_url).toContain("/app/credits/return?provider=stripe&session_id={CHECKOUT_SESSION_ID}");

    // Back before paying: nothing yet.
    await call(returnLoader, await bearerRequest(shop, `/app/credits/return?session_id=${session.id}`));
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });

    stripe.completeSession(session.id, { paymentStatus: "paid" });
    for (let i = 0; i < 3; i++) {
      const back = (await call(returnLoader, await bearerRequest(shop, `/app/credits/return?session_id=${session.id}`))) as Response;
      expect(back.headers.get("location")).toMatch(new RegExp(`purchase=${purchase.id}`));
    }
    const otherShop = await installedShop();
    await call(returnLoader, await bearerRequest(otherShop, `/app/credits/return?session_id=${session.id}`));
    expect(await getBalance(db, otherShop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });
});
