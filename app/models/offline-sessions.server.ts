/**
 * A shop's offline access for everything that runs without the merchant: the worker's publish, backup and
 * restore, webhooks, billing checks. Offline tokens expire after an hour and are renewed with a refresh token
 * that Shopify rotates on every use; tokens from installs made before expiring tokens were switched on are
 * migrated once, through Shopify's token exchange.
 *
 * Why this exists beside shopify-app-remix's own refresh: the library refreshes a token wherever it finds one
 * about to expire, with no coordination between the web process and the workers. Two processes refreshing at
 * once would present the same refresh token twice, and the second is refused (or revokes the pair). Here every
 * renewal of a shop's token holds the lock on its Session row (SELECT ... FOR UPDATE) across the call to
 * Shopify; whoever waited for the lock reads the row again and uses the token the first one stored. Within a
 * process, callers for the same shop also share one renewal.
 */
import type { PrismaClient, Session as SessionRow } from "@prisma/client";
import { HttpResponseError, Session, type Shopify } from "@shopify/shopify-api";
import type { SessionStorage } from "@shopify/shopify-app-session-storage";
import { AppError } from "~/lib/app-error";
import { logger } from "~/lib/logger.server";
import { createTokenCipher, type TokenCipher } from "~/lib/token-cipher.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import type { MerchantText } from "~/lib/merchant-message";

/** What the merchant reads when the app can no longer act on their store until they open it again. */
export const RECONNECT: MerchantText = {
  text: "The app no longer has access to this store's products. Open the app in your Shopify admin to reconnect it, then try again.",
  message: { code: "itemReconnect" },
};
/** What the merchant reads when the app was uninstalled: nothing was changed. */
export const NOT_INSTALLED: MerchantText = {
  text: "The app is not installed on this store any more, so the image was not changed.",
  message: { code: "itemNotInstalled" },
};

/** The shop's offline access is gone (refresh token expired or revoked, app uninstalled): no retry can help. */
export class ShopAccessLostError extends AppError {
  constructor(
    readonly shop: string,
    readonly lost: MerchantText,
  ) {
    super(`offline access to ${shop} is lost: ${lost.text}`, { merchantMessage: lost.text, merchant: lost.message, httpStatus: 403 });
    this.name = "ShopAccessLostError";
  }
}

/** shopify-app-remix refreshes offline tokens it loads within this long of expiry (its WITHIN_MILLISECONDS_OF_EXPIRY). */
const LIBRARY_REFRESH_WINDOW_MS = 5 * 60_000;
const LOCK_WAIT_MS = 30_000;
const RENEWAL_TIMEOUT_MS = 60_000;

export interface OfflineSessionsOptions {
  db: PrismaClient;
  /** The shopify-api instance configured like the app's (its auth and Admin GraphQL client). */
  api: Pick<Shopify, "auth" | "clients">;
  /** Renew a token when it has less than this left (default 6 min, before the library's own 5-min window). */
  renewBeforeExpiryMs?: number;
  /** Encrypts the tokens in the Session table (default: stored as they are). */
  cipher?: TokenCipher;
}

export interface OfflineSessions {
  /** The shop's offline session with a token valid for at least `renewBeforeExpiryMs`, renewing it if needed. */
  validSession(shop: string): Promise<Session>;
  /**
   * The Admin GraphQL client for background work, holding the session it read first; a token refused with 401 is
   * renewed once and the call retried. Made per job or request: a token renewed elsewhere reaches it through that 401.
   */
  adminGraphql(shop: string): AdminGraphql;
  /**
   * Wraps the app's session storage: tokens are encrypted on the way in and decrypted on the way out, and offline
   * sessions the library loads come back renewed by us.
   */
  renewingStorage(inner: SessionStorage): SessionStorage;
}

export function offlineSessionId(shop: string): string {
  return `offline_${shop}`;
}

/** The same session with its tokens passed through `transform` (encryption on the way in, decryption on the way out). */
function withTokens(session: Session, transform: (token: string) => string): Session {
  const { accessToken, refreshToken, ...rest } = session.toObject();
  return new Session({
    ...rest,
    ...(accessToken ? { accessToken: transform(accessToken) } : {}),
    ...(refreshToken ? { refreshToken: transform(refreshToken) } : {}),
  });
}

/** A non-expiring token needs migrating; an expiring one renewing once it has less than `marginMs` left. */
function needsRenewal(session: Session, marginMs: number): boolean {
  return !session.expires || session.expires.getTime() - Date.now() <= marginMs;
}

