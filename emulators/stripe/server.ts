/**
 * A local stand-in for the parts of the Stripe API the app uses: customers (create, retrieve, delete) and Checkout
 * Sessions (create, retrieve, line items), reachable through stripe-node's `host`/`port`/`protocol` options
 * (or STRIPE_API_URL in the app). It also serves a tiny hosted "checkout page" for the demo, and emits
 * webhook events signed exactly like Stripe (`stripe.webhooks.generateTestHeaderString`).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { type FormValue, parseStripeForm } from "./form";
import { outlastClientKeepAlive } from "../keep-alive";

export interface StripeEmulatorOptions {
  /** The key the app must send (Authorization: Bearer). Default "sk_test_emulator". */
  secretKey?: string;
  /** Webhook signing secret. Default "whsec_emulator". */
  webhookSecret?: string;
  /** Where `sendEvent` and the hosted page POST events, e.g. http://127.0.0.1:3000/webhooks/stripe. */
  webhookUrl?: string;
  /** Price ids the app may reference in line_items[].price. */
  prices?: Record<string, { unitAmount: number; currency: string; productName: string }>;
  port?: number;
}

export interface EmulatedCheckoutSession {
  id: string;
  object: "checkout.session";
  amount_subtotal: number;
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  created: number;
  customer: string | null;
  expires_at: number;
  livemode: boolean;
  metadata: Record<string, string>;
  mode: string;
  payment_intent: string | null;
  payment_status: "paid" | "unpaid" | "no_payment_required";
  status: "open" | "complete" | "expired";
  success_url: string | null;
  cancel_url: string | null;
  url: string | null;
  line_items_data: Array<{ description: string; quantity: number; amount_total: number; currency: string; price: string | null }>;
}

export interface EmulatedCustomer {
  id: string;
  object: "customer";
  created: number;
  description: string | null;
  email: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
}

export type CheckoutEventType =
  | "checkout.session.completed"
  | "checkout.session.async_payment_succeeded"
  | "checkout.session.async_payment_failed"
  | "checkout.session.expired"
  /** The session's charge (after refundSession). */
  | "charge.refunded"
  /** The session's latest dispute (after disputeSession). */
  | "charge.dispute.created"
  /** The session's latest dispute, decided (after closeDispute). */
  | "charge.dispute.closed";

/** The charge behind a paid session, as Stripe's Charge object has it (the fields the app reads and a few more). */
export interface EmulatedCharge {
  id: string;
  object: "charge";
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  refunded: boolean;
  disputed: boolean;
  currency: string;
  customer: string | null;
  payment_intent: string;
  livemode: boolean;
  metadata: Record<string, string>;
  paid: true;
  status: "succeeded";
  created: number;
}

export interface EmulatedDispute {
  id: string;
  object: "dispute";
  amount: number;
  charge: string;
  currency: string;
  payment_intent: string;
  livemode: boolean;
  metadata: Record<string, string>;
  reason: "fraudulent";
  /** An inquiry (`warning_*`) withdraws no money; a dispute does until it is won. */
  status: "needs_response" | "warning_needs_response" | "won" | "lost" | "warning_closed";
  is_charge_refundable: boolean;
  created: number;
}

export interface SignedEvent {
  event: { id: string; type: string; created: number; data: { object: unknown } };
  payload: string;
  signature: string;
}

