import { describe, expect, it } from "vitest";
import { formatMessage } from "~/components/batch/gallery-messages";
import { i18nFor } from "~/i18n/locales";
import {
  canRetry,
  FAILURES_RETRY_CANNOT_CURE,
  groupVersions,
  isFailedToRetry,
  publishActionFor,
  whyNoRetry,
  type VersionFields,
} from "~/models/versions";

let clock = Date.parse("2026-12-05T10:00:00Z");
function item(id: string, state: string, opts: Partial<VersionFields> = {}): VersionFields {
  clock += 1000;
  return { id, retryOfId: null, state, createdAt: new Date(clock), resultImageId: `result-${id}`, restoreRequestedAt: null, ...opts };
}

describe("versions of an image", () => {
  it("groups tries under their first item, in the order of the first items, oldest version first", () => {
    const a1 = item("a1", "SUPERSEDED");
    const b1 = item("b1", "PUBLISHED");
    const a2 = item("a2", "PUBLISHED", { retryOfId: "a1" });
    const a3 = item("a3", "REJECTED", { retryOfId: "a1" });
    const groups = groupVersions([a3, b1, a2, a1].reverse());
    expect(groups.map((g) => g.versions.map((v) => v.id))).toEqual([["a1", "a2", "a3"], ["b1"]]);
    expect(groups.map((g) => g.current.id)).toEqual(["a2", "b1"]);
  });

  it("lets the version being made, then the live one, then the held one stand for the image", () => {
    const first = item("1", "PUBLISHED");
    const queued = item("2", "QUEUED", { retryOfId: "1", resultImageId: null });
    expect(groupVersions([first, queued])[0]!.current.id).toBe("2");
    const held = item("3", "NEEDS_REVIEW", { retryOfId: "1" });
    expect(groupVersions([first, held])[0]!.current.id).toBe("1");
    const setAside = item("4", "REJECTED");
    const heldRetry = item("5", "NEEDS_REVIEW", { retryOfId: "4" });
    const rejectedLater = item("6", "REJECTED", { retryOfId: "4" });
    expect(groupVersions([setAside, heldRetry, rejectedLater])[0]!.current.id).toBe("5");
    // Restored: the latest version that is not an earlier one stands for the image.
    expect(groupVersions([item("6", "SUPERSEDED"), item("7", "RESTORED", { retryOfId: "6" })])[0]!.current.id).toBe("7");
  });

  it("offers Publish this version: free again for a version that was live, approval for a held one, 3 credits for a rejected one", () => {
    const first = item("1", "SUPERSEDED");
    const live = item("2", "PUBLISHED", { retryOfId: "1" });
    const rejected = item("3", "REJECTED", { retryOfId: "1" });
    const group = groupVersions([first, live, rejected])[0]!;
    expect(publishActionFor(first, group)).toEqual({ kind: "republish" });
    expect(publishActionFor(live, group)).toEqual({ kind: "none", why: { code: "versionOnProduct" } });
    expect(publishActionFor(rejected, group)).toEqual({ kind: "publish-paid" });

    const held = item("4", "NEEDS_REVIEW", { retryOfId: "1" });
    expect(publishActionFor(held, groupVersions([first, live, held])[0]!)).toEqual({ kind: "approve" });
    const restored = item("5", "RESTORED");
    expect(publishActionFor(restored, groupVersions([restored])[0]!)).toEqual({ kind: "republish" });
  });

  it("shows a rejected picture published again through a new item as one version, in its first place", () => {
    const first = item("1", "REJECTED", { resultImageId: "pic-1" });
    const second = item("2", "PUBLISHED", { retryOfId: "1", resultImageId: "pic-2" });
    const again = item("3", "QUEUED", { retryOfId: "1", resultImageId: "pic-1" });
    let group = groupVersions([first, second, again])[0]!;
    expect(group.versions.map((v) => v.id)).toEqual(["3", "2"]);
    expect(group.current.id).toBe("3");
    // When that attempt fails (its credits go back), the version stays as it was.
    const failed = { ...again, state: "FAILED" };
    group = groupVersions([first, second, failed])[0]!;
    expect(group.versions.map((v) => v.id)).toEqual(["1", "2"]);
    expect(group.current.id).toBe("2");
  });

  it("keeps why publishing a rejected version again failed, on that version, until a later attempt of it", () => {
    const first = {
      ...item("1", "REJECTED", { resultImageId: "pic-1" }),
      reason: "Rejected by the merchant; the original image was kept.",
    };
    const second = { ...item("2", "PUBLISHED", { retryOfId: "1", resultImageId: "pic-2" }), reason: null };
    const failed = {
      ...item("3", "FAILED", { retryOfId: "1", resultImageId: "pic-1" }),
      reason: "Shopify could not process the new image.",
    };
    let group = groupVersions([first, second, failed])[0]!;
    expect(group.versions.map((v) => v.id)).toEqual(["1", "2"]);
    expect(group.failedRepublish.get("1")?.reason).toBe("Shopify could not process the new image.");
    expect(group.failedRepublish.has("2")).toBe(false);
    // Published on a later attempt: the failure is history, not a reason any more.
    const again = { ...item("4", "PUBLISHED", { retryOfId: "1", resultImageId: "pic-1" }), reason: null };
    group = groupVersions([first, { ...second, state: "SUPERSEDED" }, failed, again])[0]!;
    expect(group.versions.map((v) => v.id)).toEqual(["4", "2"]);
    expect(group.failedRepublish.size).toBe(0);
  });

  it("offers nothing while another version is being made or the original is being put back", () => {
    const first = item("1", "SUPERSEDED");
    const making = item("2", "PROCESSING", { retryOfId: "1", resultImageId: null });
    const busy = groupVersions([first, making])[0]!;
    expect(publishActionFor(first, busy)).toEqual({ kind: "none", why: { code: "versionBusy" } });
    expect(publishActionFor(making, busy)).toEqual({ kind: "none", why: null });
    expect(canRetry(busy)).toBe(false);
    const restoring = groupVersions([first, item("3", "PUBLISHED", { retryOfId: "1", restoreRequestedAt: new Date() })])[0]!;
    expect(publishActionFor(first, restoring).kind).toBe("none");
    expect(canRetry(restoring)).toBe(false);
  });

  it("says why Publish this version is not offered in the viewer's language", () => {
    const first = item("1", "SUPERSEDED");
    const making = item("2", "PROCESSING", { retryOfId: "1", resultImageId: null });
    const failed = item("3", "FAILED", { resultImageId: null });
    const why = (version: VersionFields, versions: VersionFields[], lng: "en" | "es") => {
      const action = publishActionFor(version, groupVersions(versions)[0]!);
      return action.kind === "none" && action.why ? formatMessage(action.why, i18nFor(lng).t) : null;
    };
    expect(why(first, [first, making], "en")).toBe("Another version of this image is being made or published. Wait for it to finish.");
    expect(why(first, [first, making], "es")).toBe("Se está creando o publicando otra versión de esta imagen. Espera a que termine.");
    expect(why(failed, [failed], "es")).toBe(
      "Esta versión no tiene una imagen terminada que publicar. Vuelve a intentarlo para obtener una versión nueva.",
    );
    const live = item("4", "PUBLISHED");
    expect(why(live, [live], "es")).toBe("Esta versión ya está en el producto.");
  });

  it("offers Try again on a held, rejected, published or failed image only", () => {
    for (const [state, offered] of [
      ["NEEDS_REVIEW", true],
      ["REJECTED", true],
      ["PUBLISHED", true],
      ["FAILED", true],
      ["CANCELLED", false],
      ["RESTORED", false],
      ["QUEUED", false],
    ] as const) {
      expect([state, canRetry(groupVersions([item(`r-${state}`, state)])[0]!)]).toEqual([state, offered]);
    }
  });

  it("offers Try again on a failed image unless a new try would fail the same way, and says why not", () => {
    const failed = (code: string | null, opts: Partial<VersionFields> = {}) =>
      groupVersions([item(`f-${code}`, "FAILED", { resultImageId: null, reasonMessage: code ? { code, params: {} } : null, ...opts })])[0]!;
    // A frozen store, a model outage, Shopify refusing a change, a result that came out wrong, a reason from before codes.
    for (const code of ["itemShopFrozen", "itemShopLocked", "itemEditUnavailable", "itemShopifyRefused", "itemResultDamaged", null]) {
      expect([code, whyNoRetry(failed(code)), isFailedToRetry(failed(code))]).toEqual([code, null, true]);
    }
    // The image gone from the product, an original the app cannot use, an original the model refuses.
    for (const code of ["itemMediaDeleted", "itemImageCorrupt", "itemSourceTooLarge", "itemDownloadFailed", "itemEditSensitive"]) {
      expect(FAILURES_RETRY_CANNOT_CURE.has(code as never)).toBe(true);
      expect([code, whyNoRetry(failed(code)), canRetry(failed(code))]).toEqual([code, "retryNotCurable", false]);
    }
    expect(formatMessage({ code: "retryNotCurable" }, i18nFor("es").t)).toMatch(/^Volver a intentarlo con esta imagen fallaría/);

    // Only the image's current version counts: a failed try of a published image leaves the published one to try again.
    const first = item("p1", "PUBLISHED");
    const failedTry = item("p2", "FAILED", { retryOfId: "p1", resultImageId: null, reasonMessage: { code: "itemMediaDeleted" } });
    const published = groupVersions([first, failedTry])[0]!;
    expect([published.current.id, canRetry(published), isFailedToRetry(published)]).toEqual(["p1", true, false]);
    // A rejected first version whose new try failed: the failure is the image's state, and may be tried again.
    const rejected = item("r1", "REJECTED");
    const failedAgain = groupVersions([rejected, item("r2", "FAILED", { retryOfId: "r1", resultImageId: null })])[0]!;
    expect([failedAgain.current.id, isFailedToRetry(failedAgain)]).toEqual(["r2", true]);
    const making = groupVersions([
      item("m1", "FAILED", { resultImageId: null }),
      item("m2", "QUEUED", { retryOfId: "m1", resultImageId: null }),
    ])[0]!;
    expect(whyNoRetry(making)).toBe("retryBusy");
  });
});