/** Shopify refused the grant itself (expired, revoked or already used), as opposed to failing to answer. */
function isRefusedGrant(error: unknown): boolean {
  return error instanceof HttpResponseError && [400, 401, 403].includes(error.response.code);
}

type Renewal = { session: Session } | { lost: MerchantText };

export function createOfflineSessions(opts: OfflineSessionsOptions): OfflineSessions {
  const { db, api } = opts;
  const cipher = opts.cipher ?? createTokenCipher([]);
  const marginMs = opts.renewBeforeExpiryMs ?? LIBRARY_REFRESH_WINDOW_MS + 60_000;
  function sessionFromRow(row: SessionRow): Session {
    return new Session({
      id: row.id,
      shop: row.shop,
      state: row.state,
      isOnline: row.isOnline,
      accessToken: cipher.decrypt(row.accessToken),
      ...(row.scope ? { scope: row.scope } : {}),
      ...(row.expires ? { expires: row.expires } : {}),
      ...(row.refreshToken ? { refreshToken: cipher.decrypt(row.refreshToken) } : {}),
      ...(row.refreshTokenExpires ? { refreshTokenExpires: row.refreshTokenExpires } : {}),
    });
  }

  // Sessions the library loads must come back with more left than its own refresh window, or it refreshes them itself.
  const libraryMargin = Math.max(marginMs, LIBRARY_REFRESH_WINDOW_MS + 60_000);
  const renewalsInFlight = new Map<string, Promise<Session>>();

  /** Asks Shopify for a new token pair: refresh grant, or the one-time migration of a non-expiring token. */
  async function exchange(current: Session): Promise<Renewal> {
    const shop = current.shop;
    const refreshToken = current.refreshToken;
    if (refreshToken && current.refreshTokenExpires && current.refreshTokenExpires.getTime() <= Date.now()) return { lost: RECONNECT };
    if (!refreshToken && current.expires) return { lost: RECONNECT };
    try {
      const { session } = refreshToken
        ? await api.auth.refreshToken({ shop, refreshToken })
        : await api.auth.migrateToExpiringToken({ shop, nonExpiringOfflineAccessToken: current.accessToken ?? "" });
      logger.info({ shop, how: refreshToken ? "refresh" : "migration", expires: session.expires?.toISOString() }, "offline token renewed");
      return { session };
    } catch (error) {
      if (!isRefusedGrant(error)) throw error;
      logger.warn({ shop, status: (error as HttpResponseError).response.code }, "Shopify refused to renew the offline token");
      return { lost: RECONNECT };
    }
  }

  /**
   * Renews under the Session row's lock, unless the row (read again under the lock) no longer needs it:
   * `rejectedToken` means Shopify refused that token, so renew unless the row already holds another one;
   * otherwise renew a token with less than `margin` left. A lost grant is written down (no refresh token, expired) so that later callers
   * fail at once instead of asking Shopify again, and the merchant's next visit exchanges a new token.
   */
  async function renewLocked(shop: string, why: { rejectedToken?: string; margin?: number }): Promise<Session> {
    const id = offlineSessionId(shop);
    const outcome = await db.$transaction(
      async (tx): Promise<Renewal> => {
        await tx.$queryRaw`SELECT 1 FROM "Session" WHERE "id" = ${id} FOR UPDATE`;
        const row = await tx.session.findUnique({ where: { id } });
        if (!row) return { lost: NOT_INSTALLED };
        const current = sessionFromRow(row);
        const stillCurrent = why.rejectedToken ? current.accessToken === why.rejectedToken : needsRenewal(current, why.margin ?? marginMs);
        if (!stillCurrent) return { session: current };
        const renewal = await exchange(current);
        if ("lost" in renewal) {
          await tx.session.update({ where: { id }, data: { refreshToken: null, refreshTokenExpires: null, expires: new Date(0) } });
          return renewal;
        }
        const fresh = renewal.session;
        const tokens = {
          accessToken: cipher.encrypt(fresh.accessToken!),
          scope: fresh.scope ?? row.scope,
          expires: fresh.expires ?? null,
          refreshToken: fresh.refreshToken ? cipher.encrypt(fresh.refreshToken) : null,
          refreshTokenExpires: fresh.refreshTokenExpires ?? null,
        };
        await tx.session.update({ where: { id }, data: tokens });
        return { session: sessionFromRow({ ...row, ...tokens }) };
      },
      { maxWait: LOCK_WAIT_MS, timeout: RENEWAL_TIMEOUT_MS },
    );
    if ("lost" in outcome) throw new ShopAccessLostError(shop, outcome.lost);
    return outcome.session;
  }

  function renew(shop: string, rejectedToken?: string): Promise<Session> {
    const key = `${shop}\n${rejectedToken ?? ""}`;
    let pending = renewalsInFlight.get(key);
    if (!pending) {
      pending = renewLocked(shop, { rejectedToken }).finally(() => renewalsInFlight.delete(key));
      renewalsInFlight.set(key, pending);
    }
    return pending;
  }

  async function validSession(shop: string): Promise<Session> {
    const row = await db.session.findUnique({ where: { id: offlineSessionId(shop) } });
    if (!row) throw new ShopAccessLostError(shop, NOT_INSTALLED);
    const session = sessionFromRow(row);
    return needsRenewal(session, marginMs) ? renew(shop) : session;
  }

  function adminGraphql(shop: string): AdminGraphql {
    // Read once per client (one job, one request), not per call: each read costs the worker a statement. The held
    // token is renewed like a stored one when it nears expiry, and one Shopify refuses is renewed below, so a token
    // renewed or an app uninstalled meanwhile is noticed as it was when the row was read every time.
    let held: Session | undefined;
    return async (query, options) => {
      let session = held && !needsRenewal(held, marginMs) ? held : await validSession(shop);
      held = session;
      for (let renewed = false; ; renewed = true) {
        try {
          const client = new api.clients.Graphql({ session });
          // A Response, like shopify-app-remix's admin.graphql, so every model reads both the same way.
          return new Response(JSON.stringify(await client.request(query, { variables: options?.variables })));
        } catch (error) {
          if (!(error instanceof HttpResponseError && error.response.code === 401)) throw error;
          if (renewed) throw new ShopAccessLostError(shop, RECONNECT);
          logger.warn({ shop }, "Shopify refused the offline token; renewing it once");
          session = await renew(shop, session.accessToken);
          held = session;
        }
      }
    };
  }

  function renewingStorage(inner: SessionStorage): SessionStorage {
    return {
      storeSession: (session) => inner.storeSession(withTokens(session, cipher.encrypt)),
      async loadSession(id) {
        const stored = await inner.loadSession(id);
        const session = stored && withTokens(stored, cipher.decrypt);
        if (!session || session.isOnline || !needsRenewal(session, libraryMargin)) return session;
        try {
          return await renewLocked(session.shop, { margin: libraryMargin });
        } catch (error) {
          // The token as it is serves this request if it can (a non-expiring one still works until Shopify's
          // deadline). Without its refresh token the library cannot refresh it unlocked: when it is about to expire,
          // an admin request exchanges a new one (the merchant reconnects by opening the app), and a webhook gets
          // Shopify's 401, which it retries later.
          if (!(error instanceof ShopAccessLostError))
            logger.warn({ shop: session.shop, err: (error as Error).message }, "offline token renewal failed");
          session.refreshToken = undefined;
          session.refreshTokenExpires = undefined;
          return session;
        }
      },
      deleteSession: (id) => inner.deleteSession(id),
      deleteSessions: (ids) => inner.deleteSessions(ids),
      findSessionsByShop: async (shop) => (await inner.findSessionsByShop(shop)).map((session) => withTokens(session, cipher.decrypt)),
    };
  }

  return { validSession, adminGraphql, renewingStorage };
}

