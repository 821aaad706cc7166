/**
 * Every merchant-facing string of the batch gallery, in one table. The view-model (gallery-model.ts) returns
 * `{ key, params }` messages and the components render them with `formatMessage`, so translating the gallery is
 * adding a table with the same keys.
 */

export const GALLERY_MESSAGES_EN = {
  "market.amazon": "Amazon",
  "market.ebay": "eBay",
  "market.instagram": "Instagram",
  "market.other": "the pipeline",

  "verdict.meetsEveryRule": "Meets every {market} rule",
  "verdict.meetsEveryRuleHeld": "Meets every {market} rule; waiting for your review",
  "verdict.heldAltered": "Held for review: the product may have been altered",
  "verdict.heldCutOff": "Held for review: the original shows only part of the product",
  "verdict.heldRule": "Held for review: {rule}",
  "verdict.heldRuleMore": "Held for review: {rule} (and {count} more)",
  "verdict.publishedDespite": "Published by you, though: {rule}",
  "verdict.published": "Published",
  "verdict.failed": "Failed: {reason}",
  "verdict.failedNoReason": "Failed. Try again, or contact support if it keeps failing.",
  "verdict.cancelled": "Cancelled: {reason}",
  "verdict.cancelledNoReason": "Cancelled before it was edited",
  "verdict.rejected": "Rejected: the product keeps its original image",
  "verdict.restored": "Original image restored",
  "verdict.restoring": "Putting the original image back…",
  "verdict.queued": "Waiting for its turn",
  "verdict.processing": "Being edited…",
  "verdict.superseded": "Another version is on the product",

  "rule.backgroundWhite": "Background is not pure white",
  "rule.backgroundCleanWhite": "Background is not clean white",
  "rule.backgroundColour": "Background is not an even {hex}",
  "rule.coverageLow": "Product fills {measured}% of the frame; {market} needs about {needed}%",
  "rule.coverageHigh": "Product fills {measured}% of the frame; {market} needs at most {needed}%",
  "rule.coverage": "Product does not fill the frame as {market} asks",
  "rule.noProduct": "No product could be found in the result",
  "rule.notCropped": "The product touches the edge of the frame",
  "rule.strayMarks_one": "{count} stray mark on the background",
  "rule.strayMarks_other": "{count} stray marks on the background",
  "rule.strayMarks": "Marks on the background",
  "rule.size": "Image is {width} × {height} px; {market} needs {expected}",
  "rule.aspect": "Image shape is {measured}; {market} needs {expected}",
  "rule.format": "Saved as {measured}; {market} needs {expected}",
  "rule.other": "Misses a rule: {label}",

  "state.QUEUED": "Queued",
  "state.PROCESSING": "Processing",
  "state.NEEDS_REVIEW": "Held for review",
  "state.PUBLISHED": "Published",
  "state.FAILED": "Failed",
  "state.RESTORED": "Restored",
  "state.CANCELLED": "Cancelled",
  "state.REJECTED": "Rejected",
  "state.SUPERSEDED": "Earlier version",

  "filter.all": "All",
  "filter.review": "Held for review",
  "filter.published": "Published",
  "filter.failed": "Failed",
  "filter.rejected": "Rejected",
  "filter.restored": "Restored",
  "filter.working": "In progress",
  "filter.cancelled": "Cancelled",
  "filter.label": "Show images",
  "filter.empty": "No images here.",

  "gallery.label": "Images in this batch",
  "gallery.imageTitle": "{product}, image {position}",
  "gallery.before": "Before",
  "gallery.after": "After",
  "gallery.beforeAlt": "{title}: original",
  "gallery.afterAlt": "{title}: processed",
  "gallery.noResult": "No processed image",
  "gallery.loadingResult": "Loading the processed image",
  "gallery.compare": "Compare",
  "gallery.compareLabel": "Compare before and after of {title}",
  "gallery.details": "Details",
  "gallery.hideDetails": "Hide details",
  "gallery.detailsLabel": "Measured details of {title}",
  "gallery.approve": "Approve",
  "gallery.reject": "Reject",
  "gallery.approveLabel": "Approve {title}",
  "gallery.rejectLabel": "Reject {title}",
  "gallery.restore": "Restore original",
  "gallery.restoreLabel": "Restore the original of {title}",
  "gallery.select": "Select {title}",
  "gallery.note": "Your note: “{note}”",

  "details.rules": "{market} rules",
  "details.rulePassed": "Passed",
  "details.ruleMissed": "Missed",
  "details.ruleLine": "{label}: {measured} (needs {expected})",
  "details.fidelity": "Product unchanged: similarity {score} (needs {threshold})",
  "details.fidelityAltered": "The product may have changed: similarity {score} (needs {threshold})",
  "details.noReport": "This image has not been checked yet.",

  "bulk.selectAllHeld_one": "Select the image held for review",
  "bulk.selectAllHeld_other": "Select all {count} images held for review",
  "bulk.selected_one": "{count} selected",
  "bulk.selected_other": "{count} selected",
  "bulk.approveSelected": "Approve selected",
  "bulk.rejectSelected": "Reject selected",
  "bulk.approve_one": "Approve {count} image",
  "bulk.approve_other": "Approve {count} images",
  "bulk.reject_one": "Reject {count} image",
  "bulk.reject_other": "Reject {count} images",
  "bulk.hint": "Tick images held for review (Space), then approve or reject them together. Shortcuts: A approves, R rejects the selection.",
  "bulk.approved_one": "{count} image approved: it will replace the product image in a moment.",
  "bulk.approved_other": "{count} images approved: they will replace the product images in a moment.",
  "bulk.rejected_one": "{count} image rejected: the product keeps its original, and its credits were given back.",
  "bulk.rejected_other": "{count} images rejected: the products keep their originals, and their credits were given back.",
  "bulk.refusedTitle_one": "{count} image was not changed",
  "bulk.refusedTitle_other": "{count} images were not changed",

  "compare.title": "Before and after: {title}",
  "compare.slider": "Slide to compare",
  "compare.sideBySide": "Side by side",
  "compare.sliderMode": "Slider",
  "compare.close": "Close",
  "compare.sliderLabel": "Share of the processed image shown",

  "versions.publishFailed": "Publishing this version again failed: {reason} Its credits were given back; the product keeps the version it had.",
} as const;