export interface StripeEmulator {
  url: string;
  secretKey: string;
  webhookSecret: string;
  close(): Promise<void>;
  setWebhookUrl(url: string | undefined): void;
  sessions(): EmulatedCheckoutSession[];
  session(id: string): EmulatedCheckoutSession | undefined;
  customers(): EmulatedCustomer[];
  requestLog(): Array<{ method: string; path: string; status: number }>;
  /** Marks the session complete; `paid` (card) or `unpaid` (an async method such as a bank debit, settled later). */
  completeSession(id: string, opts?: { paymentStatus?: "paid" | "unpaid" }): EmulatedCheckoutSession;
  /** Settles an async payment: paid (succeeded) or left unpaid (failed). */
  settleAsyncPayment(id: string, succeeded: boolean): EmulatedCheckoutSession;
  expireSession(id: string): EmulatedCheckoutSession;
  /** Refunds `amount` cents more of the paid session's charge (default: what is left), as the Dashboard would. */
  refundSession(id: string, amount?: number): EmulatedCharge;
  /** The card holder disputes `amount` cents of the paid session's charge (default: what is not refunded). */
  disputeSession(id: string, amount?: number, o?: { inquiry?: boolean }): EmulatedDispute;
  /** The bank decides the session's latest dispute (an inquiry just closes). */
  closeDispute(id: string, outcome: "won" | "lost"): EmulatedDispute;
  /** A signed event for the session's current state. `timestamp` (seconds) backdates the signature; `secret` overrides the signing secret. */
  signEvent(type: CheckoutEventType, sessionId: string, opts?: { timestamp?: number; secret?: string; eventId?: string }): SignedEvent;
  /** The signed event as a Request to the app's webhook URL (for calling a Remix action directly). */
  buildWebhookRequest(
    type: CheckoutEventType,
    sessionId: string,
    opts?: { url?: string; timestamp?: number; secret?: string; eventId?: string },
  ): Request;
  /** POSTs the signed event to the configured webhook URL. */
  sendEvent(type: CheckoutEventType, sessionId: string): Promise<Response>;
}

const API_VERSION = "2026-10-28.endive";
const signer = new Stripe("sk_test_signer_only");

