/** What a job carries: ids only; the worker re-reads everything else from the database. */
export interface ImageJobData {
  itemId: string;
  shop: string;
  /** Publish progress kept on the job, so a delayed or retried job resumes instead of redoing Shopify calls. */
  stagedUrl?: string;
  replaced?: boolean;
  /** A restore job: put the item's original back (job id `restore-<item id>`). */
  restore?: true;
}

/** How a job ended, as seen by the merchant. */
export type ImageJobOutcome = "published" | "needs-review" | "already-done" | "failed" | "cancelled" | "restored";

/** BullMQ job ids must not contain ":" nor be digits only; item ids are UUIDs. */
export function jobIdForItem(itemId: string): string {
  return itemId;
}
