import "@shopify/shopify-app-remix/adapters/node";
import { shopifyApi, type LogFunction } from "@shopify/shopify-api";
import { AppDistribution, LogSeverity, shopifyApp } from "@shopify/shopify-app-remix/server";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { ADMIN_API_VERSION } from "./api-version";
import prisma from "./db.server";
import { getConfig } from "./lib/config.server";
import { logger } from "./lib/logger.server";
import { bindRequestId } from "./lib/request-context.server";
import { createTokenCipher, parseTokenKeys } from "./lib/token-cipher.server";
import { createOfflineSessions } from "./models/offline-sessions.server";
import { recordInstall } from "./models/shops.server";

const config = getConfig();
const appUrl = config.SHOPIFY_APP_URL ?? "";
const credentials = {
  apiKey: config.SHOPIFY_API_KEY ?? "",
  apiSecretKey: config.SHOPIFY_API_SECRET ?? "",
  apiVersion: ADMIN_API_VERSION,
  scopes: config.SCOPES?.split(","),
  ...(config.SHOP_CUSTOM_DOMAIN ? { customShopDomains: [config.SHOP_CUSTOM_DOMAIN] } : {}),
};
// The library's own logs go through our structured logger, so LOG_LEVEL governs them too.
const libraryLogger: { level: LogSeverity; log: LogFunction } = {
  level: LogSeverity.Debug,
  log: (severity, message) => {
    const line = { source: "shopify-app" };
    if (severity === LogSeverity.Error) logger.error(line, message);
    else if (severity === LogSeverity.Warning) logger.warn(line, message);
    else if (severity === LogSeverity.Info) logger.info(line, message);
    else logger.debug(line, message);
  },
};

// shopify-app-remix keeps its shopify-api instance to itself; offline token renewal needs one configured the same
// way (its auth for refresh and migration, its Admin GraphQL client for the worker).
const api = shopifyApi({
  ...credentials,
  hostName: appUrl ? new URL(appUrl).host : "localhost",
  hostScheme: appUrl.startsWith("http://") ? "http" : "https",
  isEmbeddedApp: true,
  logger: libraryLogger,
  future: { unstable_managedPricingSupport: true },
});

export const tokenCipher = createTokenCipher(parseTokenKeys(config.SESSION_TOKEN_KEYS));
if (!tokenCipher.enabled && config.NODE_ENV === "production") {
  logger.warn("SESSION_TOKEN_KEYS is not set: Shopify access and refresh tokens are stored unencrypted");
}

export const offlineSessions = createOfflineSessions({
  db: prisma,
  api,
  cipher: tokenCipher,
  renewBeforeExpiryMs: config.OFFLINE_TOKEN_RENEW_BEFORE_MS,
});

const shopify = shopifyApp({
  ...credentials,
  appUrl,
  authPathPrefix: "/auth",
  sessionStorage: offlineSessions.renewingStorage(new PrismaSessionStorage(prisma)),
  distribution: AppDistribution.AppStore,
  // Expiring offline tokens: Shopify refuses non-expiring ones from public apps from 2027-01-01.
  future: { unstable_newEmbeddedAuthStrategy: true, expiringOfflineAccessTokens: true },
  logger: libraryLogger,
  hooks: {
    afterAuth: async ({ session, admin }) => {
      await recordInstall({ db: prisma, graphql: admin.graphql }, session.shop, session.scope ?? null);
    },
  },
});

export default shopify;
export const apiVersion = ADMIN_API_VERSION;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
// Every loader and action starts with authenticate.*: the one place to give the request an id for its logs.
export const authenticate = {
  ...shopify.authenticate,
  admin: ((request: Request) => {
    bindRequestId(request);
    return shopify.authenticate.admin(request);
  }) as typeof shopify.authenticate.admin,
  webhook: ((request: Request) => {
    bindRequestId(request);
    return shopify.authenticate.webhook(request);
  }) as typeof shopify.authenticate.webhook,
};
export const login = shopify.login;
export const registerWebhooks = shopify.registerWebhooks;
export const sessionStorage = shopify.sessionStorage;
