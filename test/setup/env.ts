// Runs in every test worker before any test module is imported: configuration for tests and
// the fetch dispatcher that sends *.myshopify.com traffic to the Shopify stand-in.
// shopify-api captures globalThis.fetch on import, so this must come first.
import path from "node:path";
import { resetConfigForTests } from "../../app/lib/config.server";
import { installEmulatorDispatcher } from "../../emulators/dispatcher";
import { TEST_REDIS_URL, testDatabaseUrl } from "./urls";

process.env.NODE_ENV = "test";
process.env.DATABASE_URL = testDatabaseUrl();
process.env.REDIS_URL = TEST_REDIS_URL;
// The tests' Redis, even in a shell set up for a cluster (the cluster test starts and names its own).
delete process.env.REDIS_CLUSTER_NODES;
process.env.SHOPIFY_API_KEY ??= "test-api-key";
process.env.SHOPIFY_API_SECRET ??= "test-api-secret";
process.env.SHOPIFY_APP_URL ??= "https://app.example.test";
process.env.SCOPES ??= "read_products,write_products,write_files,read_locales";
process.env.LOG_LEVEL ??= "silent";
// The Shopify stand-in processes a file in tens of milliseconds where Shopify takes seconds: reading it again after
// the production default's 250 ms would leave each image waiting twice (backup, replacement) for nothing.
process.env.FILE_READY_POLL_MS ??= "20";
// One folder for processed images across every test process and worker child: they share one database.
process.env.OBJECT_STORE_DIR ??= path.resolve("test-artifacts/objects");
// The production download policy, with the local stand-ins (all on 127.0.0.1) named as the only exception;
// suites that start stand-ins narrow it to their host:port.
process.env.SAFE_FETCH_LOCAL_HOSTS ??= "127.0.0.1";

// The app parses its configuration once; tests change variables between cases (a Stripe key for one test, then
// none), so any change makes the next read parse the environment again. The watch is installed once per process
// and calls the reset of the current test file's module instance.
const RESET_CONFIG = Symbol.for("imgapp.resetConfigOnEnvChange");
const holder = globalThis as { [RESET_CONFIG]?: () => void };
if (!holder[RESET_CONFIG]) {
  process.env = new Proxy(process.env, {
    set(env, name, value) {
      holder[RESET_CONFIG]?.();
      return Reflect.set(env, name, value);
    },
    deleteProperty(env, name) {
      holder[RESET_CONFIG]?.();
      return Reflect.deleteProperty(env, name);
    },
  });
}
holder[RESET_CONFIG] = resetConfigForTests;
resetConfigForTests();

installEmulatorDispatcher();
