import pino from "pino";
import { getConfig, secretValues } from "./config.server";
import { currentRequestId } from "./request-context.server";

const SECRET_KEY = /token|secret|password|authorization|api[-_]?key|cookie|signature|hmac/i;
const MAX_DEPTH = 8;

// Credentials that travel inside text (library messages, error messages, URLs): Shopify tokens, Stripe keys and
// webhook secrets, DashScope keys, bearer values and JWTs (session tokens).
const SECRET_TEXT = [
  /\b(?:shp(?:at|ua|ca|pa|ss|rt)|sk_(?:live|test)|rk_(?:live|test)|whsec|pk_(?:live|test))_[A-Za-z0-9]+/g,
  /\bsk-[A-Za-z0-9]{12,}/g,
  /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
];
const BEARER_TEXT = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Replaces credentials found inside free text, and the configured secrets' values wherever they appear. */
function scrubText(text: string): string {
  let out = text.replace(BEARER_TEXT, "$1 [redacted]");
  for (const pattern of SECRET_TEXT) out = out.replace(pattern, "[redacted]");
  for (const secret of secretValues()) out = out.replaceAll(secret, "[redacted]");
  return out;
}

/**
 * Replaces the value of every key that names a secret, and credentials inside strings, at any depth (pino's own
 * redact paths cannot say "anywhere"). Errors become { type, message, stack, ...their own fields } first: this runs
 * before pino's serializers, and an Error's message and stack are not enumerable.
 */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubText(value);
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((entry) => scrubSecrets(entry, depth + 1));
  if (value instanceof Error) {
    const { name, message, stack } = value;
    const cause = (value as { cause?: unknown }).cause;
    return scrubSecrets({ ...value, type: name, message, stack, ...(cause !== undefined ? { cause } : {}) }, depth);
  }
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
  const config = getConfig();
  return pino(
    {
      level: level ?? config.LOG_LEVEL ?? (config.NODE_ENV === "test" ? "silent" : "info"),
      base: { service: config.SERVICE_NAME },
      formatters: { log: (object) => scrubSecrets(object) as Record<string, unknown> },
      // The scrubber above already made errors plain objects; pino's err serializer would rename them "Object".
      serializers: { err: (value: unknown) => value },
      // The message itself (a library's plain string, an interpolated error) is scrubbed too.
      hooks: {
        logMethod(args, method) {
          return method.apply(this, args.map((arg) => (typeof arg === "string" ? scrubText(arg) : arg)) as Parameters<typeof method>);
        },
      },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    destination,
  );
}

export const logger = createLogger();
