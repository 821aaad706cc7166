import type { SerializeFrom } from "@remix-run/node";
import type { CreditsPageData } from "../view-model.server";

/** The loader's data as the page receives it (dates as strings). */
export type CreditsView = SerializeFrom<CreditsPageData>;
export type PackView = CreditsView["packs"][number];
export type BatchSummary = NonNullable<CreditsView["history"]["lines"][number]["batch"]>;

const LEDGER_KINDS = ["GRANT", "WELCOME", "PURCHASE", "RESERVE", "CAPTURE", "RELEASE", "ADJUSTMENT"] as const;
type LedgerKind = (typeof LEDGER_KINDS)[number];
export const isLedgerKind = (kind: string): kind is LedgerKind => (LEDGER_KINDS as readonly string[]).includes(kind);

const UNPAID_STATUSES = ["DECLINED", "EXPIRED", "FAILED"] as const;
type UnpaidStatus = (typeof UNPAID_STATUSES)[number];
export const isUnpaid = (status: string): status is UnpaidStatus => (UNPAID_STATUSES as readonly string[]).includes(status);

/** Declined, expired or failed purchases of the last week not followed by a completed one. */
export function recentUnpaid(overview: CreditsView) {
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
  const lastPaid = overview.recentPurchases.find((p) => p.status === "ACTIVE");
  const lastPaidAt = lastPaid ? new Date(lastPaid.createdAt).getTime() : 0;
  return overview.recentPurchases.filter((p) => {
    const at = new Date(p.createdAt).getTime();
    return isUnpaid(p.status) && at > weekAgo && at > lastPaidAt;
  });
}

export function signed(value: number, format: (n: number) => string): string {
  return value > 0 ? `+${format(value)}` : format(value);
}

export function badgeTone(kind: string): "success" | "info" | "attention" | "critical" | undefined {
  if (kind === "PURCHASE" || kind === "WELCOME" || kind === "GRANT") return "success";
  if (kind === "RESERVE") return "attention";
  if (kind === "RELEASE") return "info";
  return undefined;
}
