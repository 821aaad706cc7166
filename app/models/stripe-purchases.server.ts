import { randomUUID } from "node:crypto";
import type { PrismaClient, PurchaseStatus } from "@prisma/client";
import type Stripe from "stripe";
import { logger } from "~/lib/logger.server";
import { LEDGER_TX_OPTIONS } from "./credit-ledger.server";
import { findCreditPack } from "./packs.server";
import { type ReversalChange, type ReversalWhy, applyReversal, withLockedPurchase } from "./purchase-reversals.server";
import { type PurchaseSummary, PurchaseProviderError, lockPurchase, requirePack, settlePurchase, summarize } from "./purchases.server";
import { verifyStripeEvent } from "./stripe.server";

// ---------------------------------------------------------------------------------------------
// Stripe Checkout
// ---------------------------------------------------------------------------------------------

/** Creates a Checkout Session in payment mode, records it PENDING, and returns Stripe's hosted page URL. */
export async function createStripeCheckout(
  deps: { db: PrismaClient; stripe: Stripe },
  shop: string,
  input: { packId: string; successUrl: string; cancelUrl: string },
): Promise<{ purchaseId: string; checkoutUrl: string }> {
  const pack = requirePack(input.packId);
  const customer = await ensureStripeCustomer(deps, shop);
  const purchaseId = randomUUID();
  const metadata = { shop, pack: pack.id, credits: String(pack.credits), purchaseId };
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.create(
      {
        mode: "payment",
        customer,
        client_reference_id: purchaseId,
        metadata,
        payment_intent_data: { metadata },
        line_items: [
          pack.stripePriceId
            ? { price: pack.stripePriceId, quantity: 1 }
            : {
                quantity: 1,
                price_data: {
                  currency: pack.currency.toLowerCase(),
                  unit_amount: pack.priceCents,
                  product_data: { name: `${pack.name} pack`, description: `${pack.credits} image credits` },
                },
              },
        ],
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
      },
      { idempotencyKey: `checkout:${purchaseId}` },
    );
  } catch (error) {
    logger.error({ shop, err: stripeErrorSummary(error) }, "stripe checkout.sessions.create failed");
    throw new PurchaseProviderError("Stripe could not start the checkout. Please try again in a minute.", {
      cause: error,
      merchant: { code: "stripeCheckoutFailed" },
    });
  }
  if (!session.url)
    throw new PurchaseProviderError("Stripe did not return a checkout page. Please try again.", {
      merchant: { code: "stripeNoCheckoutPage" },
    });
  await deps.db.purchase.create({
    data: {
      id: purchaseId,
      shop,
      provider: "STRIPE",
      externalId: session.id,
      pack: pack.id,
      credits: pack.credits,
      amountCents: session.amount_total ?? pack.priceCents,
      currency: (session.currency ?? pack.currency).toUpperCase(),
      status: "PENDING",
      test: session.livemode === false,
    },
  });
  logger.info({ shop, purchaseId, externalId: session.id, pack: pack.id }, "stripe checkout created");
  return { purchaseId, checkoutUrl: session.url };
}

/** One Stripe customer per shop, stored on the Shop row. */
async function ensureStripeCustomer(deps: { db: PrismaClient; stripe: Stripe }, shop: string): Promise<string> {
  const row = await deps.db.shop.findUnique({ where: { domain: shop }, select: { stripeCustomerId: true } });
  if (row?.stripeCustomerId) return row.stripeCustomerId;
  let customer: Stripe.Customer;
  try {
    // Stripe's idempotency key makes two concurrent first purchases of one shop get the same customer.
    customer = await deps.stripe.customers.create({ description: shop, metadata: { shop } }, { idempotencyKey: `customer:${shop}` });
  } catch (error) {
    logger.error({ shop, err: stripeErrorSummary(error) }, "stripe customers.create failed");
    throw new PurchaseProviderError("Stripe could not start the checkout. Please try again in a minute.", {
      cause: error,
      merchant: { code: "stripeCheckoutFailed" },
    });
  }
  await deps.db.shop.upsert({
    where: { domain: shop },
    create: { domain: shop, stripeCustomerId: customer.id },
    update: {},
  });
  await deps.db.shop.updateMany({ where: { domain: shop, stripeCustomerId: null }, data: { stripeCustomerId: customer.id } });
  const stored = await deps.db.shop.findUnique({ where: { domain: shop }, select: { stripeCustomerId: true } });
  return stored?.stripeCustomerId ?? customer.id;
}

