import { createHmac, timingSafeEqual } from "node:crypto";
import type { UserErrorOut } from "./files";
import type { EmulatorStore, PurchaseRecord, PurchaseStatus, ShopState } from "./store";

const MINIMUM_CHARGE = 0.5;

export interface PurchaseEvent {
  purchase: PurchaseRecord;
}

/**
 * One-time app purchases: appPurchaseOneTimeCreate, the merchant's confirmation page, and status
 * changes that notify the app through `app_purchases_one_time/update`.
 */
export class BillingService {
  constructor(
    private readonly store: EmulatorStore,
    private readonly apiKey: string,
    private readonly signingSecret: string,
    private readonly onStatusChange: (purchase: PurchaseRecord) => Promise<void>,
  ) {}

  create(
    shop: ShopState,
    input: { name: string; price: { amount: unknown; currencyCode: string }; returnUrl: string; test?: boolean | null },
  ): { purchase: PurchaseRecord | null; confirmationUrl: string | null; userErrors: UserErrorOut[] } {
    const userErrors: UserErrorOut[] = [];
    const amount = Number(input.price.amount);
    if (!input.name.trim()) userErrors.push({ field: ["name"], message: "Name can't be blank" });
    if (!Number.isFinite(amount) || amount < MINIMUM_CHARGE) {
      userErrors.push({ field: ["price"], message: `Price must be at least ${MINIMUM_CHARGE.toFixed(2)} USD` });
    }
    if (input.price.currencyCode !== "USD") {
      userErrors.push({ field: ["price", "currencyCode"], message: "Currency code must match the shop's billing currency (USD)" });
    }
    if (!/^https?:\/\//i.test(input.returnUrl)) userErrors.push({ field: ["returnUrl"], message: "Return url is invalid" });
    if (userErrors.length) return { purchase: null, confirmationUrl: null, userErrors };
    const numericId = this.store.newId();
    const now = new Date();
    const purchase: PurchaseRecord = {
      id: `gid://shopify/AppPurchaseOneTime/${numericId}`,
      numericId,
      shop: shop.domain,
      name: input.name,
      price: { amount: formatDecimal(amount), currencyCode: input.price.currencyCode },
      returnUrl: input.returnUrl,
      test: input.test ?? false,
      status: "PENDING",
      createdAt: now,
      updatedAt: now,
    };
    shop.purchases.push(purchase);
    return { purchase, confirmationUrl: this.confirmationUrl(purchase), userErrors: [] };
  }

  confirmationUrl(purchase: PurchaseRecord): string {
    return `${this.store.baseUrl}/admin/charges/${encodeURIComponent(this.apiKey)}/${purchase.numericId}/ApplicationCharge/confirm_application_charge?signature=${this.sign(purchase.numericId)}`;
  }

  /** The purchase a confirmation link names, if its signature is ours. */
  purchaseForConfirmation(numericId: number, signature: string | null): PurchaseRecord | undefined {
    if (!signature) return undefined;
    const expected = Buffer.from(this.sign(numericId));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    return this.find(numericId);
  }

  find(numericId: number): PurchaseRecord | undefined {
    for (const shop of this.store.shops.values()) {
      const purchase = shop.purchases.find((p) => p.numericId === numericId);
      if (purchase) return purchase;
    }
    return undefined;
  }

  findInShop(shop: string, id: string): PurchaseRecord {
    const purchase = this.store.shop(shop).purchases.find((p) => p.id === id || String(p.numericId) === id);
    if (!purchase) throw new Error(`no one-time purchase ${id} in ${shop}`);
    return purchase;
  }

  /** Moves a PENDING purchase to `status` and tells the app. A decided purchase stays as it is. */
  async decide(purchase: PurchaseRecord, status: Extract<PurchaseStatus, "ACTIVE" | "DECLINED" | "EXPIRED">): Promise<boolean> {
    if (purchase.status !== "PENDING") return false;
    purchase.status = status;
    purchase.updatedAt = new Date();
    await this.onStatusChange(purchase);
    return true;
  }

  /** returnUrl with `charge_id=<numeric id>` appended, as Shopify redirects after the merchant decides. */
  returnUrlFor(purchase: PurchaseRecord): string {
    const url = new URL(purchase.returnUrl);
    url.searchParams.set("charge_id", String(purchase.numericId));
    return url.toString();
  }

  private sign(numericId: number): string {
    return createHmac("sha256", this.signingSecret).update(`charge:${numericId}`).digest("hex").slice(0, 32);
  }
}

export function purchaseWebhookPayload(purchase: PurchaseRecord, shop: ShopState): unknown {
  return {
    app_purchase_one_time: {
      admin_graphql_api_id: purchase.id,
      name: purchase.name,
      status: purchase.status,
      admin_graphql_api_shop_id: `gid://shopify/Shop/${shop.numericId}`,
      created_at: purchase.createdAt.toISOString(),
      updated_at: purchase.updatedAt.toISOString(),
    },
  };
}

/** Shopify's Decimal rendering: at least one fractional digit ("10.0", "9.99"). */
function formatDecimal(amount: number): string {
  const text = String(Math.round(amount * 100) / 100);
  return text.includes(".") ? text : `${text}.0`;
}

export function confirmationPage(purchase: PurchaseRecord, shopName: string, actionUrl: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const decided = purchase.status !== "PENDING";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Approve charge - ${esc(shopName)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}.card{border:1px solid #ddd;border-radius:12px;padding:1.5rem}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #999;margin-right:.5rem;cursor:pointer}button[value=approve]{background:#008060;color:#fff;border-color:#008060}</style>
</head><body><div class="card">
<h1>Approve one-time charge</h1>
<p><strong data-testid="charge-name">${esc(purchase.name)}</strong></p>
<p>Price: <span data-testid="charge-price">${esc(purchase.price.amount)} ${esc(purchase.price.currencyCode)}</span>${purchase.test ? " (test charge: you will not be billed)" : ""}</p>
<p>Status: <span data-testid="charge-status">${purchase.status}</span></p>
${
  decided
    ? `<p>This charge was already ${purchase.status.toLowerCase()}.</p>`
    : `<form method="post" action="${esc(actionUrl)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="decline">Decline</button>
</form>`
}
</div></body></html>`;
}
