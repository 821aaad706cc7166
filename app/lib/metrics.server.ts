import { createServer, type Server } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";

/**
 * One Prometheus registry per process, with the app's named metrics. The web process serves it at
 * /metrics (route `metrics.tsx`); the worker serves the same registry with `startMetricsServer(port)`.
 * Both answer only to `Authorization: Bearer <METRICS_TOKEN>`.
 *
 * Where to increment (owners of those files add the line):
 *   worker processor      jobDuration.observe({ pipeline, outcome }, seconds)
 *   qwen client           qwenLatency.observe({ outcome }, seconds); qwenErrors.inc({ code })
 *   Shopify throttling    shopifyThrottleWaits.inc(); shopifyThrottleWaitSeconds.observe(seconds)
 *   credits ledger        creditsMoved.inc({ kind: "reserved" | "captured" | "released" }, amount)
 *   purchases             purchases.inc({ provider, pack, status })
 *   queue depth           trackQueueDepth(queue) once, after creating the queue
 */
export const registry = new Registry();
registry.setDefaultLabels({ service: getConfig().SERVICE_NAME });
collectDefaultMetrics({ register: registry });

export const jobDuration = new Histogram({
  name: "imgapp_job_duration_seconds",
  help: "Time a worker spent on one image job, by pipeline and outcome",
  labelNames: ["pipeline", "outcome"] as const,
  buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
  registers: [registry],
});

export const qwenLatency = new Histogram({
  name: "imgapp_qwen_request_duration_seconds",
  help: "Latency of Qwen image-edit calls to DashScope, by outcome",
  labelNames: ["outcome"] as const,
  buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120],
  registers: [registry],
});

export const qwenErrors = new Counter({
  name: "imgapp_qwen_errors_total",
  help: "Qwen/DashScope errors by error code (e.g. Throttling.RateQuota, DataInspectionFailed, http_500)",
  labelNames: ["code"] as const,
  registers: [registry],
});

export const shopifyThrottleWaits = new Counter({
  name: "imgapp_shopify_throttle_waits_total",
  help: "Times a job was delayed because the Admin API answered THROTTLED or the bucket was low",
  registers: [registry],
});

export const shopifyThrottleWaitSeconds = new Histogram({
  name: "imgapp_shopify_throttle_wait_seconds",
  help: "How long jobs were delayed for Admin API throttling",
  buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
  registers: [registry],
});

export const creditsMoved = new Counter({
  name: "imgapp_credits_total",
  help: "Credits reserved, captured and released",
  labelNames: ["kind"] as const,
  registers: [registry],
});

export const purchases = new Counter({
  name: "imgapp_purchases_total",
  help: "Credit pack purchases by provider, pack and status",
  labelNames: ["provider", "pack", "status"] as const,
  registers: [registry],
});

export const webhooksReceived = new Counter({
  name: "imgapp_webhooks_total",
  help: "Webhook deliveries by topic and outcome (handled, duplicate)",
  labelNames: ["topic", "outcome"] as const,
  registers: [registry],
});

export const rateLimited = new Counter({
  name: "imgapp_rate_limited_total",
  help: "Requests refused with 429 by the per-shop rate limiter, by action",
  labelNames: ["action"] as const,
  registers: [registry],
});

/** What a BullMQ Queue offers for counting; typed structurally so this module needs no queue import. */
export interface JobCountSource {
  name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

export const JOB_STATES = ["waiting", "active", "delayed", "waiting-children", "completed", "failed"] as const;

const trackedQueues = new Map<string, JobCountSource>();

// Read at scrape time so the figure is always current and the worker needs no polling loop.
export const jobsByState = new Gauge({
  name: "imgapp_jobs",
  help: "Jobs in each BullMQ state, per queue",
  labelNames: ["queue", "state"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const queue of trackedQueues.values()) {
      try {
        const counts = await queue.getJobCounts(...JOB_STATES, "prioritized");
        // Every image job carries a fair-share priority, so BullMQ keeps them as "prioritized": to an operator they
        // are waiting for a worker like any other.
        for (const state of JOB_STATES) {
          this.set({ queue: queue.name, state }, (counts[state] ?? 0) + (state === "waiting" ? (counts.prioritized ?? 0) : 0));
        }
      } catch (error) {
        logger.warn({ err: error, queue: queue.name }, "could not read job counts for metrics");
      }
    }
  },
});

/** Report this queue's job counts in `imgapp_jobs`. Call once per queue (repeat calls replace). */
export function trackQueueDepth(queue: JobCountSource): void {
  trackedQueues.set(queue.name, queue);
}

export function untrackQueueDepth(queue: JobCountSource): void {
  trackedQueues.delete(queue.name);
}

function tokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether an Authorization header carries the operators' bearer token (METRICS_TOKEN); false when none is set. */
export function hasOperatorToken(authorization: string | null, token: string | undefined = getConfig().METRICS_TOKEN): boolean {
  const presented = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? "";
  return Boolean(token) && tokenMatches(presented, token!);
}

/**
 * The /metrics answer: 404 when METRICS_TOKEN is not configured (metrics are off), 401 without the
 * right bearer token, else the registry in Prometheus text format.
 */
export async function metricsResponse(
  authorization: string | null,
  token: string | undefined = getConfig().METRICS_TOKEN,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  if (!token) return { status: 404, headers: { "Content-Type": "text/plain" }, body: "Not found" };
  if (!hasOperatorToken(authorization, token)) {
    return {
      status: 401,
      headers: { "Content-Type": "text/plain", "WWW-Authenticate": 'Bearer realm="metrics"' },
      body: "Unauthorized",
    };
  }
  return {
    status: 200,
    headers: { "Content-Type": registry.contentType, "Cache-Control": "no-store" },
    body: await registry.metrics(),
  };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (same registry, same bearer token) on its own port; for the worker process.
 * Port 0 picks a free port; the chosen one is returned.
 */
export async function startMetricsServer(port: number, options: { host?: string; token?: string } = {}): Promise<MetricsServer> {
  const token = options.token ?? getConfig().METRICS_TOKEN;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
      return;
    }
    metricsResponse(req.headers.authorization ?? null, token)
      .then(({ status, headers, body }) => res.writeHead(status, headers).end(body))
      .catch((error: unknown) => {
        logger.error({ err: error }, "metrics scrape failed");
        res.writeHead(500, { "Content-Type": "text/plain" }).end("Metrics unavailable");
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, options.host ?? "0.0.0.0", () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  logger.info({ port: boundPort }, "metrics server listening");
  return {
    port: boundPort,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
