/**
 * Versions of one image ("Try again"): the first item of a media in a batch and every retry of it (retryOfId names
 * the first). Pure code, shared by the batch model (which groups a batch's items into images) and the batch page
 * (which offers "Try again" and "Publish this version").
 */
import { storedMessage, type MessageCode } from "~/lib/merchant-message";
import { IN_FLIGHT_ITEM_STATES } from "~/models/batch-item-states";

/** Why "Publish this version" is not offered, as a merchant message code (worded under `messages.*`). */
export type WhyNotOffered = Extract<MessageCode, "versionOnProduct" | "versionBusy" | "versionNoImage" | "versionNotPublishable">;

export interface VersionFields {
  id: string;
  retryOfId: string | null;
  state: string;
  createdAt: Date | string;
  resultImageId: string | null;
  restoreRequestedAt?: Date | string | null;
  /** Why it failed, as stored (`BatchItem.reasonMessage`): decides whether a failed image may be tried again. */
  reasonMessage?: unknown;
}

export interface VersionGroup<T extends VersionFields> {
  /** The version whose state is the image's: the one being made or published, else live, else held, else the latest. */
  current: T;
  /**
   * Every version, oldest first (version 1 is the first try). A picture published again through a new item (a
   * rejected version, paid anew) is one version: its latest item, in the place of its first (unless that attempt
   * failed: its credits went back and the version stays as it was).
   */
  versions: T[];
  /**
   * Publishing a rejected version again goes through a new item; when that attempt fails, the version stays as it
   * was and this keeps the failed attempt (its reason) by the version's id, until a later attempt of that picture.
   */
  failedRepublish: ReadonlyMap<string, T>;
}

const IN_FLIGHT: ReadonlySet<string> = new Set(IN_FLIGHT_ITEM_STATES);
/** States "Try again" is offered from (on the image's current version); FAILED only when a new try may cure it. */
const RETRYABLE_STATES: ReadonlySet<string> = new Set(["NEEDS_REVIEW", "REJECTED", "PUBLISHED", "FAILED"]);

/**
 * Failures a new try cannot cure, the one list of them: a new try edits the same original (the first try's address
 * and bytes) with the same pipeline into the same product image, so a missing image, an original the app cannot
 * read or use, or an original the model refuses fails again the same way. Each of these reasons already tells the
 * merchant what to do instead (upload another photo, start a new batch). Every other failure may go through on a new
 * try: a frozen or locked store, a lost connection, a model outage or refusal, Shopify refusing a change, a result
 * that came out wrong, and failures stored before reasons had codes.
 */
export const FAILURES_RETRY_CANNOT_CURE: ReadonlySet<MessageCode> = new Set<MessageCode>([
  "itemMediaDeleted",
  "itemPipelineGone",
  "itemSourceTooLarge",
  "itemDownloadFailed",
  "itemImageEmpty",
  "itemImageTooLarge",
  "itemImageUnsupported",
  "itemImageCorrupt",
  "itemImageTruncated",
  "itemImageTooManyPixels",
  "itemImageTooSmall",
  "itemImageAspect",
  "itemImageTooDetailed",
  "itemEditSensitive",
]);

/** Whether a failure with this stored reason may go through on a new try. */
export function failureRetryable(reasonMessage: unknown): boolean {
  const message = storedMessage(reasonMessage);
  return !message || !FAILURES_RETRY_CANNOT_CURE.has(message.code);
}
/** A version that was on the product once (paid) and is not now: publishing it again costs nothing. */
const REPUBLISHABLE_STATES = new Set(["SUPERSEDED", "RESTORED"]);

const time = (value: Date | string) => (value instanceof Date ? value.getTime() : Date.parse(value));

function pickCurrent<T extends VersionFields>(versions: T[]): T {
  const latest = (filter: (v: T) => boolean) => [...versions].reverse().find(filter);
  return (
    latest((v) => IN_FLIGHT.has(v.state)) ??
    latest((v) => v.state === "PUBLISHED") ??
    latest((v) => v.state === "NEEDS_REVIEW") ??
    latest((v) => v.state !== "SUPERSEDED") ??
    versions[versions.length - 1]!
  );
}