export async function startStripeEmulator(opts: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const secretKey = opts.secretKey ?? "sk_test_emulator";
  const webhookSecret = opts.webhookSecret ?? "whsec_emulator";
  // Stripe's objects and events say which mode made them, and the key decides the mode.
  const livemode = /^(sk|rk)_live_/.test(secretKey);
  let webhookUrl = opts.webhookUrl;
  const prices = opts.prices ?? {};
  const sessions = new Map<string, EmulatedCheckoutSession>();
  const customers = new Map<string, EmulatedCustomer>();
  const deletedCustomers = new Set<string>();
  const charges = new Map<string, EmulatedCharge>(); // by session id
  const disputes = new Map<string, EmulatedDispute[]>(); // by session id
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const log: Array<{ method: string; path: string; status: number }> = [];
  let baseUrl = "";

  const now = () => Math.floor(Date.now() / 1000);
  const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;

  function requireSession(id: string): EmulatedCheckoutSession {
    const session = sessions.get(id);
    if (!session) throw new Error(`No such checkout.session: '${id}'`);
    return session;
  }

  function publicSession(session: EmulatedCheckoutSession): Omit<EmulatedCheckoutSession, "line_items_data"> {
    const { line_items_data: _lineItems, ...rest } = session;
    return rest;
  }

  function signEvent(
    type: CheckoutEventType,
    sessionId: string,
    o: { timestamp?: number; secret?: string; eventId?: string } = {},
  ): SignedEvent {
    const session = requireSession(sessionId);
    const created = o.timestamp ?? now();
    const object =
      type === "charge.refunded"
        ? requireCharge(sessionId)
        : type === "charge.dispute.created" || type === "charge.dispute.closed"
          ? requireDispute(sessionId)
          : publicSession(session);
    const event = {
      id: o.eventId ?? newId("evt"),
      object: "event",
      api_version: API_VERSION,
      created,
      data: { object: { ...object } },
      livemode,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    const payload = JSON.stringify(event);
    const signature = signer.webhooks.generateTestHeaderString({ payload, secret: o.secret ?? webhookSecret, timestamp: created });
    return { event, payload, signature };
  }

  function buildWebhookRequest(
    type: CheckoutEventType,
    sessionId: string,
    o: { url?: string; timestamp?: number; secret?: string; eventId?: string } = {},
  ): Request {
    const { payload, signature } = signEvent(type, sessionId, o);
    const url = o.url ?? webhookUrl ?? "http://app.invalid/webhooks/stripe";
    return new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "stripe-signature": signature,
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      },
      body: payload,
    });
  }

  async function sendEvent(type: CheckoutEventType, sessionId: string): Promise<Response> {
    if (!webhookUrl) throw new Error("The Stripe stand-in has no webhookUrl to send events to");
    return fetch(buildWebhookRequest(type, sessionId));
  }

  function completeSession(id: string, o: { paymentStatus?: "paid" | "unpaid" } = {}): EmulatedCheckoutSession {
    const session = requireSession(id);
    session.status = "complete";
    session.payment_status = o.paymentStatus ?? "paid";
    session.payment_intent ??= newId("pi");
    if (session.payment_status === "paid") charge(session);
    return session;
  }

  function settleAsyncPayment(id: string, succeeded: boolean): EmulatedCheckoutSession {
    const session = requireSession(id);
    session.payment_status = succeeded ? "paid" : "unpaid";
    if (succeeded) charge(session);
    return session;
  }

  /** The session's payment becomes a succeeded charge (once). */
  function charge(session: EmulatedCheckoutSession): EmulatedCharge {
    let made = charges.get(session.id);
    if (!made) {
      made = {
        id: newId("ch"),
        object: "charge",
        amount: session.amount_total,
        amount_captured: session.amount_total,
        amount_refunded: 0,
        refunded: false,
        disputed: false,
        currency: session.currency,
        customer: session.customer,
        payment_intent: session.payment_intent!,
        livemode,
        // Checkout copies payment_intent_data.metadata to the PaymentIntent, not to this charge: the app must not need it.
        metadata: {},
        paid: true,
        status: "succeeded",
        created: now(),
      };
      charges.set(session.id, made);
    }
    return made;
  }

  function requireCharge(sessionId: string): EmulatedCharge {
    const made = charges.get(sessionId);
    if (!made) throw new Error(`checkout.session ${sessionId} has no charge (it was not paid)`);
    return made;
  }

  function requireDispute(sessionId: string): EmulatedDispute {
    const latest = disputes.get(sessionId)?.at(-1);
    if (!latest) throw new Error(`checkout.session ${sessionId} has no dispute`);
    return latest;
  }

  function refundSession(id: string, amount?: number): EmulatedCharge {
    const paid = requireCharge(id);
    const left = paid.amount - paid.amount_refunded;
    const refund = amount ?? left;
    if (!Number.isInteger(refund) || refund <= 0 || refund > left)
      throw new Error(`Refund amount (${refund}) is greater than unrefunded amount on charge (${left})`);
    paid.amount_refunded += refund;
    paid.refunded = paid.amount_refunded === paid.amount;
    return paid;
  }

  function disputeSession(id: string, amount?: number, o: { inquiry?: boolean } = {}): EmulatedDispute {
    const paid = requireCharge(id);
    paid.disputed = true;
    const dispute: EmulatedDispute = {
      id: newId("dp"),
      object: "dispute",
      amount: amount ?? paid.amount - paid.amount_refunded,
      charge: paid.id,
      currency: paid.currency,
      payment_intent: paid.payment_intent,
      livemode,
      metadata: {},
      reason: "fraudulent",
      status: o.inquiry ? "warning_needs_response" : "needs_response",
      is_charge_refundable: false,
      created: now(),
    };
    disputes.set(id, [...(disputes.get(id) ?? []), dispute]);
    return dispute;
  }

  function closeDispute(id: string, outcome: "won" | "lost"): EmulatedDispute {
    const dispute = requireDispute(id);
    dispute.status = dispute.status.startsWith("warning_") ? "warning_closed" : outcome;
    return dispute;
  }

  function expireSession(id: string): EmulatedCheckoutSession {
    const session = requireSession(id);
    session.status = "expired";
    session.url = null;
    return session;
  }

  // --- HTTP API -------------------------------------------------------------------------------

  async function handleApi(req: IncomingMessage, url: URL, body: string): Promise<{ status: number; body: unknown }> {
    const auth = req.headers.authorization ?? "";
    if (auth !== `Bearer ${secretKey}`) {
      return stripeError(401, "invalid_request_error", `Invalid API Key provided: ${maskKey(auth.replace(/^Bearer\s+/, ""))}`);
    }
    const params = req.method === "POST" ? parseStripeForm(body) : Object.fromEntries(url.searchParams);
    const path = url.pathname;
    let m: RegExpExecArray | null;

    if (req.method === "POST" && path === "/v1/customers") {
      const customer: EmulatedCustomer = {
        id: newId("cus"),
        object: "customer",
        created: now(),
        description: str(params.description),
        email: str(params.email),
        metadata: strRecord(params.metadata),
        livemode,
      };
      customers.set(customer.id, customer);
      return { status: 200, body: customer };
    }
    if (req.method === "GET" && (m = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      if (deletedCustomers.has(id)) return { status: 200, body: { id, object: "customer", deleted: true } };
      const customer = customers.get(id);
      return customer ? { status: 200, body: customer } : missing("customer", m[1]!);
    }
    if (req.method === "DELETE" && (m = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      // Stripe erases the customer's details; its payments stay (they are the seller's records).
      const id = decodeURIComponent(m[1]!);
      if (!customers.delete(id)) return missing("customer", m[1]!);
      deletedCustomers.add(id);
      return { status: 200, body: { id, object: "customer", deleted: true } };
    }
    if (req.method === "POST" && path === "/v1/checkout/sessions") return createSession(params);
    if (req.method === "GET" && (m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path))) {
      const session = sessions.get(decodeURIComponent(m[1]!));
      if (!session) return missing("checkout.session", m[1]!);
      const expand = url.searchParams.getAll("expand[]").concat(url.searchParams.getAll("expand[0]"));
      return {
        status: 200,
        body: expand.includes("line_items") ? { ...publicSession(session), line_items: lineItemList(session) } : publicSession(session),
      };
    }
    if (req.method === "GET" && (m = /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/.exec(path))) {
      const session = sessions.get(decodeURIComponent(m[1]!));
      return session ? { status: 200, body: lineItemList(session) } : missing("checkout.session", m[1]!);
    }
    return stripeError(404, "invalid_request_error", `Unrecognized request URL (${req.method}: ${path}).`);
  }

  function createSession(params: Record<string, FormValue>): { status: number; body: unknown } {
    const mode = str(params.mode);
    if (mode !== "payment") return stripeError(400, "invalid_request_error", "The stand-in supports mode=payment only.", "mode");
    const successUrl = str(params.success_url);
    if (!successUrl) return stripeError(400, "invalid_request_error", "Missing required param: success_url.", "success_url");
    const rawItems = Array.isArray(params.line_items) ? params.line_items : [];
    if (rawItems.length === 0) return stripeError(400, "invalid_request_error", "Missing required param: line_items.", "line_items");
    const items: EmulatedCheckoutSession["line_items_data"] = [];
    for (const [index, raw] of rawItems.entries()) {
      const item = (raw ?? {}) as Record<string, FormValue>;
      const quantity = Number(str(item.quantity) ?? "1");
      if (!Number.isInteger(quantity) || quantity < 1)
        return stripeError(400, "invalid_request_error", "Invalid quantity", `line_items[${index}][quantity]`);
      const priceId = str(item.price);
      if (priceId) {
        const price = prices[priceId];
        if (!price)
          return stripeError(
            400,
            "invalid_request_error",
            `No such price: '${priceId}'`,
            `line_items[${index}][price]`,
            "resource_missing",
          );
        items.push({
          description: price.productName,
          quantity,
          amount_total: price.unitAmount * quantity,
          currency: price.currency.toLowerCase(),
          price: priceId,
        });
        continue;
      }
      const data = (item.price_data ?? {}) as Record<string, FormValue>;
      const unitAmount = Number(str(data.unit_amount));
      const currency = str(data.currency);
      const product = (data.product_data ?? {}) as Record<string, FormValue>;
      if (!Number.isInteger(unitAmount) || unitAmount < 0 || !currency || !str(product.name)) {
        return stripeError(
          400,
          "invalid_request_error",
          "line_items need a price or price_data with currency, unit_amount and product_data.name",
          `line_items[${index}]`,
        );
      }
      items.push({
        description: str(product.name)!,
        quantity,
        amount_total: unitAmount * quantity,
        currency: currency.toLowerCase(),
        price: null,
      });
    }
    const customer = str(params.customer);
    if (customer && !customers.has(customer)) return missing("customer", customer);
    const total = items.reduce((sum, i) => sum + i.amount_total, 0);
    const id = `cs_test_${randomBytes(24).toString("hex")}`;
    const session: EmulatedCheckoutSession = {
      id,
      object: "checkout.session",
      amount_subtotal: total,
      amount_total: total,
      currency: items[0]!.currency,
      client_reference_id: str(params.client_reference_id),
      created: now(),
      customer: customer ?? null,
      expires_at: now() + 24 * 3600,
      livemode,
      metadata: strRecord(params.metadata),
      mode,
      payment_intent: null,
      payment_status: "unpaid",
      status: "open",
      success_url: successUrl,
      cancel_url: str(params.cancel_url),
      url: `${baseUrl}/checkout/pay/${id}`,
      line_items_data: items,
    };
    sessions.set(id, session);
    return { status: 200, body: publicSession(session) };
  }

  function lineItemList(session: EmulatedCheckoutSession) {
    return {
      object: "list",
      url: `/v1/checkout/sessions/${session.id}/line_items`,
      has_more: false,
      data: session.line_items_data.map((item, index) => ({
        id: `li_${session.id.slice(-8)}${index}`,
        object: "item",
        amount_subtotal: item.amount_total,
        amount_total: item.amount_total,
        currency: item.currency,
        description: item.description,
        quantity: item.quantity,
        price: item.price ? { id: item.price, object: "price" } : null,
      })),
    };
  }

  // --- Hosted checkout page (demo and browser tests) ------------------------------------------

  async function handlePage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const m = /^\/checkout\/(pay|cancel)\/([^/]+)$/.exec(url.pathname);
    if (!m) return false;
    const session = sessions.get(decodeURIComponent(m[2]!));
    if (!session) {
      res.writeHead(404, { "content-type": "text/plain" }).end("No such checkout session");
      return true;
    }
    if (req.method === "GET" && m[1] === "pay") {
      const amount = (session.amount_total / 100).toFixed(2);
      const description = escapeHtml(session.line_items_data.map((i) => i.description).join(", "));
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html>
<html><head><title>Checkout (Stripe stand-in)</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>Pay ${escapeHtml(session.currency.toUpperCase())} ${amount}</h1><p>${description}</p>
${
  session.status === "open"
    ? `<form method="post" action="/checkout/pay/${session.id}"><button type="submit" name="outcome" value="paid">Pay</button></form>
<form method="post" action="/checkout/cancel/${session.id}"><button type="submit">Cancel</button></form>`
    : `<p>This checkout session is ${session.status}.</p>`
}
</body></html>`);
      return true;
    }
    if (req.method === "POST" && m[1] === "pay" && session.status === "open") {
      completeSession(session.id, { paymentStatus: "paid" });
      if (webhookUrl) await sendEvent("checkout.session.completed", session.id).catch(() => undefined);
      res.writeHead(303, { location: (session.success_url ?? baseUrl).replace("{CHECKOUT_SESSION_ID}", session.id) }).end();
      return true;
    }
    if (req.method === "POST" && m[1] === "cancel") {
      res.writeHead(303, { location: session.cancel_url ?? baseUrl }).end();
      return true;
    }
    res.writeHead(409, { "content-type": "text/plain" }).end(`This checkout session is ${session.status}`);
    return true;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        try {
          if (await handlePage(req, res, url)) return;
          const body = Buffer.concat(chunks).toString("utf8");
          const idemKey = req.method === "POST" ? (req.headers["idempotency-key"] as string | undefined) : undefined;
          const cacheKey = idemKey ? `${url.pathname}\u0000${idemKey}` : undefined;
          const result = (cacheKey && idempotent.get(cacheKey)) || (await handleApi(req, url, body));
          if (cacheKey && result.status < 500) idempotent.set(cacheKey, result);
          log.push({ method: req.method ?? "GET", path: url.pathname, status: result.status });
          res.writeHead(result.status, { "content-type": "application/json", "request-id": newId("req"), "stripe-version": API_VERSION });
          res.end(JSON.stringify(result.body));
        } catch (error) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { type: "api_error", message: (error as Error).message } }));
        }
      })();
    });
  });
  outlastClientKeepAlive(server);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    secretKey,
    webhookSecret,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    sessions: () => [...sessions.values()],
    session: (id) => sessions.get(id),
    customers: () => [...customers.values()],
    requestLog: () => [...log],
    completeSession,
    settleAsyncPayment,
    expireSession,
    refundSession,
    disputeSession,
    closeDispute,
    signEvent,
    buildWebhookRequest,
    sendEvent,
  };
}

function str(value: FormValue | undefined): string | null {
  return typeof value === "string" ? value : null;
}

function strRecord(value: FormValue | undefined): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function stripeError(status: number, type: string, message: string, param?: string, code?: string) {
  return { status, body: { error: { type, message, ...(param ? { param } : {}), ...(code ? { code } : {}) } } };
}

function missing(kind: string, id: string) {
  return stripeError(404, "invalid_request_error", `No such ${kind}: '${decodeURIComponent(id)}'`, "id", "resource_missing");
}

function maskKey(key: string): string {
  return key.length > 8 ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : "****";
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
