import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import db from "~/db.server";
import { captureForItem, reserveForItems } from "~/models/credit-reservations.server";
import { getBalance, getDebt, sumEntries } from "~/models/credit-ledger.server";
import { createStripeCheckout } from "~/models/stripe-purchases.server";
import { createStripeClient } from "~/models/stripe.server";
import { redactedShopPseudonym } from "~/models/lifecycle.server";
import { action as shopRedact } from "~/routes/webhooks.shop.redact";
import { action as stripeWebhook } from "~/routes/webhooks.stripe";
import { deliver as deliverShopifyWebhook, webhookRequest } from "../lifecycle/helpers";
import { type CheckoutEventType, type StripeEmulator, startStripeEmulator } from "../../../emulators/stripe/server";
import { createShop, uniqueShopDomain } from "../../factories";

let stripeEmulator: StripeEmulator;

beforeAll(async () => {
  stripeEmulator = await startStripeEmulator({
    secretKey: "sk_test_credits_suite",
    webhookSecret: "whsec_credits_suite",
    prices: { price_pro_configured: { unitAmount: 2999, currency: "usd", productName: "Pro pack" } },
  });
  process.env.STRIPE_SECRET_KEY = stripeEmulator.secretKey;
  process.env.STRIPE_WEBHOOK_SECRET = stripeEmulator.webhookSecret;
  process.env.STRIPE_API_URL = stripeEmulator.url;
});
afterAll(() => stripeEmulator.close());

const stripe = () => createStripeClient(stripeEmulator.secretKey, new URL(stripeEmulator.url));

async function checkout(shop: string, packId = "starter") {
  await createShop(db, { domain: shop });
  const { purchaseId, checkoutUrl } = await createStripeCheckout({ db, stripe: stripe() }, shop, {
    packId,
    successUrl: "https://admin.shopify.com/store/x/apps/key/app/credits/return?session_id={CHECKOUT_SESSION_ID}",
    cancelUrl: "https://admin.shopify.com/store/x/apps/key/app/credits",
  });
  const purchase = await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
  return { purchase, sessionId: purchase.externalId, checkoutUrl };
}

async function deliver(type: CheckoutEventType, sessionId: string, opts?: { timestamp?: number; secret?: string }) {
  const request = stripeEmulator.buildWebhookRequest(type, sessionId, { url: "https://app.example.test/webhooks/stripe", ...opts });
  return stripeWebhook({ request, params: {}, context: {} });
}

/** A paid purchase of `packId`, credited through the webhook. */
async function paidPurchase(packId = "pro") {
  const shop = uniqueShopDomain();
  const { sessionId, purchase } = await checkout(shop, packId);
  stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
  expect((await deliver("checkout.session.completed", sessionId)).status).toBe(200);
  return { shop, sessionId, purchase };
}

/** Spends `credits` of the shop's balance on images (reserve, then capture). */
async function spend(shop: string, images: number) {
  const items = Array.from({ length: images }, () => randomUUID());
  await reserveForItems(db, shop, items, 3);
  for (const item of items) await captureForItem(db, shop, item);
}

