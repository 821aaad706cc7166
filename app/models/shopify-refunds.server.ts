import type { PrismaClient } from "@prisma/client";
import { getConfig, type Config } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { applyReversal, withLockedPurchase, type ReversalOutcome } from "./purchase-reversals.server";

/**
 * Refunds of Shopify app charges. Shopify sends an app no webhook when a one-time charge is refunded (the developer
 * refunds it from the Partner Dashboard), so the worker reads the Partner API's AppSaleAdjustment transactions for the
 * app and applies each once (a PurchaseRefund row per transaction): the charge's refunded total takes back its share of
 * the pack's credits, exactly like a Stripe refund (purchase-reversals.server.ts). Off unless the Partner API is
 * configured (SHOPIFY_PARTNER_ORG_ID, SHOPIFY_PARTNER_API_TOKEN, SHOPIFY_PARTNER_APP_ID).
 */

const PARTNER_API_VERSION = "2026-07";

export interface PartnerApiConfig {
  /** The organization's GraphQL endpoint. */
  endpoint: string;
  accessToken: string;
  /** gid://partners/App/<id> */
  appId: string;
}

export function partnerApiConfigFromEnv(config: Config = getConfig()): PartnerApiConfig | null {
  const { SHOPIFY_PARTNER_ORG_ID: organizationId, SHOPIFY_PARTNER_API_TOKEN: accessToken, SHOPIFY_PARTNER_APP_ID: appId } = config;
  if (!organizationId || !accessToken || !appId) return null;
  const base = config.SHOPIFY_PARTNER_API_URL.replace(/\/+$/, "");
  return {
    endpoint: `${base}/${encodeURIComponent(organizationId)}/api/${PARTNER_API_VERSION}/graphql.json`,
    accessToken,
    appId: /^gid:\/\//.test(appId) ? appId : `gid://partners/App/${appId}`,
  };
}

// Partner API, not Admin: not tagged #graphql (the Admin documents' test and codegen read those). The Partner stand-in
// validates it against the Partner API's types whenever the tests run it.
const ADJUSTMENTS = `
  query AppChargeAdjustments($appId: ID!, $createdAtMin: DateTime!, $after: String) {
    transactions(appId: $appId, types: [APP_SALE_ADJUSTMENT], createdAtMin: $createdAtMin, first: 100, after: $after) {
      edges {
        cursor
        node {
          id
          createdAt
          ... on AppSaleAdjustment {
            chargeId
            grossAmount { amount currencyCode }
          }
        }
      }
      pageInfo { hasNextPage }
    }
  }
`;

interface AdjustmentNode {
  id: string;
  createdAt: string;
  chargeId?: string | null;
  grossAmount?: { amount: string; currencyCode: string } | null;
}

export class PartnerApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PartnerApiError";
  }
}

/** How far back each pass reads: refunds are applied once whatever the overlap, and a week covers any outage. */
const LOOKBACK_MS = 7 * 24 * 3600_000;
const MAX_PAGES = 50;

export interface RefundReconciliation {
  seen: number;
  applied: number;
  unmatched: number;
}

/** One pass: reads the app's adjustments of the last week and applies those not applied yet. */
export async function reconcileShopifyRefunds(
  db: PrismaClient,
  config: PartnerApiConfig,
  opts: { now?: Date; fetchImpl?: typeof fetch } = {},
): Promise<RefundReconciliation> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const createdAtMin = new Date((opts.now ?? new Date()).getTime() - LOOKBACK_MS).toISOString();
  const result: RefundReconciliation = { seen: 0, applied: 0, unmatched: 0 };
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await fetchImpl(config.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": config.accessToken },
      body: JSON.stringify({ query: ADJUSTMENTS, variables: { appId: config.appId, createdAtMin, after } }),
    });
    if (!response.ok) throw new PartnerApiError(`Partner API answered HTTP ${response.status}`);
    const body = (await response.json()) as {
      data?: { transactions: { edges: Array<{ cursor: string; node: AdjustmentNode }>; pageInfo: { hasNextPage: boolean } } };
      errors?: Array<{ message: string }>;
    };
    if (body.errors?.length || !body.data)
      throw new PartnerApiError(`Partner API: ${body.errors?.map((e) => e.message).join("; ") ?? "no data"}`);
    const { edges, pageInfo } = body.data.transactions;
    for (const { node } of edges) {
      result.seen++;
      const outcome = await applyShopifyRefund(db, node);
      if (outcome === "unmatched") result.unmatched++;
      else if (outcome === "reversed") result.applied++;
    }
    if (!pageInfo.hasNextPage || edges.length === 0) break;
    after = edges.at(-1)!.cursor;
  }
  return result;
}

async function applyShopifyRefund(db: PrismaClient, node: AdjustmentNode): Promise<ReversalOutcome | "unmatched"> {
  if (!node.chargeId || !node.grossAmount) return "ignored";
  const cents = Math.round(Math.abs(Number(node.grossAmount.amount)) * 100);
  if (!Number.isFinite(cents) || cents === 0) return "ignored";
  const outcome = await withLockedPurchase(db, { externalId: node.chargeId }, async (tx, purchase) => {
    if (purchase.provider !== "SHOPIFY") return "ignored" as const;
    if (node.grossAmount!.currencyCode.toUpperCase() !== purchase.currency.toUpperCase()) {
      logger.error(
        { purchaseId: purchase.id, adjustment: node.id, currency: node.grossAmount!.currencyCode },
        "app charge refund in another currency: adjust by hand",
      );
      return "ignored" as const;
    }
    const inserted = await tx.purchaseRefund.createMany({
      data: [{ id: node.id, purchaseId: purchase.id, amountCents: cents }],
      skipDuplicates: true,
    });
    if (inserted.count === 0) return "already-reversed" as const;
    const refunded = await tx.purchaseRefund.aggregate({ where: { purchaseId: purchase.id }, _sum: { amountCents: true } });
    return applyReversal(tx, purchase, {
      change: { refunded: { amount: refunded._sum.amountCents ?? 0, of: null } },
      why: "refunded",
      eventKey: node.id,
    });
  });
  if (outcome === null) {
    logger.warn({ adjustment: node.id, chargeId: node.chargeId }, "app charge refund for a purchase this app did not record");
    return "unmatched";
  }
  return outcome;
}
