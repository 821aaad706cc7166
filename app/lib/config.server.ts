/**
 * Every environment variable the app and the worker read, declared once: its type, default, documentation and
 * whether it is a secret. `getConfig()` parses the whole environment on first use and keeps the result; the web
 * server and the worker call it at startup, so a wrong value stops the process there, naming the variable, rather
 * than failing deep inside a job. `.env.example` is rendered from these declarations (`npm run env:example`).
 *
 * No other file under app/ reads process.env (test/unit/architecture/env-reads.test.ts).
 */
import { z } from "zod";

export type EnvSource = Record<string, string | undefined>;

/** The queue of batches that name none (made before queues were named). */
export const DEFAULT_QUEUE_NAME = "image-edits";

interface Variable<Schema extends z.ZodTypeAny> {
  /** Parses the trimmed text (undefined when unset or empty, after the default is applied). */
  schema: Schema;
  /** The text used when the variable is unset or empty; `.env.example` shows it. */
  default?: string;
  /** What `.env.example` shows when there is no default. */
  example?: string;
  /** Shown commented out in `.env.example` (its default is derived from another variable). */
  commentedOut?: boolean;
  /** Comment lines above the variable in `.env.example`. */
  doc?: string;
  /** The logger redacts its value wherever it appears (a URL's password only); errors here never print any value. */
  secret?: boolean;
}

const variable = <Schema extends z.ZodTypeAny>(declaration: Variable<Schema>) => declaration;

// Each message follows the variable's name: "WORKER_CONCURRENCY must be a whole number >= 1".
const text = () => z.string().optional();
const wholeNumber = (min: number) =>
  z
    .string()
    .regex(/^-?\d+$/, `must be a whole number >= ${min}`)
    .transform(Number)
    .refine((value) => value >= min, `must be a whole number >= ${min}`);
const number = (min: number) =>
  z
    .string()
    .transform(Number)
    .refine((value) => Number.isFinite(value) && value >= min, `must be a number >= ${min}`);
const positiveNumber = () =>
  z
    .string()
    .transform(Number)
    .refine((value) => Number.isFinite(value) && value > 0, "must be a number > 0");
const boolean = () =>
  z
    .string()
    .transform((value) => value.toLowerCase())
    .refine((value) => value === "true" || value === "false", 'must be "true" or "false"')
    .transform((value) => value === "true");
const url = () => z.string().refine((value) => URL.canParse(value), "must be a URL with a scheme (https://…, redis://…, postgresql://…)");
/** Comma-separated; blanks dropped. */
const list = (opts: { lowerCase?: boolean } = {}) =>
  z
    .string()
    .optional()
    .transform((value) =>
      (value ?? "")
        .split(",")
        .map((item) => (opts.lowerCase ? item.trim().toLowerCase() : item.trim()))
        .filter(Boolean),
    );

/** One credit pack as CREDIT_PACKS lists it. */
export const creditPackSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "pack ids are lower-case words"),
  name: z.string().min(1).max(60),
  credits: z.number().int().positive(),
  priceCents: z.number().int().positive(),
  currency: z.string().length(3).default("USD"),
});
export type CreditPackInput = z.input<typeof creditPackSchema>;

const creditPacks = () =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: "must be a JSON array of { id, name, credits, priceCents, currency? }" });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .array(creditPackSchema, { message: "must be a JSON array of { id, name, credits, priceCents, currency? }" })
        .min(1, "must list at least one pack")
        .refine((packs) => new Set(packs.map((pack) => pack.id)).size === packs.length, "has two packs with the same id")
        .optional(),
    );

