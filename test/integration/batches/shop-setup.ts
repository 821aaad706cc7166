/** A unique shop on the Shopify stand-in with an offline session, as an install leaves it. */
import { createHmac, randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import type { AdminGraphql } from "~/models/catalog.server";
import type { ShopifyEmulator } from "../../../emulators/shopify-admin/server";

export const API_KEY = process.env.SHOPIFY_API_KEY ?? "test-api-key";
export const API_SECRET = process.env.SHOPIFY_API_SECRET ?? "test-api-secret";

export function uniqueShop(): string {
  return `shop-${randomUUID().slice(0, 8)}.myshopify.com`;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString("base64url");
}

/** An App Bridge id token for the shop, signed with the app secret (what the admin sends the app). */
export function idToken(shop: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({
      iss: `https://${shop}/admin`,
      dest: `https://${shop}`,
      aud: API_KEY,
      sub: "1",
      exp: now + 60,
      nbf: now - 5,
      iat: now,
      jti: randomUUID(),
      sid: randomUUID(),
    }),
  );
  const signature = base64url(createHmac("sha256", API_SECRET).update(`${header}.${payload}`).digest());
  return `${header}.${payload}.${signature}`;
}

/** Token exchange against the stand-in, then the offline Session row shopify-app-remix reads. */
export async function installShop(db: PrismaClient, shopify: ShopifyEmulator, shop: string): Promise<string> {
  const response = await fetch(`${shopify.url}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-emulated-shop": shop },
    body: JSON.stringify({
      client_id: API_KEY,
      client_secret: API_SECRET,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: idToken(shop),
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      requested_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
    }),
  });
  if (!response.ok) throw new Error(`token exchange failed: ${response.status} ${await response.text()}`);
  const { access_token: accessToken, scope } = (await response.json()) as { access_token: string; scope: string };
  await db.session.upsert({
    where: { id: `offline_${shop}` },
    create: { id: `offline_${shop}`, shop, state: "", isOnline: false, scope, accessToken },
    update: { accessToken, scope },
  });
  await db.shop.upsert({ where: { domain: shop }, create: { domain: shop, scopes: scope }, update: {} });
  return accessToken;
}

/** The production path: the shop's offline session through shopify-app-remix. */
export async function offlineAdmin(shop: string): Promise<AdminGraphql> {
  const { unauthenticated } = await import("~/shopify.server");
  const { admin } = await unauthenticated.admin(shop);
  return admin.graphql as unknown as AdminGraphql;
}

