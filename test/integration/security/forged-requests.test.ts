/**
 * Forged and malformed requests against the app's webhooks and authenticated endpoints: each one
 * gets the right status and changes nothing a merchant could notice (sessions, shop state, batches,
 * credits, purchases, webhook records).
 */
import { randomUUID } from "node:crypto";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import db from "~/db.server";
import { parseEnv } from "~/lib/config.server";
import { fetchImage, fetchPolicyFromEnv } from "~/lib/safe-fetch.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { hashShop } from "~/models/lifecycle.server";
import { createStripeCheckout } from "~/models/stripe-purchases.server";
import { createStripeClient } from "~/models/stripe.server";
import { closeQueues, getQueue } from "~/queue/queue.server";
import { action as apiBatchesAction, loader as apiBatchesLoader } from "~/routes/api.batches";
import { action as creditsAction } from "~/routes/app.credits/route";
import { action as settingsAction } from "~/routes/app.settings/route";
import { action as uninstalled } from "~/routes/webhooks.app.uninstalled";
import { action as customersRedact } from "~/routes/webhooks.customers.redact";
import { action as shopRedact } from "~/routes/webhooks.shop.redact";
import { action as stripeWebhook } from "~/routes/webhooks.stripe";
import { startStripeEmulator, type StripeEmulator } from "../../../emulators/stripe/server";
import { API_KEY, API_SECRET, installShop, shopifyStandInForFile } from "../batches/shop-setup";
import { deliver, webhookRequest } from "../lifecycle/helpers";
import { uniqueShopDomain } from "../../factories";

const shopify = shopifyStandInForFile();
let stripe: StripeEmulator;
let shop: string;
let mediaIds: string[];
const queueName = `test-${randomUUID()}`;

beforeAll(async () => {
  process.env.QUEUE_NAME = queueName;
  stripe = await startStripeEmulator({ secretKey: "sk_test_forged_suite", webhookSecret: "whsec_forged_suite", prices: {} });
  process.env.STRIPE_SECRET_KEY = stripe.secretKey;
  process.env.STRIPE_WEBHOOK_SECRET = stripe.webhookSecret;
  process.env.STRIPE_API_URL = stripe.url;
  shop = uniqueShopDomain();
  shopify.addShop(shop, { products: 2, imagesPerProduct: 2 });
  await installShop(db, shopify, shop);
  await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
  mediaIds = shopify.products(shop).flatMap((p) => p.media.map((m) => m.id));
});
afterAll(async () => {
  await getQueue(queueName).obliterate({ force: true });
  await closeQueues();
  await stripe.close();
});

/** Everything a forged request could have changed for the shop. */
async function snapshot(target = shop) {
  const [sessions, shopRow, batches, items, entries, purchases, webhooks, compliance, balance, jobs] = await Promise.all([
    db.session.findMany({ where: { shop: target }, select: { id: true, scope: true, accessToken: true } }),
    db.shop.findUnique({ where: { domain: target } }),
    db.batch.count({ where: { shop: target } }),
    db.batchItem.count({ where: { shop: target } }),
    db.creditEntry.count({ where: { shop: target } }),
    db.purchase.findMany({ where: { shop: target }, select: { id: true, status: true, grantedAt: true } }),
    db.webhookEvent.count({ where: { shop: target } }),
    db.complianceRecord.count({ where: { shopHash: hashShop(target) } }),
    getBalance(db, target),
    getQueue(queueName).getJobCountByTypes("waiting", "delayed", "prioritized"),
  ]);
  return { sessions, shopRow, batches, items, entries, purchases, webhooks, compliance, balance, jobs };
}

type RouteFn = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<unknown>;

async function token(overrides: Record<string, unknown> = {}, secret = API_SECRET, forShop = shop): Promise<string> {
  // getJwt takes the store name and appends .myshopify.com itself.
  return (await getJwt(forShop.replace(/\.myshopify\.com$/, ""), API_KEY, secret, overrides)).token;
}