/** Groups items into images, in the order of each image's first version in `items`. */
export function groupVersions<T extends VersionFields>(items: T[]): Array<VersionGroup<T>> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const root = item.retryOfId ?? item.id;
    const list = groups.get(root);
    if (list) list.push(item);
    else groups.set(root, [item]);
  }
  return [...groups.values()].map((list) => {
    const sorted = [...list].sort(
      (a, b) => time(a.createdAt) - time(b.createdAt) || (a.retryOfId === null ? -1 : b.retryOfId === null ? 1 : 0),
    );
    const slot = new Map<string, number>();
    const versions: T[] = [];
    const failedAt = new Map<number, T>();
    for (const item of sorted) {
      const at = item.resultImageId ? slot.get(item.resultImageId) : undefined;
      if (at === undefined) {
        if (item.resultImageId) slot.set(item.resultImageId, versions.length);
        versions.push(item);
      } else if (item.state === "FAILED" || item.state === "CANCELLED") {
        failedAt.set(at, item);
      } else {
        versions[at] = item;
        failedAt.delete(at);
      }
    }
    const failedRepublish = new Map([...failedAt].map(([at, item]) => [versions[at]!.id, item]));
    return { current: pickCurrent(versions), versions, failedRepublish };
  });
}

export type VersionAction =
  /** Not offered; `why` says so in the viewer's language (null for a version being made: its state says it). */
  | { kind: "none"; why: { code: WhyNotOffered } | null }
  /** Held for review: approving it publishes it (its held credits are spent then). */
  | { kind: "approve" }
  /** Paid when it was first published: publishing it again is free. */
  | { kind: "republish" }
  /** Rejected (its credits were given back): publishing it now costs 3 credits, as approving it would have. */
  | { kind: "publish-paid" };

/** What "Publish this version" does for one version of an image (nothing while another version is being made). */
export function publishActionFor<T extends VersionFields>(version: T, group: VersionGroup<T>): VersionAction {
  if (version.state === "PUBLISHED") return { kind: "none", why: { code: "versionOnProduct" } };
  if (IN_FLIGHT.has(version.state)) return { kind: "none", why: null };
  if (group.versions.some((v) => IN_FLIGHT.has(v.state) || v.restoreRequestedAt)) return { kind: "none", why: { code: "versionBusy" } };
  if (!version.resultImageId) return { kind: "none", why: { code: "versionNoImage" } };
  if (version.state === "NEEDS_REVIEW") return { kind: "approve" };
  if (REPUBLISHABLE_STATES.has(version.state)) return { kind: "republish" };
  if (version.state === "REJECTED") return { kind: "publish-paid" };
  return { kind: "none", why: { code: "versionNotPublishable" } };
}

/** Why "Try again" is refused for an image, as a merchant message code (worded under `messages.*`). */
export type WhyNoRetry = Extract<MessageCode, "retryBusy" | "retryRestoring" | "retryNotCurable" | "retryWrongState">;

/**
 * Why "Try again" is not offered for an image, or null when it is: its current version is held, rejected, published
 * or failed in a way a new try may cure, and nothing is being made or put back.
 */
export function whyNoRetry<T extends VersionFields>(group: VersionGroup<T>): WhyNoRetry | null {
  if (group.versions.some((v) => IN_FLIGHT.has(v.state))) return "retryBusy";
  if (group.versions.some((v) => v.restoreRequestedAt)) return "retryRestoring";
  if (!RETRYABLE_STATES.has(group.current.state)) return "retryWrongState";
  if (group.current.state === "FAILED" && !failureRetryable(group.current.reasonMessage)) return "retryNotCurable";
  return null;
}

export function canRetry<T extends VersionFields>(group: VersionGroup<T>): boolean {
  return whyNoRetry(group) === null;
}

/** An image whose current version failed and that a new try may cure: what "Try the failed images again" takes. */
export function isFailedToRetry<T extends VersionFields>(group: VersionGroup<T>): boolean {
  return group.current.state === "FAILED" && canRetry(group);
}
