import type { RedisClient } from "~/lib/redis.server";

/**
 * Sliding-window logs in Redis, the one script behind the web's per-shop limits and the worker's Qwen quota: each
 * granted call is a member of a sorted set scored by its time, so "at most `max` within any `windowMs`" is exact,
 * unlike fixed windows that let a burst straddle a boundary. A member leaves its window `windowMs` after its time
 * (a call at exactly `now - windowMs` no longer counts); refused calls are not recorded.
 */
export interface SlidingWindow {
  max: number;
  windowMs: number;
}

export type SlotResult = { granted: true } | { granted: false; window: number; retryAfterMs: number };

// KEYS: one sorted set per window, all in one hash slot (Redis Cluster). ARGV: now ('' = Redis's own clock), member,
// then (max, windowMs) per window. Checks every window first and records the call only when all allow it, atomically.
// Returns { 0, 0 } when granted, else { index of the full window (1-based), ms until its oldest call leaves }.
const TAKE_SCRIPT = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local member = ARGV[2]
for i = 1, #KEYS do
  local max = tonumber(ARGV[1 + i * 2])
  local window = tonumber(ARGV[2 + i * 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= max then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    local retry = window
    if oldest[2] then retry = tonumber(oldest[2]) + window - now end
    return { i, retry }
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + i * 2]))
end
return { 0, 0 }
`;

// KEYS and ARGV[3..] as TAKE_SCRIPT's, ARGV[1] unused, ARGV[2] the member. Moves a granted call's place in each window
// to now (Redis time), if later and still there, and keeps the set alive a whole window from then.
const RESTAMP_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  if redis.call('ZADD', KEYS[i], 'XX', 'GT', 'CH', now, ARGV[2]) > 0 then
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + i * 2]))
  end
end
return 0
`;

function scriptArgs(keys: readonly string[], windows: readonly SlidingWindow[], at: string, member: string): string[] {
  if (keys.length !== windows.length) throw new Error("one key per window");
  return [...keys, at, member, ...windows.flatMap((window) => [String(window.max), String(window.windowMs)])];
}

/**
 * Records one call as `member` in every window (key i holds window i) when none is full. `at` is the call's time in
 * ms; without it Redis's clock decides, so processes on machines that disagree on the time still share one window.
 */
export async function takeSlot(
  redis: RedisClient,
  keys: readonly string[],
  windows: readonly SlidingWindow[],
  member: string,
  at?: number,
): Promise<SlotResult> {
  const [index, retry] = (await redis.eval(
    TAKE_SCRIPT,
    keys.length,
    ...scriptArgs(keys, windows, at === undefined ? "" : String(at), member),
  )) as [number, number];
  if (index <= 0) return { granted: true };
  return { granted: false, window: index - 1, retryAfterMs: Math.max(1, retry) };
}

/**
 * Moves `member`'s time to now (Redis time) in every window where it is still counted and was stamped earlier: for a
 * call granted a while before it really went out, so the next grants are timed from when it left.
 */
export async function restampSlot(
  redis: RedisClient,
  keys: readonly string[],
  windows: readonly SlidingWindow[],
  member: string,
): Promise<void> {
  await redis.eval(RESTAMP_SCRIPT, keys.length, ...scriptArgs(keys, windows, "", member));
}
