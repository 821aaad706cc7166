/**
 * What the models ask of the queues. The models decide what to enqueue; how a job is keyed, prioritised (fair share)
 * and retried is the queue layer's: `app/queue`'s ImageQueue and AutomationQueue implement these, and routes and the
 * worker pass them in, so models never import `app/queue`.
 */

export interface QueuedItem {
  id: string;
  shop: string;
}

/** The image queue: one job per item (edit or restore). */
export interface ImageWork {
  /** Kept on each batch (and automation record), so a worker's sweep and resume pass take only their own queue's. */
  readonly name: string;
  /** One edit job per item, under each shop's fair share, in the order given; a no-op for an item whose job exists. */
  enqueueItems(items: QueuedItem[]): Promise<void>;
  /** One restore job per item; a no-op for an item whose restore job exists. */
  enqueueRestores(items: QueuedItem[]): Promise<void>;
  /** Takes the item's edit job out of the queue unless a worker is running it. */
  removeWaitingJob(itemId: string): Promise<void>;
}

export interface NewProductMedia {
  shop: string;
  productId: string;
  mediaIds: string[];
}

/** The automation queue: one job per product event (keyed on its event id) and one per catalogue run. */
export interface AutomationWork {
  readonly name: string;
  /** A no-op while the event's job waits or runs. */
  enqueueNewProductMedia(eventId: string, media: NewProductMedia): Promise<void>;
  /** The run's one job; a no-op while it waits or runs, so the sweep, a resume and a webhook may all call it. */
  enqueueCatalogRun(shop: string, runId: string): Promise<void>;
  /** Runs the run's job now when it is waiting out a delay (a bulk operation just finished); false if it is not. */
  advanceCatalogRunNow(runId: string): Promise<boolean>;
}

/** What an automation job throws when it is not finished: the queue runs it again after `delayMs`, not as a retry. */
export class RunAgainLater extends Error {
  constructor(readonly delayMs: number) {
    super(`run again in ${delayMs} ms`);
    this.name = "RunAgainLater";
  }
}
