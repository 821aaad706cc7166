import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { jobDuration, startMetricsServer } from "~/lib/metrics.server";
import { closeQueues, enqueueItems, getQueue } from "~/queue/queue.server";
import { loader as healthz } from "~/routes/healthz";
import { loader as metrics } from "~/routes/metrics";

const queueName = `test-${randomUUID()}`;
const TOKEN = `metrics-${randomUUID()}`;
const saved = { ...process.env };

beforeAll(() => {
  process.env.QUEUE_NAME = queueName;
});
afterEach(() => {
  for (const name of ["METRICS_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "DASHSCOPE_API_KEY", "REDIS_URL", "QUEUE_NAME"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  process.env.QUEUE_NAME = queueName;
});
afterAll(async () => {
  await getQueue(queueName).obliterate({ force: true });
  await closeQueues();
});

async function get(loader: typeof healthz, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return (await loader({
    request: new Request(new URL(path, process.env.SHOPIFY_APP_URL), { headers }),
    params: {},
    context: {},
  })) as Response;
}

describe("/metrics", () => {
  it("is off (404) without METRICS_TOKEN and refuses a missing or wrong bearer token", async () => {
    delete process.env.METRICS_TOKEN;
    expect((await get(metrics, "/metrics", { Authorization: "Bearer anything" })).status).toBe(404);
    process.env.METRICS_TOKEN = TOKEN;
    expect((await get(metrics, "/metrics")).status).toBe(401);
    expect((await get(metrics, "/metrics", { Authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await get(metrics, "/metrics", { Authorization: TOKEN })).status).toBe(401);
  });

  it("serves the named metrics in Prometheus format, with live job counts by state", async () => {
    process.env.METRICS_TOKEN = TOKEN;
    await enqueueItems(getQueue(queueName), [
      { id: randomUUID(), shop: "shop-metrics.myshopify.com" },
      { id: randomUUID(), shop: "shop-metrics.myshopify.com" },
    ]);
    jobDuration.observe({ pipeline: "amazon", outcome: "published" }, 4.2);
    const response = await get(metrics, "/metrics", { Authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain(`imgapp_jobs{queue="${queueName}",state="waiting"`);
    expect(text).toMatch(new RegExp(`imgapp_jobs\\{queue="${queueName}",state="waiting"[^}]*\\} 2`));
    for (const name of [
      "imgapp_job_duration_seconds_bucket",
      "imgapp_qwen_request_duration_seconds",
      "imgapp_qwen_errors_total",
      "imgapp_shopify_throttle_waits_total",
      "imgapp_credits_total",
      "imgapp_purchases_total",
      "process_cpu_seconds_total",
    ]) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain(TOKEN);
  });

  it("is served on the worker's own port by startMetricsServer, behind the same token", async () => {
    const server = await startMetricsServer(0, { host: "127.0.0.1", token: TOKEN });
    try {
      const url = `http://127.0.0.1:${server.port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const ok = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("imgapp_job_duration_seconds");
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("/healthz", () => {
  it("answers liveness without touching dependencies", async () => {
    process.env.REDIS_URL = "redis://127.0.0.1:1";
    const response = await get(healthz, "/healthz?probe=live");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  it("reports readiness of the database, Redis and the queue depth, and which services are configured but never their secrets", async () => {
    process.env.STRIPE_SECRET_KEY = "sk_test_do_not_print_me";
    process.env.STRIPE_WEBHOOK_SECRET = "whsec_do_not_print_me";
    delete process.env.DASHSCOPE_API_KEY;
    process.env.METRICS_TOKEN = TOKEN;
    const response = await get(healthz, "/healthz", { Authorization: `Bearer ${TOKEN}` });
    const text = await response.text();
    expect(response.status).toBe(200);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: "ok",
      checks: { database: { ok: true }, redis: { ok: true }, queue: { name: queueName, depth: { waiting: expect.any(Number) } } },
      services: { shopify: true, stripe: true, dashscope: false },
    });
    expect(text).not.toContain("do_not_print_me");
    expect(text).not.toContain(process.env.SHOPIFY_API_SECRET!);
  });

  it("tells a caller without the operators' token only whether the app is ready", async () => {
    process.env.METRICS_TOKEN = TOKEN;
    process.env.STRIPE_SECRET_KEY = "sk_test_configured";
    for (const headers of [{}, { Authorization: `Bearer ${TOKEN}x` }] as Array<Record<string, string>>) {
      const ready = await get(healthz, "/healthz", headers);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ok" });
      expect(await (await get(healthz, "/healthz?probe=live", headers)).json()).toEqual({ status: "ok" });
    }
    process.env.REDIS_URL = "redis://127.0.0.1:1";
    process.env.QUEUE_NAME = `test-${randomUUID()}`;
    getQueue().on("error", () => undefined);
    const down = await get(healthz, "/healthz");
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "unavailable" });
  });

  it("answers 503 when Redis cannot be reached, without quoting its address", async () => {
    process.env.REDIS_URL = "redis://:hunter2@127.0.0.1:1";
    process.env.QUEUE_NAME = `test-${randomUUID()}`;
    getQueue().on("error", () => undefined); // the unreachable Redis is the point; keep its reconnect noise quiet
    process.env.METRICS_TOKEN = TOKEN;
    const response = await get(healthz, "/healthz", { Authorization: `Bearer ${TOKEN}` });
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ status: "unavailable", checks: { database: { ok: true }, redis: { ok: false } } });
    expect(text).not.toContain("hunter2");
  });
});