function appRequest(path: string, init: { method?: string; bearer?: string | null; body?: BodyInit; contentType?: string } = {}): Request {
  const headers = new Headers();
  if (init.bearer) headers.set("Authorization", `Bearer ${init.bearer}`);
  if (init.contentType) headers.set("Content-Type", init.contentType);
  return new Request(new URL(path, process.env.SHOPIFY_APP_URL), { method: init.method ?? "GET", headers, body: init.body });
}

async function json(path: string, body: unknown, bearer?: string): Promise<Request> {
  return appRequest(path, {
    method: "POST",
    bearer: bearer ?? (await token()),
    body: typeof body === "string" ? body : JSON.stringify(body),
    contentType: "application/json",
  });
}

async function form(path: string, fields: Record<string, string>): Promise<Request> {
  return appRequest(path, { method: "POST", bearer: await token(), body: new URLSearchParams(fields) });
}

const signed = (overrides: Partial<Parameters<typeof webhookRequest>[1]> = {}) =>
  webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: { domain: shop }, ...overrides });

const now = () => Math.floor(Date.now() / 1000);

interface ForgedCase {
  name: string;
  route: RouteFn;
  request: () => Request | Promise<Request>;
  status: number | number[];
}

const cases: ForgedCase[] = [
  { name: "webhook signed with another secret", route: uninstalled, request: () => signed({ secret: "not-the-app-secret" }), status: 401 },
  {
    name: "webhook without an HMAC header",
    route: uninstalled,
    request: () => signed({ headers: { "X-Shopify-Hmac-Sha256": null } }),
    status: 401,
  },
  {
    name: "webhook with a garbage HMAC",
    route: uninstalled,
    request: () => signed({ headers: { "X-Shopify-Hmac-Sha256": "bm90LWEtbWFj" } }),
    status: 401,
  },
  {
    name: "webhook whose body was changed after signing",
    route: uninstalled,
    request: async () => {
      const original = signed();
      return new Request(original.url, {
        method: "POST",
        headers: original.headers,
        body: JSON.stringify({ domain: "other.myshopify.com" }),
      });
    },
    status: 401,
  },
  {
    name: "webhook without the shop header",
    route: uninstalled,
    request: () => signed({ headers: { "X-Shopify-Shop-Domain": null } }),
    status: 400,
  },
  {
    name: "webhook without the topic header",
    route: uninstalled,
    request: () => signed({ headers: { "X-Shopify-Topic": null } }),
    status: 400,
  },
  {
    name: "webhook without a webhook id",
    route: uninstalled,
    request: () => signed({ headers: { "X-Shopify-Webhook-Id": null } }),
    status: 400,
  },
  {
    name: "validly signed webhook with the wrong topic for the route",
    route: uninstalled,
    request: () => signed({ topic: "products/update" }),
    status: 400,
  },
  {
    name: "validly signed webhook whose body is not JSON",
    route: uninstalled,
    request: () => signed({ rawBody: "domain=shop&<xml/>" }),
    status: 400,
  },
  {
    name: "10 MB webhook body",
    route: uninstalled,
    request: () => signed({ rawBody: JSON.stringify({ pad: "x".repeat(10 * 1024 * 1024) }) }),
    status: 413,
  },
  { name: "webhook sent with GET", route: uninstalled, request: () => signed({ method: "GET" }), status: 405 },
  {
    name: "validly signed webhook for a shop domain that is not a myshopify.com store",
    route: uninstalled,
    request: () => signed({ shop: "evil.example.com", headers: { "X-Shopify-Shop-Domain": "evil.example.com" } }),
    status: 400,
  },
  {
    name: "shop/redact with a bad HMAC",
    route: shopRedact,
    request: () =>
      webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_domain: shop }, secret: "forged" }),
    status: 401,
  },
  {
    name: "shop/redact whose body names another shop than the signed header",
    route: shopRedact,
    request: () =>
      webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop: uniqueShopDomain(), payload: { shop_domain: shop } }),
    status: 400,
  },
  {
    name: "customers/redact with a bad HMAC",
    route: customersRedact,
    request: () =>
      webhookRequest("/webhooks/customers/redact", { topic: "customers/redact", shop, payload: { shop_domain: shop }, secret: "forged" }),
    status: 401,
  },
  {
    name: "Stripe event signed with the wrong secret",
    route: stripeWebhook,
    request: async () => {
      const { sessionId } = await stripeCheckout();
      return stripe.buildWebhookRequest("checkout.session.completed", sessionId, {
        url: `${process.env.SHOPIFY_APP_URL}/webhooks/stripe`,
        secret: "whsec_forged",
      });
    },
    status: 400,
  },
  {
    name: "Stripe event without a signature header",
    route: stripeWebhook,
    request: async () => {
      const { sessionId } = await stripeCheckout();
      const real = stripe.buildWebhookRequest("checkout.session.completed", sessionId, {
        url: `${process.env.SHOPIFY_APP_URL}/webhooks/stripe`,
      });
      const headers = new Headers(real.headers);
      headers.delete("stripe-signature");
      return new Request(real.url, { method: "POST", headers, body: await real.text() });
    },
    status: 400,
  },
  {
    name: "Stripe event replayed with a signature from an hour ago",
    route: stripeWebhook,
    request: async () => {
      const { sessionId } = await stripeCheckout();
      return stripe.buildWebhookRequest("checkout.session.completed", sessionId, {
        url: `${process.env.SHOPIFY_APP_URL}/webhooks/stripe`,
        timestamp: now() - 3600,
      });
    },
    status: 400,
  },
  {
    name: "batch request without a session token",
    route: apiBatchesAction,
    request: () => appRequest("/api/batches", { method: "POST", body: "{}" }),
    status: [401, 302],
  },
  {
    name: "batch request with an expired session token",
    route: apiBatchesAction,
    request: async () =>
      json("/api/batches", { mediaIds, pipeline: "amazon" }, await token({ exp: now() - 60, nbf: now() - 120, iat: now() - 120 })),
    status: 401,
  },
  {
    name: "batch request with a session token for another app (wrong audience)",
    route: apiBatchesAction,
    request: async () => json("/api/batches", { mediaIds, pipeline: "amazon" }, await token({ aud: "some-other-app" })),
    status: 401,
  },
  {
    name: "batch request with a session token signed by someone else",
    route: apiBatchesAction,
    request: async () => json("/api/batches", { mediaIds, pipeline: "amazon" }, await token({}, "attacker-secret")),
    status: 401,
  },
  {
    name: "batch request with a session token that is not valid yet",
    route: apiBatchesAction,
    request: async () =>
      json("/api/batches", { mediaIds, pipeline: "amazon" }, await token({ nbf: now() + 600, iat: now() + 600, exp: now() + 1200 })),
    status: 401,
  },
  {
    name: "oversized batch (more images than one batch may hold)",
    route: apiBatchesAction,
    request: () =>
      json("/api/batches", { mediaIds: Array.from({ length: 1001 }, (_, i) => `gid://shopify/MediaImage/${i + 1}`), pipeline: "amazon" }),
    status: 422,
  },
  { name: "unknown pipeline", route: apiBatchesAction, request: () => json("/api/batches", { mediaIds, pipeline: "etsy" }), status: 400 },
  {
    name: "SQL in the pipeline field",
    route: apiBatchesAction,
    request: () => json("/api/batches", { mediaIds, pipeline: `amazon'; DROP TABLE "Batch"; --` }),
    status: 400,
  },
  {
    name: "HTML and script in an id field",
    route: apiBatchesAction,
    request: () => json("/api/batches", { mediaIds: ['<img src=x onerror="alert(1)">'], pipeline: "amazon" }),
    status: 422,
  },
  {
    name: "a count where a list of ids belongs",
    route: apiBatchesAction,
    request: () => json("/api/batches", { mediaIds: -5, pipeline: "amazon" }),
    status: 422,
  },
  {
    name: "batch body that is not JSON",
    route: apiBatchesAction,
    request: () => json("/api/batches", "pipeline=amazon&mediaIds=1"),
    status: 422,
  },
  {
    name: "unknown credit pack",
    route: creditsAction,
    request: () => form("/app/credits", { intent: "buy-shopify", packId: "mega-free" }),
    status: 400,
  },
  {
    name: "negative credit pack",
    route: creditsAction,
    request: () => form("/app/credits", { intent: "buy-stripe", packId: "-100" }),
    status: 400,
  },
  {
    name: "unknown way to pay",
    route: creditsAction,
    request: () => form("/app/credits", { intent: "free-credits", packId: "starter" }),
    status: 400,
  },
  {
    name: "negative daily spend cap",
    route: settingsAction,
    request: () => form("/app/settings", settingsForm({ dailySpendCap: "-30" })),
    status: 422,
  },
  {
    name: "huge daily spend cap",
    route: settingsAction,
    request: () => form("/app/settings", settingsForm({ dailySpendCap: "99999999999999999999" })),
    status: 422,
  },
  {
    name: "HTML in the background colour",
    route: settingsAction,
    request: () => form("/app/settings", settingsForm({ backgroundColor: '"><script>alert(1)</script>' })),
    status: 422,
  },
];