/**
 * Erases the shop's Stripe customer (shop/redact). Stripe keeps the payments, which are our accounting records; the
 * customer, whose description and metadata name the shop, goes. Already gone counts as done.
 */
export async function eraseStripeCustomer(stripe: Stripe, customerId: string): Promise<void> {
  try {
    await stripe.customers.del(customerId);
  } catch (error) {
    if ((error as { code?: string }).code === "resource_missing") return;
    logger.error({ customerId, err: stripeErrorSummary(error) }, "stripe customers.del failed");
    throw error;
  }
}

export type StripeEventOutcome = "granted" | "already-granted" | "recorded" | "reversed" | "reinstated" | "already-reversed" | "ignored";

/** The webhook: verify, then handle. Throws StripeSignatureError (answer 400) when the signature, body or age is wrong. */
export async function handleStripeWebhook(
  deps: { db: PrismaClient; stripe: Stripe; webhookSecret: string; livemode: boolean },
  rawBody: string,
  signature: string | null,
): Promise<{ eventId: string; type: string; outcome: StripeEventOutcome }> {
  const event = verifyStripeEvent(deps.stripe, rawBody, signature, deps.webhookSecret);
  const outcome = await processStripeEvent(deps.db, event, deps.livemode);
  logger.info({ eventId: event.id, type: event.type, outcome }, "stripe event handled");
  return { eventId: event.id, type: event.type, outcome };
}

/** Handles a verified event. Fulfilment is keyed on the Checkout Session id, so every event for one session grants at most once. */
async function processStripeEvent(db: PrismaClient, event: Stripe.Event, livemode: boolean): Promise<StripeEventOutcome> {
  if (event.livemode !== livemode) {
    // A test-mode payment costs nobody anything: it must never credit a live deployment (nor the reverse).
    logger.error({ eventId: event.id, type: event.type, eventLivemode: event.livemode }, "stripe event from the other mode ignored");
    return "ignored";
  }
  switch (event.type) {
    case "checkout.session.completed": {
      const session = event.data.object;
      return applyStripeSession(db, session, session.payment_status === "paid" ? "ACTIVE" : "PENDING");
    }
    case "checkout.session.async_payment_succeeded":
      return applyStripeSession(db, event.data.object, "ACTIVE");
    case "checkout.session.async_payment_failed":
      return applyStripeSession(db, event.data.object, "FAILED");
    case "checkout.session.expired":
      return applyStripeSession(db, event.data.object, "EXPIRED");
    case "charge.refunded": {
      const charge = event.data.object;
      return settleStripeReversal(db, {
        paymentIntent: charge.payment_intent,
        change: { refunded: { amount: charge.amount_refunded, of: charge.amount } },
        why: "refunded",
        eventKey: charge.id,
      });
    }
    case "charge.dispute.created": {
      const dispute = event.data.object;
      // An inquiry (warning_needs_response) withdraws no money: nothing to take back yet.
      if (dispute.status.startsWith("warning_")) return "ignored";
      return settleStripeReversal(db, {
        paymentIntent: dispute.payment_intent,
        change: { disputed: { amount: dispute.amount, of: null } },
        why: "disputed",
        eventKey: dispute.id,
      });
    }
    case "charge.dispute.closed": {
      const dispute = event.data.object;
      // Won: the bank returns the money, so the dispute's credits come back. Lost: they stay taken.
      if (dispute.status !== "won") return "ignored";
      return settleStripeReversal(db, {
        paymentIntent: dispute.payment_intent,
        change: { disputed: null },
        why: "dispute won",
        eventKey: dispute.id,
      });
    }
    default:
      logger.debug({ type: event.type, eventId: event.id }, "stripe event acknowledged without action");
      return "ignored";
  }
}

/**
 * Stripe's success URL: reads the session back from Stripe and fulfils it if paid, so credits show
 * at once even if the webhook is late. Returns null when the session is not this shop's.
 */
