import { creditPackSchema, getConfig, type Config, type CreditPackInput } from "~/lib/config.server";

/**
 * Credit packs sold as one-time purchases. A price change is one edit: DEFAULT_PACKS below, or the
 * CREDIT_PACKS env var (JSON array of { id, name, credits, priceCents, currency? }).
 * Stripe can charge a configured Price per pack (STRIPE_PRICE_<ID>, e.g. STRIPE_PRICE_STARTER) or inline price data.
 */
export interface CreditPack {
  id: string;
  name: string;
  credits: number;
  priceCents: number;
  currency: string;
  /** Stripe Price id when configured; otherwise Checkout gets inline price data. */
  stripePriceId: string | null;
}

const DEFAULT_PACKS: ReadonlyArray<CreditPackInput> = [
  { id: "starter", name: "Starter", credits: 30, priceCents: 999 },
  { id: "pro", name: "Pro", credits: 100, priceCents: 2999 },
  { id: "business", name: "Business", credits: 300, priceCents: 7999 },
];
const defaultPacks = DEFAULT_PACKS.map((pack) => creditPackSchema.parse(pack));

export function getCreditPacks(config: Config = getConfig()): CreditPack[] {
  const packs = config.CREDIT_PACKS ?? defaultPacks;
  return packs.map((pack) => ({
    ...pack,
    currency: pack.currency.toUpperCase(),
    stripePriceId: config.stripePriceIds[pack.id.toUpperCase().replace(/-/g, "_")] ?? null,
  }));
}

export function findCreditPack(packId: string, config: Config = getConfig()): CreditPack | undefined {
  return getCreditPacks(config).find((pack) => pack.id === packId);
}

/** Pack for a Shopify one-time purchase name (webhooks carry only the name we gave the charge). */
export function findCreditPackByChargeName(name: string, config: Config = getConfig()): CreditPack | undefined {
  return getCreditPacks(config).find((pack) => shopifyChargeName(pack) === name);
}

export function shopifyChargeName(pack: CreditPack): string {
  return `${pack.name} pack: ${pack.credits} image credits`;
}

/** "9.99" — the decimal string Shopify's MoneyInput and display want. */
export function priceDecimal(priceCents: number): string {
  return (priceCents / 100).toFixed(2);
}

export function formatPrice(priceCents: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(priceCents / 100);
}

/** The pack's name as merchants see it (the id when the pack is no longer sold). */
export function packLabel(packId: string): string {
  return findCreditPack(packId)?.name ?? packId;
}
