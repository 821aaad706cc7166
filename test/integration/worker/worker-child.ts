// A worker process for tests: the real worker.ts, with *.myshopify.com routed to the Shopify stand-in
// (SHOPIFY_EMULATOR_URL), as test/setup/env.ts does for in-process tests.
import { installEmulatorDispatcher } from "../../../emulators/dispatcher";

installEmulatorDispatcher();
const { runWorker } = await import("../../../worker");
const { stop } = await runWorker();
process.once("SIGTERM", () => void stop().then(() => process.exit(0)));