function settingsForm(overrides: Record<string, string>): Record<string, string> {
  return {
    defaultPipeline: "amazon",
    reviewBeforePublish: "false",
    backgroundColor: "#FFFFFF",
    outputSizePreset: "standard",
    dailySpendCap: "",
    ...overrides,
  };
}

async function stripeCheckout() {
  const { purchaseId } = await createStripeCheckout({ db, stripe: createStripeClient(stripe.secretKey, new URL(stripe.url)) }, shop, {
    packId: "starter",
    successUrl: "https://admin.shopify.com/store/x/apps/key/app/credits/return?session_id={CHECKOUT_SESSION_ID}",
    cancelUrl: "https://admin.shopify.com/store/x/apps/key/app/credits",
  });
  return { sessionId: (await db.purchase.findUniqueOrThrow({ where: { id: purchaseId } })).externalId };
}

describe("forged and malformed requests", () => {
  it("has at least 20 kinds", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const forged of cases) {
    it(`answers ${forged.status} and changes nothing: ${forged.name}`, async () => {
      const request = await forged.request(); // may set up a pending purchase, which is part of "before"
      const before = await snapshot();
      const status = await deliver(forged.route, request);
      if (Array.isArray(forged.status)) expect(forged.status).toContain(status);
      else expect(status).toBe(forged.status);
      expect(await snapshot()).toEqual(before);
    });
  }

  it("never fetches a source URL that is on another host or a private address", async () => {
    const production = fetchPolicyFromEnv({ shop, config: parseEnv({ NODE_ENV: "production" }) });
    for (const url of [
      "https://evil.example.com/a.jpg",
      "http://169.254.169.254/latest/meta-data/",
      "https://10.0.0.5/a.jpg",
      "https://127.0.0.1/a.jpg",
    ]) {
      await expect(fetchImage(url, production)).rejects.toMatchObject({ name: "UnsafeFetchError", permanent: true });
    }
  });

  it("ignores a source URL smuggled into a batch request: items always use the image Shopify reports", async () => {
    const request = await json("/api/batches", {
      mediaIds: mediaIds.slice(0, 1),
      pipeline: "amazon",
      sourceUrl: "http://169.254.169.254/",
      url: "https://evil.example.com/x.jpg",
    });
    expect(await deliver(apiBatchesAction, request)).toBe(201);
    const items = await db.batchItem.findMany({ where: { shop }, select: { sourceUrl: true } });
    expect(items.length).toBe(1);
    expect(items[0]?.sourceUrl).not.toMatch(/169\.254|evil\.example/);
    const expected = shopify
      .products(shop)
      .flatMap((p) => p.media)
      .find((m) => m.id === mediaIds[0]);
    expect(items[0]?.sourceUrl).toBe(expected?.url);
  });

  it("still answers a well-formed request from the shop (the cases above were refused for their flaw, not by accident)", async () => {
    const response = await deliver(apiBatchesLoader, appRequest(`/api/batches?id=${randomUUID()}`, { bearer: await token() }));
    expect(response).toBe(404);
  });
});
