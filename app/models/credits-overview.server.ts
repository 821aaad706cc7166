import type { PrismaClient } from "@prisma/client";
import { getConfig } from "~/lib/config.server";
import { type Balance, getBalance, getDebt } from "./credit-ledger.server";
import { formatPrice, getCreditPacks } from "./packs.server";
import { type ActivityPage, creditActivity } from "./credit-history.server";
import { type PurchaseSummary, summarize } from "./purchases.server";
import { getShopifyBillingMode } from "./shopify-purchases.server";
import { type StripeConfig, getStripeConfig } from "./stripe.server";

export interface CreditsOverview {
  balance: Balance;
  /** Credits owed for refunded or disputed payments; new batches wait until it is paid. */
  owed: number;
  creditsPerImage: number;
  packs: Array<{
    id: string;
    name: string;
    credits: number;
    price: string;
    pricePerImage: string;
    priceCents: number;
    pricePerImageCents: number;
    currency: string;
  }>;
  shopifyBilling: { enabled: true; test: boolean } | { enabled: false; reason: string };
  stripe: { enabled: true } | { enabled: false; reason: string };
  history: ActivityPage;
  recentPurchases: PurchaseSummary[];
  /** The purchase the merchant just came back from, if named in the URL and theirs. */
  returnedPurchase: PurchaseSummary | null;
}

/** Everything the Credits page needs, in one call. */
export async function getCreditsOverview(
  db: PrismaClient,
  shop: string,
  opts: { cursor?: string; purchaseId?: string; creditsPerImage: number },
): Promise<CreditsOverview> {
  const config = getConfig();
  const stripeConfig: StripeConfig = getStripeConfig(config);
  const [balance, owed, page, recent, returned] = await Promise.all([
    getBalance(db, shop),
    getDebt(db, shop),
    creditActivity(db, shop, { cursor: opts.cursor, take: 20 }),
    db.purchase.findMany({ where: { shop }, orderBy: { createdAt: "desc" }, take: 10 }),
    opts.purchaseId && /^[0-9a-f-]{36}$/i.test(opts.purchaseId)
      ? db.purchase.findFirst({ where: { id: opts.purchaseId, shop } })
      : Promise.resolve(null),
  ]);
  return {
    balance,
    owed,
    creditsPerImage: opts.creditsPerImage,
    packs: getCreditPacks(config).map((pack) => {
      const pricePerImageCents = Math.round((pack.priceCents * opts.creditsPerImage) / pack.credits);
      return {
        id: pack.id,
        name: pack.name,
        credits: pack.credits,
        price: formatPrice(pack.priceCents, pack.currency),
        pricePerImage: formatPrice(pricePerImageCents, pack.currency),
        priceCents: pack.priceCents,
        pricePerImageCents,
        currency: pack.currency,
      };
    }),
    shopifyBilling: getShopifyBillingMode(config),
    stripe: stripeConfig.enabled ? { enabled: true } : { enabled: false, reason: stripeConfig.reason },
    history: page,
    recentPurchases: recent.map(summarize),
    returnedPurchase: returned ? summarize(returned) : null,
  };
}
