import type { PrismaClient } from "@prisma/client";
import { mintIdToken } from "../app-bridge/tokens";

export interface AppCredentials {
  apiKey: string;
  apiSecret: string;
}

/**
 * Installs the app on a stand-in shop the way an embedded install does: exchanges an App Bridge id token for an
 * offline access token, then stores the offline Session row shopify-app-remix reads and the Shop row.
 * For the demo, benches and tests that drive the worker without opening the app first.
 * Installs get expiring tokens, as the app requests them; `expiring: false` makes the non-expiring kind that
 * installs made before the app moved to expiring tokens.
 */
export async function installShopOffline(
  db: PrismaClient,
  emulatorUrl: string,
  shop: string,
  app: AppCredentials,
  opts: { expiring?: boolean } = {},
): Promise<string> {
  const expiring = opts.expiring ?? true;
  const response = await fetch(`${emulatorUrl}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-emulated-shop": shop },
    body: JSON.stringify({
      client_id: app.apiKey,
      client_secret: app.apiSecret,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: mintIdToken(shop, app.apiKey, app.apiSecret),
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      requested_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
      ...(expiring ? { expiring: "1" } : {}),
    }),
  });
  if (!response.ok) throw new Error(`token exchange failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as {
    access_token: string;
    scope: string;
    expires_in?: number;
    refresh_token?: string;
    refresh_token_expires_in?: number;
  };
  const after = (seconds: number | undefined) => (seconds === undefined ? null : new Date(Date.now() + seconds * 1000));
  const tokens = {
    accessToken: body.access_token,
    scope: body.scope,
    expires: after(body.expires_in),
    refreshToken: body.refresh_token ?? null,
    refreshTokenExpires: after(body.refresh_token_expires_in),
  };
  await db.session.upsert({
    where: { id: `offline_${shop}` },
    create: { id: `offline_${shop}`, shop, state: "", isOnline: false, ...tokens },
    update: tokens,
  });
  await db.shop.upsert({ where: { domain: shop }, create: { domain: shop, scopes: body.scope }, update: {} });
  return body.access_token;
}
