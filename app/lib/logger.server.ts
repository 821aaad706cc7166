import pino from "pino";
import { currentRequestId } from "./request-context.server";

const SECRET_KEY = /token|secret|password|authorization|api[-_]?key|cookie|signature|hmac/i;
const MAX_DEPTH = 8;

/** Replaces the value of every key that names a secret, at any depth (pino's own redact paths cannot say "anywhere"). */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((entry) => scrubSecrets(entry, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) && entry !== undefined && entry !== null ? "[redacted]" : scrubSecrets(entry, depth + 1);
  }
  return out;
}

/**
 * Structured JSON logs. Pass context (shop, batchId, itemId, jobId) as the first argument:
 * `logger.info({ shop, itemId }, "published")`; lines written while serving a request also carry its requestId. Values under keys that name a secret
 * (token, secret, authorization, api key, ...) are redacted at any depth, errors included.
 */
export function createLogger(destination?: pino.DestinationStream, level?: string) {
  return pino(
    {
      level: level ?? process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
      base: { service: process.env.SERVICE_NAME ?? "app" },
      formatters: { log: (object) => scrubSecrets(object) as Record<string, unknown> },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    destination,
  );
}

export const logger = createLogger();

export type Logger = typeof logger;
