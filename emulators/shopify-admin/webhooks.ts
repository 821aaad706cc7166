import { createHmac, randomUUID } from "node:crypto";
import { EMULATED_API_VERSION } from "./schema";

export interface WebhookOptions {
  topic: string;
  shop: string;
  payload: unknown;
  path: string;
  webhookId?: string;
  /** Default: a new event (each event has its own id; Shopify's retries and duplicate deliveries share it). */
  eventId?: string;
  /** When the event happened (default now); Shopify keeps it across retries. */
  triggeredAt?: Date;
  secret?: string;
}

/** base64 HMAC-SHA256 of the raw body with the app secret: what X-Shopify-Hmac-Sha256 carries. */
export function webhookHmac(rawBody: string, secret: string): string {
  return createHmac("sha256", secret).update(rawBody, "utf8").digest("base64");
}

/** A webhook request exactly as Shopify would deliver it to `appUrl + path`, signed with the secret. */
export function buildSignedWebhookRequest(appUrl: string, defaultSecret: string, opts: WebhookOptions): Request {
  const body = JSON.stringify(opts.payload);
  const url = new URL(opts.path, appUrl.endsWith("/") ? appUrl : `${appUrl}/`);
  // A leading "/" in path replaces any path in appUrl, as a URL join would; keep appUrl's path prefix.
  const base = new URL(appUrl);
  if (base.pathname !== "/" && opts.path.startsWith("/")) url.pathname = base.pathname.replace(/\/$/, "") + opts.path;
  return new Request(url, {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/json",
      "X-Shopify-Topic": opts.topic,
      "X-Shopify-Hmac-Sha256": webhookHmac(body, opts.secret ?? defaultSecret),
      "X-Shopify-Shop-Domain": opts.shop,
      "X-Shopify-API-Version": EMULATED_API_VERSION,
      "X-Shopify-Webhook-Id": opts.webhookId ?? randomUUID(),
      // A redelivery (same webhook id) is of the same event.
      "X-Shopify-Event-Id": opts.eventId ?? (opts.webhookId ? `event-of-${opts.webhookId}` : randomUUID()),
      "X-Shopify-Triggered-At": (opts.triggeredAt ?? new Date()).toISOString(),
    },
  });
}