describe("refunds and disputes", () => {
  it("takes a refunded purchase's credits back once, the event delivered 10 times at once", async () => {
    const { shop, sessionId, purchase } = await paidPurchase("pro");
    expect(await getBalance(db, shop)).toEqual({ available: 100, reserved: 0, total: 100 });
    stripeEmulator.refundSession(sessionId);
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver("charge.refunded", sessionId)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.creditEntry.count({ where: { shop, kind: "ADJUSTMENT", purchaseId: purchase.id } })).toBe(1);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ reversedCredits: 100 });
  });

  it("takes back a disputed purchase's credits once, replayed 10 times, and a refund after it takes nothing more", async () => {
    const { shop, sessionId, purchase } = await paidPurchase("starter");
    stripeEmulator.disputeSession(sessionId);
    for (let i = 0; i < 10; i++) expect((await deliver("charge.dispute.created", sessionId)).status).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    stripeEmulator.refundSession(sessionId);
    expect((await deliver("charge.refunded", sessionId)).status).toBe(200);
    expect(await db.creditEntry.count({ where: { shop, kind: "ADJUSTMENT", purchaseId: purchase.id } })).toBe(1);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("takes back in proportion to a partial refund, then the rest when the remainder is refunded", async () => {
    const { shop, sessionId } = await paidPurchase("pro"); // 100 credits for $29.99
    stripeEmulator.refundSession(sessionId, 1500);
    for (let i = 0; i < 3; i++) await deliver("charge.refunded", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 100 - Math.ceil((100 * 1500) / 2999) });
    stripeEmulator.refundSession(sessionId);
    for (let i = 0; i < 3; i++) await deliver("charge.refunded", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 0 });
  });

  it("gives a won dispute's credits back once, the closing event delivered 10 times", async () => {
    const { shop, sessionId, purchase } = await paidPurchase("starter"); // 30 credits
    stripeEmulator.disputeSession(sessionId);
    await deliver("charge.dispute.created", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 0 });
    stripeEmulator.closeDispute(sessionId, "won");
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver("charge.dispute.closed", sessionId)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await db.creditEntry.count({ where: { shop, kind: "ADJUSTMENT", purchaseId: purchase.id } })).toBe(2);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ reversedCredits: 0 });
  });

  it("takes the credits back for a refund after a dispute the merchant won", async () => {
    const { shop, sessionId, purchase } = await paidPurchase("starter"); // 30 credits
    stripeEmulator.disputeSession(sessionId);
    await deliver("charge.dispute.created", sessionId);
    stripeEmulator.closeDispute(sessionId, "won");
    await deliver("charge.dispute.closed", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 30 });
    // The merchant then refunds the whole payment: the same 30 credits go out a second time, for another reason.
    stripeEmulator.refundSession(sessionId);
    for (let i = 0; i < 3; i++) await deliver("charge.refunded", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ reversedCredits: 30 });
    expect(sumEntries(await db.creditEntry.findMany({ where: { shop } }))).toEqual(await getBalance(db, shop));
  });

  it("keeps a lost dispute's credits taken back, and an inquiry (no money withdrawn) takes nothing", async () => {
    const lost = await paidPurchase("starter");
    stripeEmulator.disputeSession(lost.sessionId);
    await deliver("charge.dispute.created", lost.sessionId);
    stripeEmulator.closeDispute(lost.sessionId, "lost");
    await deliver("charge.dispute.closed", lost.sessionId);
    expect(await getBalance(db, lost.shop)).toMatchObject({ available: 0 });

    const inquiry = await paidPurchase("starter");
    stripeEmulator.disputeSession(inquiry.sessionId, undefined, { inquiry: true });
    await deliver("charge.dispute.created", inquiry.sessionId);
    expect(await getBalance(db, inquiry.shop)).toMatchObject({ available: 30 });
  });

  it("takes everything back when a partial refund and a dispute of the rest return all the money", async () => {
    const { shop, sessionId, purchase } = await paidPurchase("pro"); // 100 credits for $29.99
    stripeEmulator.refundSession(sessionId, 1000);
    await deliver("charge.refunded", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 100 - Math.ceil((100 * 1000) / 2999) });
    stripeEmulator.disputeSession(sessionId); // the remaining $19.99
    await deliver("charge.dispute.created", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 0 });
    // Won: only the dispute's part comes back; the refund's stays taken.
    stripeEmulator.closeDispute(sessionId, "won");
    await deliver("charge.dispute.closed", sessionId);
    expect(await getBalance(db, shop)).toMatchObject({ available: 100 - Math.ceil((100 * 1000) / 2999) });
    const entries = await db.creditEntry.findMany({ where: { shop } });
    expect(sumEntries(entries)).toEqual(await getBalance(db, shop));
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({
      reversedCredits: Math.ceil((100 * 1000) / 2999),
    });
  });

  it("records what the balance cannot cover as owed, paid first by the next pack", async () => {
    const { shop, sessionId } = await paidPurchase("starter"); // 30 credits
    await spend(shop, 9); // 27 credits spent on images
    stripeEmulator.refundSession(sessionId);
    for (let i = 0; i < 10; i++) await deliver("charge.refunded", sessionId);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await getDebt(db, shop)).toBe(27);

    const { sessionId: next } = await checkout(shop, "starter");
    stripeEmulator.completeSession(next, { paymentStatus: "paid" });
    await deliver("checkout.session.completed", next);
    expect(await getDebt(db, shop)).toBe(0);
    expect(await getBalance(db, shop)).toEqual({ available: 3, reserved: 0, total: 3 });
    const entries = await db.creditEntry.findMany({ where: { shop } });
    expect(sumEntries(entries)).toEqual(await getBalance(db, shop));
    expect(entries.reduce((sum, e) => sum + e.debtDelta, 0)).toBe(0);
  });
});

