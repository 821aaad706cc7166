/**
 * Ledger bench: `npx tsx bench/ledger.ts`
 *
 * 1. Throughput: 64 concurrent clients (64 pooled PostgreSQL connections across 4 PrismaClients) each
 *    reserve 3 credits for one new item per transaction, the way batch creation does. Measured twice:
 *    against one shop (worst case: every reservation updates the same account row) and spread over 64 shops
 *    (many merchants at once). Goal >= 1,000 reservations per second.
 * 2. Overspend: the same 64 clients fire 2,000 reservations at a balance of 300. Goal: exactly 100 succeed,
 *    0 credits overspent, and the shop's entries sum to its account row.
 *
 * Uses DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/imgapp, migrated); its rows are removed after.
 * Env: BENCH_LEDGER_RESERVATIONS (default 10000), BENCH_LEDGER_CLIENTS (default 64).
 */
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@prisma/client";
import { createPrismaClient, databaseUrl } from "../app/db.server";
import { InsufficientCreditsError, getBalance, grantCredits, reserveForItems, sumEntries } from "../app/models/credits.server";

const CLIENTS = Number(process.env.BENCH_LEDGER_CLIENTS ?? 64);
const RESERVATIONS = Number(process.env.BENCH_LEDGER_RESERVATIONS ?? 10_000);
const PER_ITEM = 3;
const GOAL_PER_SECOND = 1_000;
const POOLS = 4;

const pools: PrismaClient[] = Array.from({ length: POOLS }, () => createPrismaClient(databaseUrl(), Math.ceil(CLIENTS / POOLS)));
const admin = createPrismaClient(databaseUrl(), 2);

async function reserveOne(client: PrismaClient, shop: string): Promise<boolean> {
  try {
    await reserveForItems(client, shop, [randomUUID()], PER_ITEM);
    return true;
  } catch (error) {
    if (error instanceof InsufficientCreditsError) return false;
    throw error;
  }
}

/** `total` reservations spread over CLIENTS concurrent loops; returns successes and elapsed seconds. */
async function run(
  shopOf: string | ((clientIndex: number) => string),
  total: number,
): Promise<{ succeeded: number; seconds: number; appCpuMs: number }> {
  let next = 0;
  let succeeded = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, clientIndex) => {
      const client = pools[clientIndex % POOLS]!;
      const shop = typeof shopOf === "string" ? shopOf : shopOf(clientIndex);
      while (next < total) {
        next++;
        if (await reserveOne(client, shop)) succeeded++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { succeeded, seconds: (performance.now() - started) / 1000, appCpuMs: (used.user + used.system) / 1000 };
}

async function ledgerConsistent(shop: string): Promise<boolean> {
  const entries = await admin.creditEntry.findMany({ where: { shop }, select: { availableDelta: true, reservedDelta: true } });
  const balance = await getBalance(admin, shop);
  const sum = sumEntries(entries);
  return sum.available === balance.available && sum.reserved === balance.reserved;
}

async function cleanup(shops: string[]): Promise<void> {
  await admin.creditEntry.deleteMany({ where: { shop: { in: shops } } });
  await admin.creditReservation.deleteMany({ where: { shop: { in: shops } } });
  await admin.creditAccount.deleteMany({ where: { shop: { in: shops } } });
}

async function main(): Promise<void> {
  const throughputShop = `bench-${randomUUID().slice(0, 8)}.myshopify.com`;
  const overspendShop = `bench-${randomUUID().slice(0, 8)}.myshopify.com`;
  const manyShops = Array.from({ length: CLIENTS }, () => `bench-${randomUUID().slice(0, 8)}.myshopify.com`);
  try {
    // Warm the pools so connection setup is not measured.
    await Promise.all(pools.flatMap((p) => Array.from({ length: Math.ceil(CLIENTS / POOLS) }, () => p.$queryRaw`SELECT 1`)));

    await grantCredits(admin, throughputShop, RESERVATIONS * PER_ITEM, { kind: "GRANT", idempotencyKey: "bench" });
    const throughput = await run(throughputShop, RESERVATIONS);
    const perSecond = throughput.succeeded / throughput.seconds;

    for (const shop of manyShops) await grantCredits(admin, shop, RESERVATIONS * PER_ITEM, { kind: "GRANT", idempotencyKey: "bench" });
    const spread = await run((clientIndex) => manyShops[clientIndex]!, RESERVATIONS);
    const spreadPerSecond = spread.succeeded / spread.seconds;

    await grantCredits(admin, overspendShop, 300, { kind: "GRANT", idempotencyKey: "bench" });
    const contest = await run(overspendShop, 2_000);
    const balance = await getBalance(admin, overspendShop);
    const overspent = Math.max(0, contest.succeeded * PER_ITEM - 300) + Math.max(0, -balance.available);
    let consistent = (await ledgerConsistent(throughputShop)) && (await ledgerConsistent(overspendShop));
    for (const shop of manyShops) consistent &&= await ledgerConsistent(shop);

    const [load] = (await import("node:os")).loadavg();
    console.log(`ledger bench: ${CLIENTS} concurrent clients, load average ${load?.toFixed(1)} on ${(await import("node:os")).cpus().length} cores`);
    console.log(`  ${CLIENTS} concurrent clients, ${POOLS} PrismaClients, PostgreSQL ${databaseUrl().replace(/\/\/[^@]*@/, "//")}`);
    console.log(
      `  reservations, one shop (hot row): ${throughput.succeeded} in ${throughput.seconds.toFixed(2)} s = ${perSecond.toFixed(0)}/s ` +
        `(goal >= ${GOAL_PER_SECOND}/s, ratio ${(perSecond / GOAL_PER_SECOND).toFixed(2)}); ` +
        `app CPU ${(throughput.appCpuMs / throughput.succeeded).toFixed(2)} ms per reservation`,
    );
    console.log(
      `  reservations, ${manyShops.length} shops: ${spread.succeeded} in ${spread.seconds.toFixed(2)} s = ${spreadPerSecond.toFixed(0)}/s ` +
        `(goal >= ${GOAL_PER_SECOND}/s, ratio ${(spreadPerSecond / GOAL_PER_SECOND).toFixed(2)}); ` +
        `app CPU ${(spread.appCpuMs / spread.succeeded).toFixed(2)} ms per reservation`,
    );
    console.log(
      `  contest: 2000 attempts on 300 credits -> ${contest.succeeded} succeeded (expected 100), ` +
        `overspent ${overspent} credits (goal 0), available ${balance.available}, entries sum to account: ${consistent}`,
    );
    if (throughput.succeeded !== RESERVATIONS || spread.succeeded !== RESERVATIONS || contest.succeeded !== 100 || overspent !== 0 || !consistent) process.exitCode = 1;
  } finally {
    await cleanup([throughputShop, overspendShop, ...manyShops]);
    await Promise.all([...pools, admin].map((p) => p.$disconnect()));
  }
}

await main();
