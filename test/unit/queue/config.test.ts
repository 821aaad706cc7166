import { describe, expect, it } from "vitest";
import { parseEnv } from "~/lib/config.server";
import { queueConfigFromEnv } from "~/queue/config.server";

const env = (vars: Record<string, string>) => parseEnv(vars);

describe("queueConfigFromEnv", () => {
  it("uses the documented defaults", () => {
    const config = queueConfigFromEnv(env({}));
    expect(config).toMatchObject({
      queueName: "image-edits",
      concurrency: 5,
      qwenMaxRps: 2,
      maxImagesPerBatch: 500,
      allowedImageHosts: ["cdn.shopify.com"],
      sweepIntervalMs: 30_000,
    });
  });

  it("works on twice as many images as it keeps model requests in flight, never fewer", () => {
    expect(queueConfigFromEnv(env({ WORKER_CONCURRENCY: "10" })).jobsPerWorker).toBe(20);
    expect(queueConfigFromEnv(env({ WORKER_CONCURRENCY: "10", WORKER_JOBS: "30" })).jobsPerWorker).toBe(30);
    expect(queueConfigFromEnv(env({ WORKER_CONCURRENCY: "10", WORKER_JOBS: "4" })).jobsPerWorker).toBe(10);
  });

  it("adds configured image hosts to Shopify's CDN", () => {
    const config = queueConfigFromEnv(env({ ALLOWED_IMAGE_HOSTS: " 127.0.0.1 , Images.Example.test" }));
    expect(config.allowedImageHosts).toEqual(["cdn.shopify.com", "127.0.0.1", "images.example.test"]);
  });

  it("talks to one Redis at REDIS_URL unless REDIS_CLUSTER_NODES names a cluster's nodes", () => {
    expect(queueConfigFromEnv(env({})).redis).toEqual({ url: "redis://127.0.0.1:6379" });
    expect(queueConfigFromEnv(env({ REDIS_URL: "rediss://cache.example.test:6380" })).redis).toEqual({
      url: "rediss://cache.example.test:6380",
    });
    expect(queueConfigFromEnv(env({ REDIS_URL: "redis://single:6379", REDIS_CLUSTER_NODES: " a:7000, b:7001 ,," })).redis).toEqual({
      clusterNodes: ["a:7000", "b:7001"],
    });
  });

  it("refuses a setting that is not a number, naming the variable", () => {
    expect(() => queueConfigFromEnv(env({ WORKER_CONCURRENCY: "many" }))).toThrow(/WORKER_CONCURRENCY/);
    expect(() => queueConfigFromEnv(env({ MAX_IMAGES_PER_BATCH: "0" }))).toThrow(/MAX_IMAGES_PER_BATCH/);
  });
});
