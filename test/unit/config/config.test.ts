import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, getConfig, parseEnv } from "~/lib/config.server";

/** The variables a `.env` copied from `.env.example` sets (empty ones included, as dotenv reads them). */
async function envExampleValues(): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const line of (await readFile(".env.example", "utf8")).split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

function problemsOf(env: Record<string, string>): string {
  try {
    parseEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("the configuration was accepted");
}

describe("the configuration", () => {
  it("starts with nothing set, on the documented defaults", () => {
    const config = parseEnv({});
    expect(config).toMatchObject({
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/imgapp",
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_CLUSTER_NODES: [],
      CREDITS_PER_IMAGE: 3,
      WELCOME_CREDITS: 9,
      WORKER_CONCURRENCY: 5,
      OBJECT_STORE: "filesystem",
      SAFE_FETCH_ALLOW_PRIVATE: false,
      SHOPIFY_BILLING_TEST: undefined,
    });
  });

  it("starts from a .env copied from .env.example, its empty values meaning unset", async () => {
    const values = await envExampleValues();
    expect(Object.keys(values).length).toBeGreaterThan(50);
    // Those three show an example, not a default (LOG_LEVEL's default is info, silent under tests).
    expect(parseEnv(values)).toEqual({
      ...parseEnv({}),
      SHOPIFY_APP_URL: values.SHOPIFY_APP_URL,
      SCOPES: values.SCOPES,
      LOG_LEVEL: "info",
    });
  });

  it("names every wrong variable at once and what it expects", () => {
    const message = problemsOf({ WORKER_CONCURRENCY: "many", JOB_ATTEMPTS: "0", OBJECT_STORE: "gcs", SAFE_FETCH_ALLOW_PRIVATE: "yes" });
    expect(message).toContain("WORKER_CONCURRENCY must be a whole number >= 1");
    expect(message).toContain("JOB_ATTEMPTS must be a whole number >= 1");
    expect(message).toContain('OBJECT_STORE must be "filesystem" or "s3"');
    expect(message).toContain('SAFE_FETCH_ALLOW_PRIVATE must be "true" or "false"');
  });

  it("refuses settings that only make sense together", () => {
    expect(problemsOf({ OBJECT_STORE: "s3" })).toContain("OBJECT_STORE=s3 needs S3_BUCKET");
  });

  it("never prints a value, so a secret in the wrong variable or a mistyped URL stays out of the logs", () => {
    const message = problemsOf({
      DATABASE_URL: "postgres//admin:hunter2@db",
      REDIS_URL: "hunter2",
      WORKER_CONCURRENCY: "hunter2",
      STRIPE_API_URL: "sk_live_hunter2",
    });
    expect(message).toMatch(/DATABASE_URL/);
    expect(message).toMatch(/REDIS_URL/);
    expect(message).toMatch(/STRIPE_API_URL/);
    expect(message).not.toContain("hunter2");
  });

  it("reads the Stripe Price of any pack, including packs CREDIT_PACKS adds", () => {
    const config = parseEnv({ STRIPE_PRICE_STARTER: " price_1 ", STRIPE_PRICE_HOLIDAY_SALE: "price_2", STRIPE_PRICE_PRO: "" });
    expect(config.stripePriceIds).toEqual({ STARTER: "price_1", HOLIDAY_SALE: "price_2" });
  });
});

describe("the process's configuration", () => {
  const saved = process.env.WORKER_CONCURRENCY;
  afterEach(() => {
    if (saved === undefined) delete process.env.WORKER_CONCURRENCY;
    else process.env.WORKER_CONCURRENCY = saved;
  });

  it("is parsed once and kept", () => {
    expect(getConfig()).toBe(getConfig());
  });

  it("follows a variable a test changes (the test setup watches process.env)", () => {
    process.env.WORKER_CONCURRENCY = "7";
    expect(getConfig().WORKER_CONCURRENCY).toBe(7);
    delete process.env.WORKER_CONCURRENCY;
    expect(getConfig().WORKER_CONCURRENCY).toBe(5);
  });
});
