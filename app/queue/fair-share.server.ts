/**
 * Fair share of the one model quota across shops, on BullMQ's job priorities (lower runs first; equal priorities
 * run in the order they were added).
 *
 * Start-time fair queuing: the queue keeps a clock, the highest priority any worker has started, and each shop
 * the priority its last job got. A shop's new jobs take the next priorities after max(its last, the clock): every
 * shop with work waiting gets one job per round, a shop that arrives now is served from the current round (its
 * first image runs as soon as a model slot frees, whatever another shop's backlog), and a shop's own jobs keep
 * the order they were submitted in. When the queue has drained, the clock and the shops' marks start again from 0.
 *
 * Why priorities and not a queue per shop: one BullMQ queue keeps the existing recovery (stalled jobs, retries,
 * delays for Shopify's THROTTLED, the sweep) and works the same with any number of worker processes, which all
 * read the same sorted set; BullMQ's own group feature is in BullMQ Pro only.
 */
import type { Queue } from "bullmq";
import type { RedisClient } from "~/lib/redis.server";

/** BullMQ's largest job priority (2^21). */
const MAX_PRIORITY = 2_097_152;

// KEYS: clock, marks. ARGV: shop, job count, jobs in the queue now, and optionally the priority the first job may take
// (instead of the next after the shop's mark). Returns the priority before the shop's first job.
const RESERVE_ROUND_SCRIPT = `
local clock = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[3]) == 0 then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[1], '0')
  clock = 0
end
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local start = math.max(last, clock)
if ARGV[4] then start = math.max(tonumber(ARGV[4]) - 1, clock) end
redis.call('HSET', KEYS[2], ARGV[1], math.max(last, start + tonumber(ARGV[2])))
return start
`;

// KEYS: clock. ARGV: priority of a job a worker starts.
const ADVANCE_CLOCK_SCRIPT = `
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
`;

/** Both keys share a hash tag, so the scripts run on a Redis Cluster too. */
function keys(queueName: string): { clock: string; marks: string } {
  return { clock: `{imgapp:${queueName}}:fair:clock`, marks: `{imgapp:${queueName}}:fair:marks` };
}

/**
 * The priorities of `count` new jobs of `shop`, in submission order. `from`: the lowest priority among the shop's jobs
 * that these take the place of (the sweep putting a shop's images back in order), so the shop keeps its turn.
 */
export async function fairPriorities(queue: Queue, shop: string, count: number, from?: number): Promise<number[]> {
  // The Redis backend's client is the ioredis connection the queue was given (typed as BullMQ's narrower interface).
  const redis = (await queue.backend.client) as unknown as RedisClient;
  const pending = await queue.getJobCountByTypes("active", "wait", "prioritized", "delayed", "waiting-children");
  const { clock, marks } = keys(queue.name);
  const args = [shop, count, pending, ...(from ? [from] : [])];
  const start = Number(await redis.eval(RESERVE_ROUND_SCRIPT, 2, clock, marks, ...args));
  return Array.from({ length: count }, (_, i) => Math.min(start + i + 1, MAX_PRIORITY));
}

/** Called as a worker starts a job: the round the queue has reached. */
export async function advanceFairClock(redis: RedisClient, queueName: string, priority: number | undefined): Promise<void> {
  if (!priority) return;
  await redis.eval(ADVANCE_CLOCK_SCRIPT, 1, keys(queueName).clock, priority);
}
