import Stripe from "stripe";
import { AppError } from "~/lib/app-error";
import { getConfig, type Config } from "~/lib/config.server";

/**
 * Stripe Checkout is optional (custom-distribution installs): it is on only when STRIPE_SECRET_KEY is set.
 * STRIPE_API_URL points stripe-node at a local stand-in (e.g. http://127.0.0.1:12111) in tests and the demo.
 */
export type StripeConfig =
  | {
      enabled: true;
      secretKey: string;
      webhookSecret: string | null;
      apiUrl: URL | null;
      /** A live key (sk_live_/rk_live_): only live-mode sessions and events may credit anything. */
      livemode: boolean;
    }
  | { enabled: false; reason: string };

export function getStripeConfig(config: Config = getConfig()): StripeConfig {
  const secretKey = config.STRIPE_SECRET_KEY;
  if (!secretKey) {
    return {
      enabled: false,
      reason: "Card payments through Stripe are not set up for this app (no Stripe key is configured). Use Shopify billing.",
    };
  }
  return {
    enabled: true,
    secretKey,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET ?? null,
    apiUrl: config.STRIPE_API_URL ? new URL(config.STRIPE_API_URL) : null,
    livemode: /^(sk|rk)_live_/.test(secretKey),
  };
}

const clients = new Map<string, Stripe>();

/** One client per key and API URL (stripe-node keeps connections alive per instance). */
export function getStripeClient(config: Extract<StripeConfig, { enabled: true }>): Stripe {
  const cacheKey = `${config.secretKey}\u0000${config.apiUrl?.href ?? ""}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = createStripeClient(config.secretKey, config.apiUrl);
    clients.set(cacheKey, client);
  }
  return client;
}

export function createStripeClient(secretKey: string, apiUrl: URL | null = null): Stripe {
  return new Stripe(secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: "product-image-cleanup" },
    ...(apiUrl
      ? {
          host: apiUrl.hostname,
          port: Number(apiUrl.port || (apiUrl.protocol === "http:" ? 80 : 443)),
          protocol: apiUrl.protocol === "http:" ? ("http" as const) : ("https" as const),
        }
      : {}),
  });
}

export class StripeSignatureError extends AppError {
  constructor(message: string) {
    super(message, { httpStatus: 400, merchantMessage: "Invalid signature" });
    this.name = "StripeSignatureError";
  }
}

/** Verifies the Stripe-Signature header on the exact raw body (and its age). Throws StripeSignatureError. */
export function verifyStripeEvent(stripe: Stripe, rawBody: string, signature: string | null, webhookSecret: string): Stripe.Event {
  if (!signature) throw new StripeSignatureError("Missing Stripe-Signature header");
  try {
    return stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
  } catch (error) {
    throw new StripeSignatureError(error instanceof Error ? error.message : "Invalid signature");
  }
}
