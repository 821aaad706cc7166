/**
 * The admin action extension's JSON API is called cross-origin, from the admin's extension sandbox: CORS must let
 * that origin (and only it) read the answers, and the browser's preflight must be answered the same way.
 */
import { afterAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { closeQueues } from "~/queue/queue.server";
import { action, loader } from "~/routes/api.batches";
import { bearerRequest, call, status } from "./helpers";
import { createOfflineSession, uniqueShopDomain } from "../../factories";

const ADMIN_EXTENSION_ORIGIN = "https://extensions.shopifycdn.com";
const FOREIGN_ORIGIN = "https://attacker.example";

afterAll(() => closeQueues());

function preflight(origin: string): Request {
  return new Request(new URL("/api/batches", process.env.SHOPIFY_APP_URL), {
    method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
  });
}

async function installedShop(): Promise<string> {
  const shop = uniqueShopDomain();
  await createOfflineSession(prisma, shop);
  return shop;
}

describe("api/batches CORS", () => {
  it("answers the admin extension's preflight with its own origin, the methods and the headers it sends", async () => {
    const answer = (await call(action, preflight(ADMIN_EXTENSION_ORIGIN))) as Response;
    expect(answer.status).toBe(204);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBe(ADMIN_EXTENSION_ORIGIN);
    expect(answer.headers.get("Vary")).toContain("Origin");
    expect(answer.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(answer.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
  });

  it("refuses a preflight from any other origin, without CORS headers", async () => {
    const answer = (await call(action, preflight(FOREIGN_ORIGIN))) as Response;
    expect(answer.status).toBe(403);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("lets the admin extension read a batch's answer, and refuses the same signed request from another origin", async () => {
    const shop = await installedShop();
    const fromAdmin = await call(
      loader,
      await bearerRequest(shop, "/api/batches?id=unknown", { headers: { Origin: ADMIN_EXTENSION_ORIGIN } }),
    );
    expect(status(fromAdmin)).toBe(404);
    expect((fromAdmin as Response).headers.get("Access-Control-Allow-Origin")).toBe(ADMIN_EXTENSION_ORIGIN);

    const foreign = (await call(
      loader,
      await bearerRequest(shop, "/api/batches?id=unknown", { headers: { Origin: FOREIGN_ORIGIN } }),
    )) as Response;
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("tells the admin extension the app's configured price per image", async () => {
    const shop = await installedShop();
    const answer = (await call(
      loader,
      await bearerRequest(shop, "/api/batches", { headers: { Origin: ADMIN_EXTENSION_ORIGIN } }),
    )) as Response;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBe(ADMIN_EXTENSION_ORIGIN);
    expect(await answer.json()).toEqual({ creditsPerImage: CREDITS_PER_IMAGE });
  });

  it("creates nothing for a POST from another origin", async () => {
    const shop = await installedShop();
    const request = await bearerRequest(shop, "/api/batches", {
      method: "POST",
      headers: { Origin: FOREIGN_ORIGIN, "Content-Type": "application/json" },
      body: JSON.stringify({ mediaIds: ["gid://shopify/MediaImage/1"], pipeline: "amazon" }),
    });
    const answer = (await call(action, request)) as Response;
    expect(answer.status).toBe(403);
    expect(await prisma.batch.count({ where: { shop } })).toBe(0);
  });

  it("answers a bad selection from the admin extension with its message, readable by the extension", async () => {
    const shop = await installedShop();
    const request = await bearerRequest(shop, "/api/batches", {
      method: "POST",
      headers: { Origin: ADMIN_EXTENSION_ORIGIN, "Content-Type": "application/json" },
      body: JSON.stringify({ pipeline: "amazon" }),
    });
    const answer = (await call(action, request)) as Response;
    expect(answer.status).toBe(422);
    expect(answer.headers.get("Access-Control-Allow-Origin")).toBe(ADMIN_EXTENSION_ORIGIN);
    expect(await answer.json()).toMatchObject({ error: "Select at least one product or image." });
  });
});
