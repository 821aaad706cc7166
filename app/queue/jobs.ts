/** What a job carries: ids only; the worker re-reads everything else from the database. */
export interface ImageJobData {
  itemId: string;
  shop: string;
}

/** How a job ended, as seen by the merchant. */
export type ImageJobOutcome = "published" | "needs-review" | "already-done" | "failed" | "cancelled";

/** BullMQ job ids must not contain ":" nor be digits only; item ids are UUIDs. */
export function jobIdForItem(itemId: string): string {
  return itemId;
}
