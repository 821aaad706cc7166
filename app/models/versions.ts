/**
 * Versions of one image ("Try again"): the first item of a media in a batch and every retry of it (retryOfId names
 * the first). Pure code, shared by the batch model (which groups a batch's items into images) and the batch page
 * (which offers "Try again" and "Publish this version").
 */
import type { MessageCode } from "~/lib/merchant-message";
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
/** States "Try again" is offered from (on the image's current version). */
const RETRYABLE_STATES: ReadonlySet<string> = new Set(["NEEDS_REVIEW", "REJECTED", "PUBLISHED"]);
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

/** "Try again" is offered on the image's current version when it is held, rejected or published, and nothing is in progress. */
export function canRetry<T extends VersionFields>(group: VersionGroup<T>): boolean {
  if (group.versions.some((v) => IN_FLIGHT.has(v.state) || v.restoreRequestedAt)) return false;
  return RETRYABLE_STATES.has(group.current.state);
}
