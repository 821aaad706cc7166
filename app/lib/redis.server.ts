import { Cluster, Redis, type ClusterOptions } from "ioredis";
import { getConfig, type Config } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";

/**
 * A connection to one Redis or to a Redis Cluster. Every command the app sends works on both: BullMQ's keys share
 * the `{imgapp}` hash tag, and each of our own scripts touches keys of one hash slot only.
 */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: `REDIS_CLUSTER_NODES` (comma-separated seed nodes, `host:port` or `redis://` / `rediss://` URLs,
 * e.g. an ElastiCache or Memorystore cluster's configuration endpoint) makes every connection a cluster client;
 * otherwise `REDIS_URL` (one endpoint: a standalone or primary/replica Redis, Upstash).
 */
export type RedisTarget = { url: string } | { clusterNodes: string[] };

export function redisTargetFromEnv(config: Pick<Config, "REDIS_CLUSTER_NODES" | "REDIS_URL"> = getConfig()): RedisTarget {
  if (config.REDIS_CLUSTER_NODES.length > 0) return { clusterNodes: [...config.REDIS_CLUSTER_NODES] };
  return { url: config.REDIS_URL };
}

const retryStrategy = (times: number) => Math.min(times * 200, 2_000);

/**
 * One place that builds Redis connections. Workers block on Redis and must never give up a command
 * (`maxRetriesPerRequest: null`, as BullMQ requires of workers); producers in web requests fail fast instead of
 * queueing commands while Redis is down (`enableOfflineQueue: false`), so the merchant gets an answer.
 * `target` defaults to the environment's.
 */
export function createRedisConnection(
  opts: { forWorker?: boolean; target?: RedisTarget; lazyConnect?: boolean; connectionName?: string } = {},
): RedisClient {
  const target = opts.target ?? redisTargetFromEnv();
  const connection: RedisClient =
    "url" in target
      ? new Redis(target.url, {
          ...(opts.forWorker ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
          retryStrategy,
          lazyConnect: opts.lazyConnect ?? false,
          ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
        })
      : new Cluster(target.clusterNodes.map(seedNode), clusterOptions(target.clusterNodes, opts));
  connection.on("error", (error: Error) =>
    logger.warn({ err: error.message, forWorker: Boolean(opts.forWorker) }, "redis connection error"),
  );
  return connection;
}

/** The name the web process's connection gives itself (`CLIENT LIST` shows it): one per process. */
export const WEB_CONNECTION_NAME = `imgapp-web-${process.pid}`;

const webConnections = new Map<string, RedisClient>();

/**
 * The web process's one Redis connection, a producer's (fails fast while Redis is away), made on first use: the image
 * and automation queues' producers and the per-shop rate limits all send their commands on it. (One per target: a
 * changed environment, as in tests, gets its own.)
 */
export function webRedisConnection(): RedisClient {
  const target = redisTargetFromEnv();
  const key = JSON.stringify(target);
  let connection = webConnections.get(key);
  if (!connection) {
    connection = createRedisConnection({ target, connectionName: WEB_CONNECTION_NAME });
    webConnections.set(key, connection);
  }
  return connection;
}

/** Closes the web process's connection (the next `webRedisConnection()` makes a new one). */
export async function closeWebRedisConnection(): Promise<void> {
  const all = [...webConnections.values()];
  webConnections.clear();
  await Promise.all(all.map((connection) => connection.quit().catch(() => connection.disconnect())));
}

/**
 * Resolves once `redis` takes commands; rejects at once while it waits to reconnect, or at its connecting attempt's
 * error, instead of waiting for Redis to come back, so a web request that can do without Redis is not held up.
 */
export function whenReady(redis: RedisClient): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  if (redis.status !== "connecting" && redis.status !== "connect" && redis.status !== "wait")
    return Promise.reject(new Error(`redis connection is ${redis.status}`));
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      redis.off("ready", onReady);
      redis.off("error", onError);
      redis.off("end", onEnd);
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve();
    };
    const onReady = () => settle();
    const onError = (error: unknown) => settle(error ?? new Error("redis connection error"));
    const onEnd = () => settle(new Error("redis connection ended"));
    redis.on("ready", onReady);
    redis.on("error", onError);
    redis.on("end", onEnd);
  });
}

function nodeUrl(node: string): URL {
  return new URL(/^rediss?:\/\//.test(node) ? node : `redis://${node}`);
}

function seedNode(node: string): { host: string; port: number } {
  const url = nodeUrl(node);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

function clusterOptions(nodes: string[], opts: { forWorker?: boolean; lazyConnect?: boolean; connectionName?: string }): ClusterOptions {
  // Credentials and TLS are the cluster's, not a node's: taken from the first seed that names them.
  const withAuth = nodes.map(nodeUrl).find((url) => url.username || url.password);
  const tls = nodes.some((node) => node.startsWith("rediss://"));
  return {
    // The cluster client reconnects and follows slot moves itself (a node's own connection is left to it); web
    // requests fail fast while no node can take the command, workers wait.
    enableOfflineQueue: Boolean(opts.forWorker),
    lazyConnect: opts.lazyConnect ?? false,
    clusterRetryStrategy: retryStrategy,
    // With TLS the nodes' certificates name the hosts the cluster reports, not their resolved addresses
    // (ElastiCache, Memorystore): connect by name.
    ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: {
      maxRetriesPerRequest: opts.forWorker ? null : 1,
      ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
      ...(withAuth
        ? { username: decodeURIComponent(withAuth.username) || undefined, password: decodeURIComponent(withAuth.password) }
        : {}),
      ...(tls ? { tls: {} } : {}),
    },
  };
}
