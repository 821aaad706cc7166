import { createHmac, timingSafeEqual } from "node:crypto";
import { randomHex, type EmulatorStore } from "./store";

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
const OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token";
const ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token";
/** Shopify accepts id tokens a few seconds outside their window to absorb clock skew. */
const CLOCK_TOLERANCE_SECONDS = 10;
const ONLINE_TOKEN_SECONDS = 86_399;
const REFRESH_TOKEN_SECONDS = 90 * 86_400;

export type OAuthResult = { status: number; body: unknown };

/**
 * POST /admin/oauth/access_token: token exchange (an App Bridge id token for an offline or online
 * access token, or a non-expiring offline token for an expiring one) and the refresh_token grant for
 * expiring offline tokens, which rotates the refresh token: a spent one is refused.
 */
export function handleAccessTokenRequest(
  store: EmulatorStore,
  app: { apiKey: string; apiSecret: string },
  shop: string | undefined,
  params: Record<string, string>,
): OAuthResult {
  if (!shop || !store.shops.has(shop)) return { status: 404, body: { errors: "Not Found" } };
  if (params.client_id !== app.apiKey || !safeEqual(params.client_secret ?? "", app.apiSecret)) {
    return {
      status: 401,
      body: { error: "invalid_client", error_description: "Client authentication failed: unknown client_id or wrong client_secret." },
    };
  }
  if (params.grant_type === "refresh_token") return refreshGrant(store, shop, params.refresh_token);
  if (params.grant_type !== TOKEN_EXCHANGE_GRANT) {
    return {
      status: 400,
      body: { error: "unsupported_grant_type", error_description: `grant_type ${params.grant_type ?? "(missing)"} is not supported.` },
    };
  }
  if (params.subject_token_type === OFFLINE_TOKEN_TYPE) return migrationGrant(store, shop, params);
  if (params.subject_token_type !== ID_TOKEN_TYPE) {
    return invalidSubject(`subject_token_type must be ${ID_TOKEN_TYPE} or ${OFFLINE_TOKEN_TYPE}.`);
  }
  const requested = params.requested_token_type ?? OFFLINE_TOKEN_TYPE;
  if (requested !== OFFLINE_TOKEN_TYPE && requested !== ONLINE_TOKEN_TYPE) {
    return { status: 400, body: { error: "invalid_request", error_description: `requested_token_type ${requested} is not supported.` } };
  }
  const claims = verifyIdToken(params.subject_token, app, shop);
  if (typeof claims === "string") return invalidSubject(claims);

  const scope = store.scopesOf(shop);
  if (requested === ONLINE_TOKEN_TYPE) {
    const userId = Number(claims.sub) || 1;
    const access_token = store.issueToken(shop, "online", { expiresInSeconds: ONLINE_TOKEN_SECONDS, userId });
    return {
      status: 200,
      body: {
        access_token,
        scope,
        expires_in: ONLINE_TOKEN_SECONDS,
        associated_user_scope: scope,
        associated_user: {
          id: userId,
          first_name: "Staff",
          last_name: `Member ${userId}`,
          email: `staff${userId}@${shop}`,
          account_owner: userId === 1,
          locale: "en",
          collaborator: false,
          email_verified: true,
        },
      },
    };
  }
  if (params.expiring === "1" || params.expiring === "true") return { status: 200, body: issueExpiringOffline(store, shop) };
  return { status: 200, body: { access_token: store.issueToken(shop, "offline"), scope } };
}

const INVALID_GRANT: OAuthResult = {
  status: 400,
  body: { error: "invalid_grant", error_description: "Token has been expired or revoked." },
};

function refreshGrant(store: EmulatorStore, shop: string, refreshToken: string | undefined): OAuthResult {
  if (refreshToken && store.spentRefreshTokens.get(refreshToken) === "rotated") {
    store.tokenStats(shop).refreshTokenReuses++;
    return INVALID_GRANT;
  }
  const record = refreshToken ? store.refreshTokens.get(refreshToken) : undefined;
  if (!record || record.shop !== shop || record.expiresAt <= Date.now()) return INVALID_GRANT;
  store.refreshTokens.delete(refreshToken!);
  store.spentRefreshTokens.set(refreshToken!, "rotated");
  store.tokenStats(shop).refreshes++;
  return { status: 200, body: issueExpiringOffline(store, shop) };
}

