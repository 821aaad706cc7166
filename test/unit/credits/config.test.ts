import { describe, expect, it } from "vitest";
import { parseEnv } from "~/lib/config.server";
import { InsufficientCreditsError, sumEntries } from "~/models/credit-ledger.server";
import { DailySpendCapError } from "~/models/credit-reservations.server";
import { findCreditPackByChargeName, formatPrice, getCreditPacks, priceDecimal, shopifyChargeName } from "~/models/packs.server";
import { getShopifyBillingMode, shopifyPurchaseGid, shopifyReturnUrl } from "~/models/shopify-purchases.server";
import { getStripeConfig } from "~/models/stripe.server";
import { parseStripeForm } from "../../../emulators/stripe/form";

describe("credit packs", () => {
  it("offers Starter, Pro and Business at their list prices by default", () => {
    expect(getCreditPacks(parseEnv({})).map((p) => [p.id, p.credits, formatPrice(p.priceCents, p.currency)])).toEqual([
      ["starter", 30, "$9.99"],
      ["pro", 100, "$29.99"],
      ["business", 300, "$79.99"],
    ]);
  });

  it("takes a price change from CREDIT_PACKS and Stripe Price ids from STRIPE_PRICE_<ID>", () => {
    const packs = getCreditPacks(
      parseEnv({
        CREDIT_PACKS: JSON.stringify([{ id: "starter", name: "Starter", credits: 30, priceCents: 1099 }]),
        STRIPE_PRICE_STARTER: "price_123",
      }),
    );
    expect(packs).toEqual([{ id: "starter", name: "Starter", credits: 30, priceCents: 1099, currency: "USD", stripePriceId: "price_123" }]);
  });

  it("refuses a malformed CREDIT_PACKS with a message naming the problem", () => {
    expect(() => getCreditPacks(parseEnv({ CREDIT_PACKS: "not json" }))).toThrow(/CREDIT_PACKS must be a JSON array/);
    expect(() =>
      getCreditPacks(parseEnv({ CREDIT_PACKS: JSON.stringify([{ id: "x", name: "X", credits: -1, priceCents: 100 }]) })),
    ).toThrow(/credits/);
    expect(() =>
      getCreditPacks(
        parseEnv({
          CREDIT_PACKS: JSON.stringify([
            { id: "a", name: "A", credits: 1, priceCents: 100 },
            { id: "a", name: "B", credits: 2, priceCents: 200 },
          ]),
        }),
      ),
    ).toThrow(/same id/);
  });

  it("recognises its own Shopify charge names and formats prices for MoneyInput", () => {
    const [starter] = getCreditPacks(parseEnv({}));
    expect(findCreditPackByChargeName(shopifyChargeName(starter!), parseEnv({}))?.id).toBe("starter");
    expect(findCreditPackByChargeName("Something else", parseEnv({}))).toBeUndefined();
    expect(priceDecimal(999)).toBe("9.99");
    expect(priceDecimal(7999)).toBe("79.99");
  });
});

describe("payment configuration", () => {
  it("requires SHOPIFY_BILLING_TEST to be set explicitly", () => {
    expect(getShopifyBillingMode(parseEnv({ SHOPIFY_BILLING_TEST: "true" }))).toEqual({ enabled: true, test: true });
    expect(getShopifyBillingMode(parseEnv({ SHOPIFY_BILLING_TEST: "FALSE" }))).toEqual({ enabled: true, test: false });
    expect(getShopifyBillingMode(parseEnv({}))).toMatchObject({ enabled: false });
    expect(getShopifyBillingMode(parseEnv({ SHOPIFY_BILLING_TEST: "yes" }))).toMatchObject({ enabled: false });
  });

  it("turns Stripe on only with a secret key and reads the stand-in's URL", () => {
    expect(getStripeConfig(parseEnv({}))).toMatchObject({ enabled: false, reason: expect.stringMatching(/Stripe/) });
    const config = getStripeConfig(
      parseEnv({ STRIPE_SECRET_KEY: "sk_test_1", STRIPE_API_URL: "http://127.0.0.1:12111", STRIPE_WEBHOOK_SECRET: "whsec_1" }),
    );
    expect(config).toMatchObject({ enabled: true, webhookSecret: "whsec_1" });
    expect(config.enabled && config.apiUrl?.port).toBe("12111");
    expect(() => getStripeConfig(parseEnv({ STRIPE_SECRET_KEY: "sk", STRIPE_API_URL: "::" }))).toThrow(/STRIPE_API_URL/);
  });

  it("builds the return URL inside Shopify admin and accepts only numeric charge ids", () => {
    expect(shopifyReturnUrl("acme.myshopify.com", "key123")).toBe("https://admin.shopify.com/store/acme/apps/key123/app/credits/return");
    expect(shopifyPurchaseGid("1234")).toBe("gid://shopify/AppPurchaseOneTime/1234");
    expect(shopifyPurchaseGid("gid://shopify/AppPurchaseOneTime/55")).toBe("gid://shopify/AppPurchaseOneTime/55");
    expect(shopifyPurchaseGid("1 OR 1=1")).toBeNull();
    expect(shopifyPurchaseGid("gid://shopify/Product/1")).toBeNull();
  });
});

describe("ledger arithmetic", () => {
  it("sums entries into available, reserved and total", () => {
    expect(
      sumEntries([
        { availableDelta: 30, reservedDelta: 0 },
        { availableDelta: -3, reservedDelta: 3 },
        { availableDelta: 0, reservedDelta: -3 },
        { availableDelta: -3, reservedDelta: 3 },
        { availableDelta: 3, reservedDelta: -3 },
      ]),
    ).toEqual({ available: 27, reserved: 0, total: 27 });
  });

  it("explains a refusal in terms the merchant can act on", () => {
    expect(new InsufficientCreditsError(36, 30).message).toBe(
      "This batch needs 36 credits; you have 30. Buy a credit pack on the Credits page, or select fewer images.",
    );
    const capped = new DailySpendCapError(9, 100, 30, 24);
    expect(capped).toBeInstanceOf(InsufficientCreditsError);
    expect(capped.message).toMatch(/daily spending limit is 30 credits and 24 were already used today/);
  });
});

describe("Stripe stand-in form decoding", () => {
  it("decodes stripe-node's bracketed form encoding into nested objects and arrays", () => {
    const body =
      "mode=payment&metadata[shop]=a.myshopify.com&line_items[0][quantity]=1" +
      "&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=999" +
      "&line_items[0][price_data][product_data][name]=Starter%20pack&expand[0]=line_items";
    expect(parseStripeForm(body)).toEqual({
      mode: "payment",
      metadata: { shop: "a.myshopify.com" },
      line_items: [{ quantity: "1", price_data: { currency: "usd", unit_amount: "999", product_data: { name: "Starter pack" } } }],
      expand: ["line_items"],
    });
  });
});
