/**
 * Runs the Stripe stand-in on its own (demo, browser tests):
 *   STRIPE_EMULATOR_PORT (default 12111), STRIPE_SECRET_KEY (default sk_test_emulator),
 *   STRIPE_WEBHOOK_SECRET (default whsec_emulator), SHOPIFY_APP_URL (events go to <it>/webhooks/stripe).
 * Point the app at it with STRIPE_API_URL=http://127.0.0.1:<port>.
 */
import { startStripeEmulator } from "./server";

const emulator = await startStripeEmulator({
  port: Number(process.env.STRIPE_EMULATOR_PORT ?? 12111),
  secretKey: process.env.STRIPE_SECRET_KEY || undefined,
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET || undefined,
  webhookUrl: process.env.SHOPIFY_APP_URL ? new URL("/webhooks/stripe", process.env.SHOPIFY_APP_URL).href : undefined,
});
console.log(`Stripe stand-in listening on ${emulator.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