type TableKey = keyof typeof GALLERY_MESSAGES_EN;
/** A key of the table, or the stem of a key with plural forms (`bulk.approve` for `bulk.approve_one`/`_other`). */
export type MessageKey = TableKey extends infer K ? (K extends `${infer Stem}_${"one" | "other"}` ? Stem : K) : never;
export type MessageParam = string | number | Message;

export interface Message {
  key: MessageKey;
  params?: Record<string, MessageParam>;
}

export const message = (key: MessageKey, params?: Record<string, MessageParam>): Message => (params ? { key, params } : { key });

const plurals = new Intl.PluralRules("en");
const numbers = new Intl.NumberFormat("en");

/**
 * The English text of a message. A key with `_one`/`_other` forms is picked by its `count` parameter; a message
 * given as a parameter is formatted first.
 */
export function formatMessage(msg: Message | string): string {
  if (typeof msg === "string") return msg;
  const params = msg.params ?? {};
  let key: string = msg.key;
  if (typeof params.count === "number") {
    const form = `${msg.key}_${plurals.select(params.count)}`;
    key = form in GALLERY_MESSAGES_EN ? form : `${msg.key}_other` in GALLERY_MESSAGES_EN ? `${msg.key}_other` : msg.key;
  }
  const template: string = (GALLERY_MESSAGES_EN as Record<string, string>)[key] ?? msg.key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    if (typeof value === "number") return numbers.format(value);
    return typeof value === "string" ? value : formatMessage(value);
  });
}
