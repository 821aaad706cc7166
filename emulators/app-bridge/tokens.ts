import { createHmac, randomUUID } from "node:crypto";

/** An App Bridge session token for the shop, signed with the app's secret as Shopify admin signs it. */
export function mintIdToken(shop: string, apiKey: string, apiSecret: string, ttlSeconds = 60): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = {
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: apiKey,
    sub: "1",
    exp: now + ttlSeconds,
    nbf: now - 5,
    iat: now,
    jti: randomUUID(),
    sid: randomUUID(),
  };
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc(payload)}`;
  return `${body}.${createHmac("sha256", apiSecret).update(body).digest("base64url")}`;
}

/** The URL Shopify admin loads in its iframe to open a page of the app for a shop. */
export function embeddedAppUrl(
  appUrl: string,
  shop: string,
  pathname: string,
  idToken: string,
  extra: Record<string, string> = {},
): string {
  const url = new URL(pathname, appUrl);
  const host = Buffer.from(`admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, "")}`).toString("base64url");
  for (const [key, value] of Object.entries({ ...extra, embedded: "1", shop, host, id_token: idToken })) url.searchParams.set(key, value);
  return url.toString();
}
