import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createRedisConnection } from "~/lib/redis.server";

// Built with lazyConnect: nothing is dialled, the options are what the connection would use.
describe("createRedisConnection", () => {
  it("makes a cluster client from the seed nodes, with the options BullMQ requires of workers", () => {
    const worker = createRedisConnection({
      forWorker: true,
      lazyConnect: true,
      target: { clusterNodes: ["10.0.0.1:7000", "redis://10.0.0.2"] },
    });
    expect(worker).toBeInstanceOf(Cluster);
    const cluster = worker as Cluster;
    expect(cluster.options.redisOptions).toMatchObject({ maxRetriesPerRequest: null });
    expect(cluster.options.enableOfflineQueue).toBe(true);
    worker.disconnect();
  });

  it("fails fast in web requests on a cluster too", () => {
    const web = createRedisConnection({ lazyConnect: true, target: { clusterNodes: ["10.0.0.1:7000"] } }) as Cluster;
    expect(web.options.enableOfflineQueue).toBe(false);
    expect(web.options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1 });
    web.disconnect();
  });

  it("takes a managed cluster's TLS and credentials from its configuration endpoint's URL, and connects by host name", () => {
    const cluster = createRedisConnection({
      forWorker: true,
      lazyConnect: true,
      target: { clusterNodes: ["rediss://app:s%40cret@clustercfg.imgapp.abc123.cache.amazonaws.com:6379"] },
    }) as Cluster;
    expect(cluster.options.redisOptions).toMatchObject({ username: "app", password: "s@cret", tls: {} });
    const resolved: string[] = [];
    cluster.options.dnsLookup?.("node-1.cache.amazonaws.com", (_error, address) => resolved.push(address));
    expect(resolved).toEqual(["node-1.cache.amazonaws.com"]);
    cluster.disconnect();
  });

  it("speaks to one endpoint for a REDIS_URL", () => {
    const single = createRedisConnection({ lazyConnect: true, target: { url: "redis://:pw@127.0.0.1:6390/3" } });
    expect(single).toBeInstanceOf(Redis);
    expect((single as Redis).options).toMatchObject({ port: 6390, db: 3, password: "pw", enableOfflineQueue: false });
    single.disconnect();
  });
});
