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
 */
export async function installShopOffline(db: PrismaClient, emulatorUrl: string, shop: string, app: AppCredentials): Promise<string> {
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