const sections = [
  {
    title: "Shopify app (Partner Dashboard; `shopify app dev` sets the first three)",
    variables: {
      SHOPIFY_API_KEY: variable({ schema: text() }),
      SHOPIFY_API_SECRET: variable({ schema: text(), secret: true }),
      SHOPIFY_APP_URL: variable({ schema: url().optional(), example: "https://your-tunnel.example.com" }),
      SCOPES: variable({ schema: text(), example: "read_products,write_products,write_files,read_locales" }),
      SHOP_CUSTOM_DOMAIN: variable({ schema: text(), doc: "A custom shop domain to accept besides *.myshopify.com (rarely needed)" }),
      OFFLINE_TOKEN_RENEW_BEFORE_MS: variable({
        schema: wholeNumber(1),
        default: "360000",
        doc: "Renew an expiring offline token when it has less than this many ms left (keep it above the library's 5 minutes)",
      }),
      SESSION_TOKEN_KEYS: variable({
        schema: text(),
        secret: true,
        doc:
          "Encrypt Shopify access/refresh tokens at rest: base64 32-byte keys (openssl rand -base64 32), comma-separated.\n" +
          "The first encrypts, all decrypt; to rotate put a new key first, run `npm run tokens:reencrypt`, then drop the old one.",
      }),
      EXTENSION_ORIGINS: variable({
        schema: list(),
        default: "https://extensions.shopifycdn.com",
        doc: "Origins allowed to call the admin action extension's JSON API, comma-separated (Shopify admin runs UI extensions there)",
      }),
    },
  },
  {
    title: "Services",
    variables: {
      NODE_ENV: variable({
        schema: text(),
        commentedOut: true,
        example: "production",
        doc: "Set by the tooling (npm start, vitest); production warns when SESSION_TOKEN_KEYS is unset",
      }),
      DATABASE_URL: variable({ schema: url(), default: "postgresql://postgres@127.0.0.1:5432/imgapp", secret: true }),
      REDIS_URL: variable({ schema: url(), default: "redis://127.0.0.1:6379", secret: true }),
      REDIS_CLUSTER_NODES: variable({
        schema: list(),
        secret: true,
        doc:
          "A Redis Cluster instead (cluster mode enabled): its seed nodes, host:port or redis:// / rediss:// URLs, comma-separated\n" +
          "(a managed cluster's configuration endpoint is enough; TLS and credentials from a rediss://user:password@ URL).\n" +
          "When set, every connection is a cluster client and REDIS_URL is not used.",
      }),
      LOG_LEVEL: variable({
        schema: z
          .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
            message: "must be one of fatal, error, warn, info, debug, trace, silent",
          })
          .optional(),
        example: "info",
        doc: "Unset: info (silent under NODE_ENV=test)",
      }),
      SERVICE_NAME: variable({ schema: z.string(), default: "app" }),
      METRICS_TOKEN: variable({
        schema: text(),
        secret: true,
        doc: "Bearer token for /metrics (unset: /metrics answers 404); the worker serves the same metrics on WORKER_METRICS_PORT (unset: off)",
      }),
      WORKER_METRICS_PORT: variable({ schema: wholeNumber(0).optional() }),
      COMPLIANCE_HASH_KEY: variable({
        schema: text(),
        secret: true,
        doc:
          "Key for the shop hash in privacy (compliance) records (unset: the app's secret). Changing it makes earlier\n" +
          "erasures unrecognisable, so a shop erased before would get welcome credits again.",
      }),
    },
  },
  {
    title: "Qwen image edit (DashScope)",
    variables: {
      DASHSCOPE_API_KEY: variable({ schema: text(), secret: true }),
      DASHSCOPE_BASE_URL: variable({
        schema: url(),
        default: "https://dashscope-intl.aliyuncs.com",
        doc: "Singapore by default; Beijing: https://dashscope.aliyuncs.com",
      }),
      QWEN_MODEL: variable({ schema: z.string(), default: "qwen-image-edit-plus" }),
      QWEN_VL_MODEL: variable({
        schema: z.string(),
        default: "qwen3-vl-flash",
        doc: "Suggests alt text for processed images (same key and endpoint).",
      }),
      QWEN_TIMEOUT_MS: variable({ schema: number(0), default: "120000" }),
      QWEN_MAX_RESULT_BYTES: variable({ schema: number(0), default: "31457280" }),
      QWEN_SEED: variable({ schema: number(0).optional() }),
      QWEN_MAX_RPS: variable({ schema: number(0), default: "2", doc: "Global Qwen requests per second across all workers (0 = no limit)" }),
    },
  },
  {
    title: "Credits and billing",
    variables: {
      CREDITS_PER_IMAGE: variable({ schema: wholeNumber(1), default: "3" }),
      WELCOME_CREDITS: variable({ schema: wholeNumber(0), default: "9" }),
      CREDIT_PACKS: variable({
        schema: creditPacks(),
        doc: 'JSON list overriding the packs: [{"id":"starter","name":"Starter","credits":30,"priceCents":999}, ...]',
      }),
      SHOPIFY_BILLING_TEST: variable({
        // Anything but true/false leaves Shopify billing off (the Credits page says so) rather than stopping the app.
        schema: z
          .string()
          .optional()
          .transform((value) => ({ true: true, false: false })[value?.toLowerCase() as "true" | "false"]),
        doc:
          "Must be set: true = Shopify test charges (development stores), false = real charges. Unset turns Shopify billing off.\n" +
          "Development stores are always sent test charges; a test charge credits only a development store.",
      }),
      DEV_STORE_TEST_CREDITS: variable({
        schema: wholeNumber(0),
        default: "30",
        doc: "What all of a development store's test charges may credit over its life (real edits we pay for)",
      }),
      STRIPE_SECRET_KEY: variable({
        schema: text(),
        secret: true,
        doc: "Stripe Checkout (custom-distribution installs only); unset = off. An sk_live_ key accepts live-mode payments only.",
      }),
      STRIPE_WEBHOOK_SECRET: variable({ schema: text(), secret: true }),
      // Any STRIPE_PRICE_<PACK ID> is read (stripePriceIds below); these are the default packs'.
      STRIPE_PRICE_STARTER: variable({ schema: text() }),
      STRIPE_PRICE_PRO: variable({ schema: text() }),
      STRIPE_PRICE_BUSINESS: variable({ schema: text() }),
      STRIPE_API_URL: variable({ schema: url().optional(), doc: "Only for a local Stripe stand-in, e.g. http://127.0.0.1:12111" }),
      SHOPIFY_PARTNER_ORG_ID: variable({
        schema: text(),
        doc:
          "Refunds of Shopify app charges (issued from the Partner Dashboard; Shopify sends no webhook): the worker reads them\n" +
          'from the Partner API when all three are set (a Partner API client with "View financials" access). Unset = off.',
      }),
      SHOPIFY_PARTNER_API_TOKEN: variable({ schema: text(), secret: true }),
      SHOPIFY_PARTNER_APP_ID: variable({ schema: text() }),
      SHOPIFY_REFUND_CHECK_INTERVAL_MS: variable({ schema: wholeNumber(1_000), default: "600000" }),
      SHOPIFY_PARTNER_API_URL: variable({
        schema: url(),
        default: "https://partners.shopify.com",
        doc: "Only for a local Partner API stand-in",
      }),
    },
  },
  {
    title: "Worker and queue",
    variables: {
      QUEUE_NAME: variable({ schema: z.string(), default: DEFAULT_QUEUE_NAME }),
      WORKER_CONCURRENCY: variable({
        schema: wholeNumber(1),
        default: "5",
        doc: "Qwen requests one worker keeps in flight; it works on WORKER_JOBS images at once (default twice that).",
      }),
      WORKER_JOBS: variable({ schema: wholeNumber(1).optional(), example: "10", commentedOut: true }),
      IMAGE_SLOTS: variable({
        schema: wholeNumber(1).optional(),
        example: "1",
        commentedOut: true,
        doc: "Images decoded/encoded at once per worker (default one per two cores)",
      }),
      MAX_IMAGES_PER_BATCH: variable({ schema: wholeNumber(1), default: "500" }),
      CATALOG_RUN_CHUNK: variable({
        schema: wholeNumber(1),
        default: "25",
        doc: "Images a whole-catalogue run adds (and reserves credits for) at a time.",
      }),
      CATALOG_BULK_POLL_MS: variable({
        schema: wholeNumber(100),
        default: "10000",
        commentedOut: true,
        doc: "How often a counting catalogue run reads its bulk operation: the fallback for a lost bulk_operations/finish.",
      }),
      CATALOG_RUN_TICK_MS: variable({
        schema: wholeNumber(50),
        default: "1000",
        commentedOut: true,
        doc: "How often a running catalogue run looks again at its chunk's progress before adding the next one.",
      }),
      JOB_ATTEMPTS: variable({ schema: wholeNumber(1), default: "8" }),
      JOB_BACKOFF_MS: variable({ schema: wholeNumber(1), default: "2000" }),
      WORKER_LOCK_MS: variable({ schema: wholeNumber(1_000), default: "30000" }),
      WORKER_STALLED_INTERVAL_MS: variable({ schema: wholeNumber(500), default: "30000" }),
      WORKER_SHUTDOWN_MS: variable({ schema: wholeNumber(0), default: "25000" }),
      SWEEP_INTERVAL_MS: variable({ schema: wholeNumber(100), default: "30000" }),
      FILE_READY_TIMEOUT_MS: variable({ schema: wholeNumber(100), default: "120000" }),
      FILE_READY_POLL_MS: variable({
        schema: wholeNumber(10),
        default: "250",
        commentedOut: true,
        doc: "How long to wait before reading again a file Shopify is still processing (1.5x longer each time, up to 2 s).",
      }),
    },
  },
  {
    title: "Image downloads (allow-listed)",
    variables: {
      ALLOWED_IMAGE_HOSTS: variable({
        schema: list({ lowerCase: true }),
        doc: "Extra hosts besides cdn.shopify.com and DashScope's result hosts",
      }),
      MAX_SOURCE_BYTES: variable({ schema: wholeNumber(1), default: "31457280" }),
      MAX_SOURCE_PIXELS: variable({ schema: wholeNumber(1), default: "50000000" }),
      SAFE_FETCH_TIMEOUT_MS: variable({ schema: wholeNumber(1), default: "30000" }),
      SAFE_FETCH_LOCAL_HOSTS: variable({
        schema: list({ lowerCase: true }),
        doc:
          "Private/loopback addresses and plain http are refused whatever NODE_ENV says. Exceptions, by configuration only:\n" +
          "hosts (host or host:port) of local stand-ins that may be fetched over http, e.g. 127.0.0.1:4010 ...",
      }),
      SAFE_FETCH_ALLOW_PRIVATE: variable({
        schema: boolean()
          .optional()
          .transform((value) => value ?? false),
        doc: '... or "true" to allow private addresses and http everywhere (never in production)',
      }),
    },
  },
  {
    title: "Local stand-ins (tests, demo, browser tests only; never in production)",
    variables: {
      // Read by emulators/dispatcher.ts (a separate program), declared here so .env.example lists it.
      SHOPIFY_EMULATOR_URL: variable({ schema: url().optional(), doc: "Routes https://<shop>.myshopify.com to this URL when set" }),
    },
  },
  {
    title: "Processed images",
    variables: {
      OBJECT_STORE: variable({
        schema: z.enum(["filesystem", "s3"], { message: 'must be "filesystem" or "s3"' }),
        default: "filesystem",
        doc: "filesystem (default; one machine) or s3 (AWS S3, or R2/MinIO with S3_ENDPOINT); credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",
      }),
      OBJECT_STORE_DIR: variable({ schema: z.string(), default: ".data/objects" }),
      S3_BUCKET: variable({ schema: text() }),
      S3_REGION: variable({ schema: z.string(), default: "us-east-1" }),
      S3_ENDPOINT: variable({ schema: url().optional() }),
      S3_FORCE_PATH_STYLE: variable({ schema: boolean().optional(), doc: "true for MinIO and other endpoints without bucket subdomains" }),
      RESULT_RETENTION_DAYS: variable({
        schema: positiveNumber(),
        default: "30",
        doc: "Days processed images stay downloadable (originals stay backed up in Shopify Files)",
      }),
    },
  },
] as const;

