import "@shopify/shopify-app-remix/adapters/node";
import { AppDistribution, LogSeverity, shopifyApp } from "@shopify/shopify-app-remix/server";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { ADMIN_API_VERSION } from "./api-version";
import prisma from "./db.server";
import { logger } from "./lib/logger.server";
import { bindRequestId } from "./lib/request-context.server";
import { recordInstall } from "./models/shops.server";

const shopify = shopifyApp({
  apiKey: process.env.SHOPIFY_API_KEY,
  apiSecretKey: process.env.SHOPIFY_API_SECRET || "",
  apiVersion: ADMIN_API_VERSION,
  scopes: process.env.SCOPES?.split(","),
  appUrl: process.env.SHOPIFY_APP_URL || "",
  authPathPrefix: "/auth",
  sessionStorage: new PrismaSessionStorage(prisma),
  distribution: AppDistribution.AppStore,
  future: { unstable_newEmbeddedAuthStrategy: true },
  // The library's own logs go through our structured logger, so LOG_LEVEL governs them too.
  logger: {
    level: LogSeverity.Debug,
    log: (severity, message) => {
      const line = { source: "shopify-app" };
      if (severity === LogSeverity.Error) logger.error(line, message);
      else if (severity === LogSeverity.Warning) logger.warn(line, message);
      else if (severity === LogSeverity.Info) logger.info(line, message);
      else logger.debug(line, message);
    },
  },
  hooks: {
    afterAuth: async ({ session }) => {
      await recordInstall(prisma, session.shop, session.scope ?? null);
    },
  },
  ...(process.env.SHOP_CUSTOM_DOMAIN ? { customShopDomains: [process.env.SHOP_CUSTOM_DOMAIN] } : {}),
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
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;
export const registerWebhooks = shopify.registerWebhooks;
export const sessionStorage = shopify.sessionStorage;