export async function confirmStripeCheckout(
  deps: { db: PrismaClient; stripe: Stripe; livemode: boolean },
  shop: string,
  sessionId: string,
): Promise<PurchaseSummary | null> {
  if (!/^cs_[A-Za-z0-9_]{1,250}$/.test(sessionId)) return null;
  const recorded = await deps.db.purchase.findFirst({ where: { shop, provider: "STRIPE", externalId: sessionId } });
  if (!recorded) return null;
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.retrieve(sessionId);
  } catch (error) {
    logger.error({ shop, err: stripeErrorSummary(error) }, "stripe checkout.sessions.retrieve failed");
    return summarize(recorded);
  }
  if (session.metadata?.shop !== shop) return null;
  if (session.livemode !== deps.livemode) {
    logger.error({ shop, sessionId }, "stripe session from the other mode: not credited");
    return summarize(recorded);
  }
  const status: PurchaseStatus = session.payment_status === "paid" ? "ACTIVE" : session.status === "expired" ? "EXPIRED" : "PENDING";
  await applyStripeSession(deps.db, session, status);
  const purchase = await deps.db.purchase.findFirst({ where: { shop, externalId: sessionId } });
  return purchase ? summarize(purchase) : null;
}

async function applyStripeSession(db: PrismaClient, session: Stripe.Checkout.Session, status: PurchaseStatus): Promise<StripeEventOutcome> {
  const shop = session.metadata?.shop;
  if (!shop) {
    logger.warn({ sessionId: session.id }, "stripe session without shop metadata (not created by this app): ignored");
    return "ignored";
  }
  return db.$transaction(async (tx) => {
    const existing = await tx.purchase.findUnique({ where: { externalId: session.id } });
    if (!existing) {
      // The session was created but its row was not written (or was erased): record it from the signed event, with
      // the credits and price of the pack it names (never metadata.credits); the amount paid is checked against
      // that price when it is settled.
      const pack = findCreditPack(session.metadata?.pack ?? "");
      if (!pack) logger.error({ shop, sessionId: session.id, pack: session.metadata?.pack }, "stripe purchase for an unknown pack");
      await tx.purchase.upsert({
        where: { externalId: session.id },
        update: {},
        create: {
          shop,
          provider: "STRIPE",
          externalId: session.id,
          pack: pack?.id ?? "unknown",
          credits: pack?.credits ?? 0,
          amountCents: pack?.priceCents ?? 0,
          currency: pack?.currency ?? "USD",
          status: "PENDING",
          test: session.livemode === false,
        },
      });
    }
    const purchase = await lockPurchase(tx, session.id);
    if (purchase.shop !== shop || purchase.provider !== "STRIPE") {
      logger.error({ shop, owner: purchase.shop, sessionId: session.id }, "stripe session for another shop ignored");
      return "ignored";
    }
    const paymentIntentId = typeof session.payment_intent === "string" ? session.payment_intent : (session.payment_intent?.id ?? null);
    if (paymentIntentId && purchase.paymentIntentId !== paymentIntentId) {
      await tx.purchase.update({ where: { id: purchase.id }, data: { paymentIntentId } });
    }
    const { granted } = await settlePurchase(tx, purchase, status, `stripe-session:${session.id}`, {
      amountCents: session.amount_total ?? 0,
      currency: session.currency ?? "",
    });
    if (granted) return "granted";
    if (status === "ACTIVE") return "already-granted";
    return "recorded";
  }, LEDGER_TX_OPTIONS);
}

/** A Stripe refund or dispute, applied to the purchase its PaymentIntent names (see purchase-reversals.server.ts). */
async function settleStripeReversal(
  db: PrismaClient,
  input: { paymentIntent: string | Stripe.PaymentIntent | null; change: ReversalChange; why: ReversalWhy; eventKey: string },
): Promise<StripeEventOutcome> {
  const paymentIntentId = typeof input.paymentIntent === "string" ? input.paymentIntent : (input.paymentIntent?.id ?? null);
  if (!paymentIntentId) return "ignored";
  const outcome = await withLockedPurchase(db, { paymentIntentId }, (tx, purchase) => applyReversal(tx, purchase, input));
  if (outcome === null) {
    logger.error({ paymentIntentId, why: input.why }, "stripe payment taken back for a purchase this app did not record: adjust by hand");
    return "ignored";
  }
  return outcome;
}

function stripeErrorSummary(error: unknown): { type?: string; code?: string; message: string } {
  const e = error as { type?: string; code?: string; message?: string };
  return { type: e?.type, code: e?.code, message: e?.message ?? String(error) };
}