/**
 * Rewrites every stored token (of one shop, or all) that is in plain text or under an older key with the current key,
 * each row under its lock (a renewal in progress finishes first). Returns how many rows changed.
 */
export async function reencryptSessionTokens(db: PrismaClient, cipher: TokenCipher, opts: { shop?: string } = {}): Promise<number> {
  if (!cipher.enabled) throw new Error("SESSION_TOKEN_KEYS is not set: there is no key to encrypt with.");
  const rows = await db.session.findMany({ where: opts.shop ? { shop: opts.shop } : {}, select: { id: true } });
  let changed = 0;
  for (const { id } of rows) {
    changed += await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM "Session" WHERE "id" = ${id} FOR UPDATE`;
      const row = await tx.session.findUnique({ where: { id }, select: { accessToken: true, refreshToken: true } });
      if (!row || (!cipher.isStale(row.accessToken) && (!row.refreshToken || !cipher.isStale(row.refreshToken)))) return 0;
      await tx.session.update({
        where: { id },
        data: {
          accessToken: cipher.encrypt(cipher.decrypt(row.accessToken)),
          refreshToken: row.refreshToken ? cipher.encrypt(cipher.decrypt(row.refreshToken)) : null,
        },
      });
      return 1;
    });
  }
  return changed;
}
