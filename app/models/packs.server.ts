import { z } from "zod";

/**
 * Credit packs sold as one-time purchases. A price change is one edit: DEFAULT_PACKS below, or the
 * CREDIT_PACKS env var (JSON array of { id, name, credits, priceCents, currency? }).
 * Stripe can charge a configured Price per pack (STRIPE_PRICE_<ID>, e.g. STRIPE_PRICE_STARTER) or inline price data.
 */
/** Configuration source (process.env by default; tests pass their own). */
export type Env = Record<string, string | undefined>;

export interface CreditPack {
  id: string;
  name: string;
  credits: number;
  priceCents: number;
  currency: string;
  /** Stripe Price id when configured; otherwise Checkout gets inline price data. */
  stripePriceId: string | null;
}

const packSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "pack ids are lower-case words"),
  name: z.string().min(1).max(60),
  credits: z.number().int().positive(),
  priceCents: z.number().int().positive(),
  currency: z.string().length(3).default("USD"),
});

export const DEFAULT_PACKS: ReadonlyArray<z.input<typeof packSchema>> = [
  { id: "starter", name: "Starter", credits: 30, priceCents: 999 },
  { id: "pro", name: "Pro", credits: 100, priceCents: 2999 },
  { id: "business", name: "Business", credits: 300, priceCents: 7999 },
];

export function getCreditPacks(env: Env = process.env): CreditPack[] {
  let raw: unknown = DEFAULT_PACKS;
  if (env.CREDIT_PACKS?.trim()) {
    try {
      raw = JSON.parse(env.CREDIT_PACKS);
    } catch {
      throw new Error("CREDIT_PACKS must be a JSON array of { id, name, credits, priceCents, currency? }");
    }
  }
  const parsed = z.array(packSchema).min(1).safeParse(raw);
  if (!parsed.success) throw new Error(`CREDIT_PACKS is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const ids = new Set(parsed.data.map((p) => p.id));
  if (ids.size !== parsed.data.length) throw new Error("CREDIT_PACKS has two packs with the same id");
  return parsed.data.map((pack) => ({
    ...pack,
    currency: pack.currency.toUpperCase(),
    stripePriceId: env[`STRIPE_PRICE_${pack.id.toUpperCase().replace(/-/g, "_")}`]?.trim() || null,
  }));
}

export function findCreditPack(packId: string, env: Env = process.env): CreditPack | undefined {
  return getCreditPacks(env).find((pack) => pack.id === packId);
}

/** Pack for a Shopify one-time purchase name (webhooks carry only the name we gave the charge). */
export function findCreditPackByChargeName(name: string, env: Env = process.env): CreditPack | undefined {
  return getCreditPacks(env).find((pack) => shopifyChargeName(pack) === name);
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