describe("Stripe Checkout purchases", () => {
  it("records a pending purchase for the pack with one Stripe customer per shop", async () => {
    const shop = uniqueShopDomain();
    const first = await checkout(shop, "starter");
    const second = await checkout(shop, "business");
    expect(first.purchase).toMatchObject({ shop, provider: "STRIPE", pack: "starter", credits: 30, amountCents: 999, status: "PENDING" });
    expect(second.purchase).toMatchObject({ pack: "business", credits: 300, amountCents: 7999 });
    expect(first.checkoutUrl).toBe(stripeEmulator.session(first.sessionId)!.url);

    const sessions = [stripeEmulator.session(first.sessionId)!, stripeEmulator.session(second.sessionId)!];
    expect(sessions[0]!.customer).toBe(sessions[1]!.customer);
    expect((await db.shop.findUniqueOrThrow({ where: { domain: shop } })).stripeCustomerId).toBe(sessions[0]!.customer);
    expect(sessions[0]).toMatchObject({ mode: "payment", metadata: { shop, pack: "starter" }, client_reference_id: first.purchase.id });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("charges a configured Stripe Price when one is set for the pack", async () => {
    process.env.STRIPE_PRICE_PRO = "price_pro_configured";
    try {
      const { sessionId } = await checkout(uniqueShopDomain(), "pro");
      expect(stripeEmulator.session(sessionId)!.line_items_data[0]).toMatchObject({ price: "price_pro_configured", amount_total: 2999 });
    } finally {
      delete process.env.STRIPE_PRICE_PRO;
    }
  });

  it("credits a paid checkout once however often checkout.session.completed is delivered", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop);
    stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver("checkout.session.completed", sessionId)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "ACTIVE" });
    expect(await db.creditEntry.count({ where: { shop, kind: "PURCHASE", purchaseId: purchase.id } })).toBe(1);
  });

  it("waits for an async payment and credits it once on async_payment_succeeded", async () => {
    const shop = uniqueShopDomain();
    const { sessionId } = await checkout(shop);
    stripeEmulator.completeSession(sessionId, { paymentStatus: "unpaid" });
    for (let i = 0; i < 10; i++) expect((await deliver("checkout.session.completed", sessionId)).status).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });

    stripeEmulator.settleAsyncPayment(sessionId, true);
    for (let i = 0; i < 10; i++) expect((await deliver("checkout.session.async_payment_succeeded", sessionId)).status).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });

  it("grants once when completed and async_payment_succeeded both arrive for one session, concurrently", async () => {
    const shop = uniqueShopDomain();
    const { sessionId } = await checkout(shop);
    stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        deliver(i % 2 ? "checkout.session.async_payment_succeeded" : "checkout.session.completed", sessionId),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });

  it("records a failed async payment without crediting it", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop);
    stripeEmulator.completeSession(sessionId, { paymentStatus: "unpaid" });
    await deliver("checkout.session.completed", sessionId);
    stripeEmulator.settleAsyncPayment(sessionId, false);
    expect((await deliver("checkout.session.async_payment_failed", sessionId)).status).toBe(200);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "FAILED", grantedAt: null });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("refuses a bad signature, a tampered body and a stale event with 400, crediting nothing", async () => {
    const shop = uniqueShopDomain();
    const { sessionId } = await checkout(shop);
    stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });

    expect((await deliver("checkout.session.completed", sessionId, { secret: "whsec_someone_else" })).status).toBe(400);
    expect((await deliver("checkout.session.completed", sessionId, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(400);

    const { payload, signature } = stripeEmulator.signEvent("checkout.session.completed", sessionId);
    const tampered = payload.replace('"credits":"30"', '"credits":"3000"');
    expect(tampered).not.toBe(payload);
    const tamperedResponse = await stripeWebhook({
      request: new Request("https://app.example.test/webhooks/stripe", {
        method: "POST",
        headers: { "stripe-signature": signature },
        body: tampered,
      }),
      params: {},
      context: {},
    });
    expect(tamperedResponse.status).toBe(400);
    const unsigned = await stripeWebhook({
      request: new Request("https://app.example.test/webhooks/stripe", { method: "POST", body: payload }),
      params: {},
      context: {},
    });
    expect(unsigned.status).toBe(400);

    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.creditEntry.count({ where: { shop } })).toBe(0);
  });

  it("acknowledges event types it does not handle", async () => {
    const shop = uniqueShopDomain();
    const { sessionId } = await checkout(shop);
    const { payload, signature } = stripeEmulator.signEvent("checkout.session.completed", sessionId);
    const other = JSON.stringify({ ...JSON.parse(payload), type: "customer.created" });
    const { signature: otherSignature } = {
      signature: stripe().webhooks.generateTestHeaderString({ payload: other, secret: stripeEmulator.webhookSecret }),
    };
    expect(signature).not.toBe(otherSignature);
    const response = await stripeWebhook({
      request: new Request("https://app.example.test/webhooks/stripe", {
        method: "POST",
        headers: { "stripe-signature": otherSignature },
        body: other,
      }),
      params: {},
      context: {},
    });
    expect(response.status).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("records and credits a paid session whose purchase row is missing, for a shop the app no longer knows", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop, "pro");
    await db.purchase.delete({ where: { id: purchase.id } });
    await db.shop.delete({ where: { domain: shop } });
    stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    expect((await deliver("checkout.session.completed", sessionId)).status).toBe(200);
    expect(await db.purchase.findUniqueOrThrow({ where: { externalId: sessionId } })).toMatchObject({
      shop,
      pack: "pro",
      credits: 100,
      status: "ACTIVE",
    });
    expect(await getBalance(db, shop)).toEqual({ available: 100, reserved: 0, total: 100 });
  });

  it("records an expired checkout without crediting it", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop);
    stripeEmulator.expireSession(sessionId);
    expect((await deliver("checkout.session.expired", sessionId)).status).toBe(200);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "EXPIRED", grantedAt: null });
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
  });

  it("credits a merchant who pays on the stand-in's hosted page, through a signed event sent over HTTP", async () => {
    // A minimal app server: hands every POST to the real webhook route.
    const app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const request = new Request(`http://127.0.0.1${req.url}`, {
          method: "POST",
          headers: Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v] as [string, string]] : [])),
          body: Buffer.concat(chunks),
        });
        void stripeWebhook({ request, params: {}, context: {} }).then(async (response) => {
          res.writeHead(response.status).end(await response.text());
        });
      });
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    stripeEmulator.setWebhookUrl(`http://127.0.0.1:${(app.address() as AddressInfo).port}/webhooks/stripe`);
    try {
      const shop = uniqueShopDomain();
      const { sessionId, checkoutUrl } = await checkout(shop, "pro");
      const page = await fetch(checkoutUrl);
      expect(await page.text()).toContain("Pay USD 29.99");
      const paid = await fetch(checkoutUrl, { method: "POST", redirect: "manual" });
      expect(paid.status).toBe(303);
      expect(paid.headers.get("location")).toContain(`session_id=${sessionId}`);
      expect(await getBalance(db, shop)).toEqual({ available: 100, reserved: 0, total: 100 });
    } finally {
      stripeEmulator.setWebhookUrl(undefined);
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });

  it("never credits a test-mode session on a live deployment", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop);
    stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    const saved = process.env.STRIPE_SECRET_KEY;
    process.env.STRIPE_SECRET_KEY = "sk_live_credits_suite";
    try {
      const response = await deliver("checkout.session.completed", sessionId);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ outcome: "ignored" });
    } finally {
      process.env.STRIPE_SECRET_KEY = saved;
    }
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: "PENDING", grantedAt: null });
  });

  it("credits a live-mode session on a live deployment", async () => {
    const live = await startStripeEmulator({ secretKey: "sk_live_credits_suite", webhookSecret: stripeEmulator.webhookSecret });
    const saved = { key: process.env.STRIPE_SECRET_KEY, url: process.env.STRIPE_API_URL };
    process.env.STRIPE_SECRET_KEY = live.secretKey;
    process.env.STRIPE_API_URL = live.url;
    try {
      const shop = uniqueShopDomain();
      await createShop(db, { domain: shop });
      const { purchaseId } = await createStripeCheckout({ db, stripe: createStripeClient(live.secretKey, new URL(live.url)) }, shop, {
        packId: "starter",
        successUrl: "https://admin.shopify.com/store/x/apps/key/app/credits/return?session_id={CHECKOUT_SESSION_ID}",
        cancelUrl: "https://admin.shopify.com/store/x/apps/key/app/credits",
      });
      const { externalId } = await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
      live.completeSession(externalId, { paymentStatus: "paid" });
      const request = live.buildWebhookRequest("checkout.session.completed", externalId, {
        url: "https://app.example.test/webhooks/stripe",
      });
      expect((await stripeWebhook({ request, params: {}, context: {} })).status).toBe(200);
      expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
      expect(await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } })).toMatchObject({ test: false, status: "ACTIVE" });
    } finally {
      process.env.STRIPE_SECRET_KEY = saved.key;
      process.env.STRIPE_API_URL = saved.url;
      await live.close();
    }
  });

  it("refuses a chunked body over 512 KB with 413 without reading all of it", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8 * 1024 * 1024) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const request = new Request("https://app.example.test/webhooks/stripe", {
      method: "POST",
      headers: { "stripe-signature": "t=1,v1=00" },
      body,
      duplex: "half",
    } as RequestInit);
    const response = await stripeWebhook({ request, params: {}, context: {} });
    expect(response.status).toBe(413);
    expect(sent).toBeLessThan(1024 * 1024);
  });

  it("credits nothing when the amount paid is not the recorded price, and says why", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop, "pro");
    const session = stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    session.amount_total = 99; // a discount the app never offered
    for (let i = 0; i < 3; i++) expect((await deliver("checkout.session.completed", sessionId)).status).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({
      status: "ACTIVE",
      grantedAt: null,
      note: expect.stringMatching(/amount paid \(\$0\.99\) is not the pack's price \(\$29\.99\)/),
    });
  });

  it("credits a session it did not record with its pack's credits, never with metadata.credits", async () => {
    const shop = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(shop, "starter");
    await db.purchase.delete({ where: { id: purchase.id } });
    const session = stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    session.metadata = { ...session.metadata, credits: "3000" };
    expect((await deliver("checkout.session.completed", sessionId)).status).toBe(200);
    expect(await getBalance(db, shop)).toEqual({ available: 30, reserved: 0, total: 30 });
  });

  it("ignores a session that names another shop or no shop", async () => {
    const owner = uniqueShopDomain();
    const { sessionId, purchase } = await checkout(owner);
    const session = stripeEmulator.completeSession(sessionId, { paymentStatus: "paid" });
    const other = uniqueShopDomain();
    session.metadata = { ...session.metadata, shop: other };
    expect(await (await deliver("checkout.session.completed", sessionId)).json()).toMatchObject({ outcome: "ignored" });
    session.metadata = { pack: "starter" };
    expect(await (await deliver("checkout.session.completed", sessionId)).json()).toMatchObject({ outcome: "ignored" });
    expect(await getBalance(db, owner)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await getBalance(db, other)).toEqual({ available: 0, reserved: 0, total: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ shop: owner, status: "PENDING" });
  });

  it("answers 404 when Stripe is not configured", async () => {
    const saved = process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_SECRET_KEY;
    try {
      const response = await stripeWebhook({
        request: new Request("https://app.example.test/webhooks/stripe", { method: "POST", body: "{}" }),
        params: {},
        context: {},
      });
      expect(response.status).toBe(404);
    } finally {
      process.env.STRIPE_SECRET_KEY = saved;
    }
  });
});

describe("shop/redact and Stripe", () => {
  it("erases the Stripe customer named after the shop and keeps its paid purchase under a pseudonym", async () => {
    const { shop, purchase } = await paidPurchase("starter");
    const customerId = (await db.shop.findUniqueOrThrow({ where: { domain: shop } })).stripeCustomerId!;
    expect(stripeEmulator.customers().map((c) => c.id)).toContain(customerId);
    await db.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });

    const redact = () =>
      webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_id: 1, shop_domain: shop } });
    expect(await deliverShopifyWebhook(shopRedact, redact())).toBe(200);

    expect(stripeEmulator.customers().map((c) => c.id)).not.toContain(customerId);
    expect(await stripe().customers.retrieve(customerId)).toMatchObject({ id: customerId, deleted: true });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({
      shop: redactedShopPseudonym(shop),
      status: "ACTIVE",
      amountCents: 999,
    });
    // Delivered again (another webhook id): the customer is already gone, which counts as done.
    expect(await deliverShopifyWebhook(shopRedact, redact())).toBe(200);
  });
});
