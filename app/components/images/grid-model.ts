// Pure helpers shared by the Images page's loader and its components (no server-only imports).

export const IMAGE_FILTERS = ["all", "original", "processing", "processed", "review", "failed"] as const;
export type ImageFilter = (typeof IMAGE_FILTERS)[number];
export type ImageBadgeStatus = Exclude<ImageFilter, "all">;

/** What the grid shows for an image, from the state of its latest batch item (none = original). */
export function badgeStatusFor(state: string | null | undefined): ImageBadgeStatus {
  switch (state) {
    case "PUBLISHED":
      return "processed";
    case "NEEDS_REVIEW":
      return "review";
    case "FAILED":
      return "failed";
    case "QUEUED":
    case "PROCESSING":
      return "processing";
    default:
      // RESTORED, REJECTED, CANCELLED and never processed: the product shows its original image.
      return "original";
  }
}

/**
 * Shopify search syntax for "product title contains these words", from what a merchant typed.
 * Syntax characters are dropped so input can never change the query's meaning.
 */
export function productSearchQuery(text: string | null | undefined, productIds: string[] = []): string | null {
  const parts: string[] = [];
  const words = (text ?? "")
    .replace(/[^\p{L}\p{N}\s&'.-]/gu, " ")
    .split(/\s+/)
    .map((w) => w.replace(/^-+/, ""))
    .filter((w) => w.length > 0)
    .slice(0, 8);
  for (const word of words) parts.push(`title:*${word}*`);
  const ids = productIds.map((id) => /\/Product\/(\d+)$/.exec(id)?.[1] ?? (/^\d+$/.test(id) ? id : null)).filter(Boolean);
  if (ids.length > 0) parts.push(`(${ids.map((id) => `id:${id}`).join(" OR ")})`);
  return parts.length > 0 ? parts.join(" AND ") : null;
}

/** A small Shopify CDN rendition (image transforms by query parameter) for grid thumbnails. */
export function thumbnailUrl(url: string, width = 300): string {
  if (!url) return url;
  try {
    const parsed = new URL(url);
    parsed.searchParams.set("width", String(width));
    return parsed.toString();
  } catch {
    return url;
  }
}

export interface CostSummary {
  images: number;
  credits: number;
  available: number;
  /** Why submitting is not possible right now, or null. */
  blocked: "noSelection" | "short" | null;
  short: boolean;
}

/** 12 images x 3 credits = 36 credits against a balance of 90, and whether the balance covers it. */
export function costSummary(images: number, creditsPerImage: number, available: number): CostSummary {
  const credits = images * creditsPerImage;
  const short = credits > available;
  const blocked = images === 0 ? "noSelection" : short ? "short" : null;
  return { images, credits, available, blocked, short };
}

/** Cursor history for "Previous" (Shopify's cursors only go forward from where we started). */
export function nextPageParams(current: URLSearchParams, endCursor: string): URLSearchParams {
  const next = new URLSearchParams(current);
  const stack = current.get("prev") ? current.get("prev")!.split(",") : [];
  stack.push(current.get("after") ?? "");
  next.set("prev", stack.join(","));
  next.set("after", endCursor);
  return next;
}

export function previousPageParams(current: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(current);
  const stack = current.get("prev") ? current.get("prev")!.split(",") : [];
  const after = stack.pop() ?? "";
  if (after) next.set("after", after);
  else next.delete("after");
  if (stack.length > 0) next.set("prev", stack.join(","));
  else next.delete("prev");
  return next;
}

export function hasPreviousPage(current: URLSearchParams): boolean {
  return current.has("prev") || Boolean(current.get("after"));
}
