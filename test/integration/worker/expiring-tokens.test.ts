// Expiring offline tokens (Shopify requires them from 2027-01-01): tokens that live 5 seconds on the stand-in,
// renewed by several worker processes at once, migrated from the non-expiring kind, and revoked mid-batch.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBatchProgress } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { RECONNECT } from "~/models/offline-sessions.server";
import { mediaById, startHarness, submitAllImages, type Harness } from "../batches/harness";
import { killed, spawnWorkerProcess } from "./worker-processes";

const TOKEN_SECONDS = 5;
const RENEW_BEFORE_MS = 2_000;
// This process's own renewals (batch creation, the in-process worker) follow the same rule as the workers'.
process.env.OFFLINE_TOKEN_RENEW_BEFORE_MS = String(RENEW_BEFORE_MS);

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ offlineTokenSeconds: TOKEN_SECONDS, dashscope: { latencyMs: 600 } });
});

afterAll(async () => {
  await Promise.all(children.map(killed));
  await h?.close();
});

async function sessionRow(shop: string) {
  return h.db.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
}

async function adminStatus(token: string, shop: string): Promise<number> {
  const response = await fetch(`${h.shopify.url}/admin/api/2026-07/graphql.json`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-access-token": token, "x-emulated-shop": shop },
    body: JSON.stringify({ query: "query ShopName { shop { name } }" }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("expiring offline tokens", () => {
  it("publishes a 30-image batch with three worker processes while the token expires every 5 s: one refresh per expiry, none reused", async () => {
    const shop = await h.addShop({ products: 10, imagesPerProduct: 3, credits: 90, smallPhotos: true });
    const before = mediaById(h.shopify, shop);
    const started = Date.now();
    const batchId = await submitAllImages(h, shop);
    for (let i = 0; i < 3; i++) {
      children.push(spawnWorkerProcess(h, { WORKER_CONCURRENCY: "2", OFFLINE_TOKEN_RENEW_BEFORE_MS: String(RENEW_BEFORE_MS) }));
    }
    const progress = await h.waitForBatch(shop, batchId, 150_000);
    const elapsedMs = Date.now() - started;

    expect(progress.items.filter((i) => i.state !== "PUBLISHED").map((i) => `${i.state}: ${i.reason}`)).toEqual([]);
    const after = mediaById(h.shopify, shop);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [mediaId, was] of before) expect(after.get(mediaId)!.sha256).not.toBe(was.sha256);
    expect(await h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } })).toBe(30);
    expect(await getBalance(h.db, shop)).toEqual({ available: 0, reserved: 0, total: 0 });

    const stats = h.shopify.tokenStats(shop);
    expect(stats.refreshTokenReuses).toBe(0);
    expect(stats.expiredTokenRejections).toBe(0);
    // A token is renewed only when it is needed and has less than 2 s of its 5 left: at most one refresh every
    // 3 s, whichever process asks, and the batch outlived several tokens.
    expect(elapsedMs).toBeGreaterThan(2 * TOKEN_SECONDS * 1000);
    expect(stats.refreshes).toBeGreaterThanOrEqual(2);
    expect(stats.refreshes).toBeLessThanOrEqual(Math.ceil(elapsedMs / (TOKEN_SECONDS * 1000 - RENEW_BEFORE_MS)) + 1);
    // The stored pair is the one Shopify issued last, so the next renewal works.
    expect((await sessionRow(shop)).accessToken).toBe(h.shopify.accessToken(shop));
    await Promise.all(children.splice(0).map(killed));
  }, 200_000);

  it("migrates a non-expiring token once on first use, however many callers ask at once, and the batch works", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 2, credits: 12, expiringToken: false, smallPhotos: true });
    const oldRow = await sessionRow(shop);
    expect(oldRow.expires).toBeNull();
    expect(oldRow.refreshToken).toBeNull();

    const { offlineSessions } = await import("~/shopify.server");
    await Promise.all(Array.from({ length: 5 }, () => offlineSessions.validSession(shop)));
    const batchId = await submitAllImages(h, shop);
    h.startInProcessWorker({ concurrency: 2 });
    const progress = await h.waitForBatch(shop, batchId, 60_000);

    expect(h.shopify.tokenStats(shop).migrations).toBe(1);
    const row = await sessionRow(shop);
    expect(row.refreshToken).toMatch(/^shprt_/);
    expect(row.expires!.getTime()).toBeGreaterThan(Date.now() - TOKEN_SECONDS * 1000);
    expect(await adminStatus(oldRow.accessToken, shop)).toBe(401);
    expect(progress.counts.PUBLISHED).toBe(4);
  }, 90_000);

  it("fails the remaining images with the reconnect sentence when the refresh token is revoked mid-batch: credits back, originals untouched", async () => {
    const shop = await h.addShop({ products: 4, imagesPerProduct: 3, credits: 36, smallPhotos: true });
    const before = mediaById(h.shopify, shop);
    const batchId = await submitAllImages(h, shop);
    h.startInProcessWorker({ concurrency: 1 });
    for (;;) {
      const progress = await getBatchProgress(h.db, shop, batchId);
      if (progress!.counts.PUBLISHED >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    h.shopify.revokeRefreshTokens(shop);
    // Every image ends failed or published, except one whose replacement Shopify had already accepted when access
    // was lost: it cannot be checked until the merchant reconnects, so it keeps its credits held (never released
    // blindly) and the sweep settles it later.
    const sentButUnchecked = (i: { state: string; replaceSentAt: Date | null }) => i.state === "PROCESSING" && i.replaceSentAt !== null;
    // A failed item's state is written before its credits are released, so wait for both.
    const settled = async () => {
      const now = await h.db.batchItem.findMany({ where: { batchId } });
      const done = now.every((i) => i.state === "PUBLISHED" || i.state === "FAILED" || sentButUnchecked(i));
      return { items: now, done: done && (await getBalance(h.db, shop)).reserved === 3 * now.filter(sentButUnchecked).length };
    };
    const deadline = Date.now() + 90_000;
    let { items, done } = await settled();
    while (!done) {
      if (Date.now() > deadline) throw new Error(`images still in progress: ${items.map((i) => i.state).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      ({ items, done } = await settled());
    }

    const published = items.filter((i) => i.state === "PUBLISHED");
    const failed = items.filter((i) => i.state === "FAILED");
    const pending = items.filter(sentButUnchecked);
    expect(failed.length).toBeGreaterThan(0);
    for (const item of failed) expect(item.reason).toBe(RECONNECT.text);
    const spent = 3 * (published.length + pending.length);
    expect(await getBalance(h.db, shop)).toEqual({ available: 36 - spent, reserved: 3 * pending.length, total: 36 - 3 * published.length });
    const after = mediaById(h.shopify, shop);
    for (const item of items) {
      const changed = after.get(item.mediaId)!.sha256 !== before.get(item.mediaId)!.sha256;
      expect({ mediaId: item.mediaId, changed }).toEqual({ mediaId: item.mediaId, changed: item.state !== "FAILED" });
    }
    expect(h.shopify.tokenStats(shop).refreshTokenReuses).toBe(0);
  }, 120_000);
});
