/** An integer setting from the environment: `fallback` when unset or empty, an error naming it when it is not a number >= min. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min} (got "${raw}")`);
  return value;
}

/** The most images one batch may hold (MAX_IMAGES_PER_BATCH): a web request re-reads and reserves them all at once. */
export function maxImagesPerBatchFromEnv(env: NodeJS.ProcessEnv): number {
  return intFromEnv(env, "MAX_IMAGES_PER_BATCH", 500, 1);
}