/**
 * Token exchange of a non-expiring offline token for an expiring one (Shopify's migration). The old token stops
 * working at once; asking again with it returns the same pair until that pair is refreshed.
 */
function migrationGrant(store: EmulatorStore, shop: string, params: Record<string, string>): OAuthResult {
  if (params.requested_token_type !== OFFLINE_TOKEN_TYPE || !(params.expiring === "1" || params.expiring === "true")) {
    return {
      status: 400,
      body: {
        error: "invalid_request",
        error_description: "An offline access token can only be exchanged for an expiring offline access token (expiring=1).",
      },
    };
  }
  const subject = params.subject_token ?? "";
  const earlier = store.migratedTokens.get(subject);
  if (earlier && store.refreshTokens.has(earlier.refresh_token)) {
    const record = store.tokens.get(earlier.access_token);
    return {
      status: 200,
      body: {
        ...earlier,
        scope: store.scopesOf(shop),
        expires_in: Math.max(0, Math.round(((record?.expiresAt ?? 0) - Date.now()) / 1000)),
        refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
      },
    };
  }
  const record = store.tokens.get(subject);
  if (!record || record.shop !== shop || record.mode !== "offline" || record.expiresAt !== null) {
    return invalidSubject("subject_token is not a valid non-expiring offline access token for this shop.");
  }
  store.tokens.delete(subject);
  store.tokenStats(shop).migrations++;
  const pair = issueExpiringOffline(store, shop);
  store.migratedTokens.set(subject, { access_token: pair.access_token, refresh_token: pair.refresh_token });
  return { status: 200, body: pair };
}

function issueExpiringOffline(store: EmulatorStore, shop: string) {
  const refresh_token = `shprt_${randomHex(16)}`;
  const lifetime = store.options.offlineTokenSeconds;
  store.refreshTokens.set(refresh_token, { shop, scope: store.scopesOf(shop), expiresAt: Date.now() + REFRESH_TOKEN_SECONDS * 1000 });
  return {
    access_token: store.issueToken(shop, "offline", { expiresInSeconds: lifetime }),
    scope: store.scopesOf(shop),
    expires_in: lifetime,
    refresh_token,
    refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
  };
}

function invalidSubject(description: string): OAuthResult {
  return { status: 400, body: { error: "invalid_subject_token", error_description: description } };
}

interface IdTokenClaims {
  iss?: string;
  dest?: string;
  aud?: string | string[];
  sub?: string;
  exp?: number;
  nbf?: number;
}

/** Verifies an App Bridge id token (HS256 with the app secret); a string is the reason it is refused. */
export function verifyIdToken(token: string | undefined, app: { apiKey: string; apiSecret: string }, shop: string): IdTokenClaims | string {
  if (!token) return "subject_token is missing.";
  const parts = token.split(".");
  if (parts.length !== 3) return "subject_token is not a JWT.";
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: IdTokenClaims;
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8")) as { alg?: string };
    claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8")) as IdTokenClaims;
  } catch {
    return "subject_token is not a JWT.";
  }
  if (header.alg !== "HS256") return "subject_token must be signed with HS256.";
  const expected = createHmac("sha256", app.apiSecret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, "base64url");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "subject_token signature is invalid.";
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp + CLOCK_TOLERANCE_SECONDS < now) return "subject_token has expired.";
  if (typeof claims.nbf === "number" && claims.nbf - CLOCK_TOLERANCE_SECONDS > now) return "subject_token is not valid yet.";
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(app.apiKey)) return "subject_token audience does not match the client_id.";
  if (claims.dest !== `https://${shop}`) return "subject_token was issued for another shop.";
  return claims;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
