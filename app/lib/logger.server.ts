import pino from "pino";

/**
 * Structured JSON logs. Pass context (shop, batchId, itemId, jobId, requestId) as the first
 * argument: `logger.info({ shop, itemId }, "published")`. Secrets and tokens are redacted by key
 * wherever they appear in a logged object.
 */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
  base: { service: process.env.SERVICE_NAME ?? "app" },
  redact: {
    paths: [
      "accessToken",
      "*.accessToken",
      "apiKey",
      "*.apiKey",
      "authorization",
      "*.authorization",
      "headers.authorization",
      "*.headers.authorization",
      "secret",
      "*.secret",
      "token",
      "*.token",
      "idToken",
      "*.idToken",
    ],
    censor: "[redacted]",
  },
});

export type Logger = typeof logger;
