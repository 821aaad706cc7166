import type { LoaderFunctionArgs } from "@remix-run/node";
import db from "~/db.server";
import { getConfig } from "~/lib/config.server";
import { hasOperatorToken } from "~/lib/metrics.server";
import { getQueue } from "~/queue/queue.server";

/**
 * GET /healthz?probe=live  liveness: the process answers (touches nothing else).
 * GET /healthz             readiness: database and Redis; 503 when a dependency is down.
 * Anyone may ask, so anyone gets only `{ status }`. The details (each check's time and error, the queue's name and
 * depth, which remote services are configured, as booleans) go only to a caller with the operators' bearer token
 * (METRICS_TOKEN): they tell an attacker what the app runs on and how busy it is.
 */
const CHECK_TIMEOUT_MS = 2_000;

type Check = { ok: true; ms: number } | { ok: false; ms: number; error: string };

async function timed(run: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    // The message only, never connection strings: a Redis or Postgres error can quote its URL.
    const message = error instanceof Error ? error.message.replace(/\w+:\/\/\S+/g, "[url]") : "failed";
    return { ok: false, ms: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

function configuredServices() {
  const config = getConfig();
  return {
    shopify: Boolean(config.SHOPIFY_API_KEY && config.SHOPIFY_API_SECRET),
    dashscope: Boolean(config.DASHSCOPE_API_KEY),
    stripe: Boolean(config.STRIPE_SECRET_KEY && config.STRIPE_WEBHOOK_SECRET),
    metrics: Boolean(config.METRICS_TOKEN),
  };
}

const noStore = { "Cache-Control": "no-store" };

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const probe = new URL(request.url).searchParams.get("probe");
  const operator = hasOperatorToken(request.headers.get("authorization"));
  if (probe === "live") {
    return Response.json(
      operator ? { status: "ok", uptimeSeconds: Math.round(process.uptime()), services: configuredServices() } : { status: "ok" },
      { headers: noStore },
    );
  }

  const queue = getQueue();
  let depth: Record<string, number> = {};
  const [database, redis] = await Promise.all([
    timed(() => db.$queryRaw`SELECT 1`),
    // Reading the queue's counts is the Redis round trip that matters to the app.
    timed(async () => {
      depth = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed");
    }),
  ]);
  const ready = database.ok && redis.ok;
  const status = ready ? "ok" : "unavailable";
  return Response.json(
    operator ? { status, checks: { database, redis, queue: { name: queue.name, depth } }, services: configuredServices() } : { status },
    { status: ready ? 200 : 503, headers: noStore },
  );
};
