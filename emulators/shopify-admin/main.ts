// Runs the Shopify Admin stand-in on its own for the demo and browser tests:
//   SHOPIFY_EMULATOR_PORT=4010 SHOPIFY_API_KEY=... SHOPIFY_API_SECRET=... SHOPIFY_APP_URL=... EMULATOR_SHOP=demo.myshopify.com npx tsx emulators/shopify-admin/main.ts
import { startShopifyEmulator } from "./server";

const apiKey = process.env.SHOPIFY_API_KEY;
const apiSecret = process.env.SHOPIFY_API_SECRET;
if (!apiKey || !apiSecret) {
  console.error("Set SHOPIFY_API_KEY and SHOPIFY_API_SECRET (the app's credentials) to start the Shopify stand-in.");
  process.exit(1);
}
const shop = process.env.EMULATOR_SHOP ?? "demo-store.myshopify.com";
const products = Number(process.env.EMULATOR_PRODUCTS ?? 24);

const emulator = await startShopifyEmulator({
  apiKey,
  apiSecret,
  appUrl: process.env.SHOPIFY_APP_URL,
  port: Number(process.env.SHOPIFY_EMULATOR_PORT ?? 0),
  fileReadyDelayMs: process.env.EMULATOR_FILE_READY_DELAY_MS ? Number(process.env.EMULATOR_FILE_READY_DELAY_MS) : undefined,
  bucketSize: process.env.EMULATOR_BUCKET_SIZE ? Number(process.env.EMULATOR_BUCKET_SIZE) : undefined,
  restoreRate: process.env.EMULATOR_RESTORE_RATE ? Number(process.env.EMULATOR_RESTORE_RATE) : undefined,
  scopes: process.env.SCOPES,
});
emulator.addShop(shop, { products });
console.log(JSON.stringify({ service: "shopify-emulator", url: emulator.url, shop, products }));

const stop = () => {
  void emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