type Sections = (typeof sections)[number]["variables"];
type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void ? I : never;
type Declarations = UnionToIntersection<Sections>;

/** The parsed environment: one typed field per declared variable, plus the Stripe Price of each pack. */
export type Config = {
  readonly [Name in keyof Declarations]: Declarations[Name] extends Variable<infer Schema> ? z.output<Schema> : never;
} & {
  /** STRIPE_PRICE_<ID> values by <ID> (the pack id upper-cased, "-" as "_"). */
  readonly stripePriceIds: Readonly<Record<string, string>>;
};

const declarations: Record<string, Variable<z.ZodTypeAny>> = Object.assign({}, ...sections.map((section) => section.variables));

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration (fix the environment or .env, see .env.example):\n  ${problems.join("\n  ")}`);
  }
}

/** Parses every declared variable of `source`; throws a ConfigError naming each wrong one (never its value). */
export function parseEnv(source: EnvSource): Config {
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, declaration] of Object.entries(declarations)) {
    const raw = source[name]?.trim() || declaration.default;
    const result = declaration.schema.safeParse(raw);
    if (result.success) parsed[name] = result.data;
    else problems.push(...result.error.issues.map((issue) => describeIssue(name, issue)));
  }
  if (parsed.OBJECT_STORE === "s3" && !parsed.S3_BUCKET)
    problems.push("OBJECT_STORE=s3 needs S3_BUCKET (and S3_ENDPOINT for R2 or MinIO).");
  if (problems.length > 0) throw new ConfigError(problems);
  const stripePriceIds: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    const packKey = /^STRIPE_PRICE_([A-Z0-9_]+)$/.exec(name)?.[1];
    if (packKey && value?.trim()) stripePriceIds[packKey] = value.trim();
  }
  return Object.freeze({ ...parsed, stripePriceIds }) as Config;
}

function describeIssue(name: string, issue: z.ZodIssue): string {
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === "undefined") return `${name} must be set`;
  // Zod's own messages for nested values (a pack's fields) say what was expected, not what was given.
  if (issue.path.length > 0) return `${name} is invalid: ${issue.path.join(".")}: ${issue.message}`;
  return `${name} ${issue.message}`;
}

/** A variable's declared default, for code that also runs without the configuration (a client built by hand). */
export function declaredDefault(name: keyof Config): string {
  const fallback = declarations[name]?.default;
  if (fallback === undefined) throw new Error(`${name} has no default`);
  return fallback;
}

const secretsOf = new WeakMap<Config, string[]>();

/** The values of the variables declared secret, for the logger to redact wherever they appear. */
export function secretValues(config: Config = getConfig()): string[] {
  let secrets = secretsOf.get(config);
  if (!secrets) {
    secrets = Object.entries(declarations)
      .filter(([, declaration]) => declaration.secret)
      .flatMap(([name]) => (config as unknown as Record<string, string | string[] | undefined>)[name] ?? [])
      // A service URL is secret for its password; shorter strings would redact ordinary words.
      .map((value) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && URL.canParse(value) ? new URL(value).password : value))
      .filter((value) => value.length >= 6);
    secretsOf.set(config, secrets);
  }
  return secrets;
}

let cached: Config | undefined;

/** The process's configuration, parsed from process.env on first use. */
export function getConfig(): Config {
  return (cached ??= parseEnv(process.env));
}

/** Tests change variables between calls (test/setup/env.ts calls this on every change); a deployment never does. */
export function resetConfigForTests(): void {
  cached = undefined;
}

/** `.env.example`, rendered from the declarations above. */
export function renderEnvExample(): string {
  const lines = [
    "# Every setting the app and the worker read. Copy to .env for `shopify app dev`, `npm start`, `npm run worker`.",
    '# Values shown are the defaults; empty means "unset". Generated from app/lib/config.server.ts: `npm run env:example`.',
  ];
  for (const section of sections) {
    lines.push("", `# --- ${section.title} ---`);
    for (const [name, declaration] of Object.entries(section.variables) as Array<[string, Variable<z.ZodTypeAny>]>) {
      if (declaration.doc) lines.push(...declaration.doc.split("\n").map((line) => `# ${line}`));
      const value = declaration.default ?? declaration.example ?? "";
      lines.push(`${declaration.commentedOut ? "# " : ""}${name}=${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
