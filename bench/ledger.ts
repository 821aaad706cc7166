/**
 * Ledger bench (issue #4): `npx tsx bench/ledger.ts`
 *
 * Goal: >= 1,000 reservations per second with 64 concurrent clients, and 0 credits overspent. Each client
 * reserves 3 credits for one new item per call, the way createBatch does (reserveForItems with the
 * PrismaClient: one autocommit statement on the ledger's pg pool, a shop's concurrent calls combined).
 * The goal is judged on BOTH throughput figures, each must be >= 1,000/s:
 *   - 64 shops, one client each: many merchants at once, the realistic case;
 *   - one shop, all 64 clients: the worst case, every reservation updates the same account row.
 * Overspend: the same 64 clients fire 2,000 reservations at a balance of 300: exactly 100 succeed, 0 credits
 * overspent, every shop's entries sum to its account row.
 *
 * For explanation only (not goals): one client reserving serially on one shop (the latency of one
 * reservation statement, which bounds an uncombined hot row) and the previous design (one interactive Prisma
 * transaction per reservation, 64 pooled connections) on the hot row.
 *
 * Uses DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/imgapp_bench; created and migrated if
 * missing); its rows are removed after. Env: BENCH_LEDGER_RESERVATIONS (default 10000), BENCH_LEDGER_CLIENTS
 * (default 64).
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import type { PrismaClient } from "@prisma/client";
import { ensureMigratedDatabase } from "../scripts/migrate";
import { benchNumber } from "./lib/bench-setting";

process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/imgapp_bench";
process.env.LOG_LEVEL ??= "error";
await ensureMigratedDatabase(process.env.DATABASE_URL);

const { createPrismaClient, databaseUrl } = await import("../app/db.server");
const { InsufficientCreditsError, getBalance, grantCredits, sumEntries } = await import("../app/models/credit-ledger.server");
const { reserveForItems } = await import("../app/models/credit-reservations.server");
const { LEDGER_POOL_SIZE, closeLedgerPools } = await import("../app/models/ledger-pool.server");

const CLIENTS = benchNumber("BENCH_LEDGER_CLIENTS", 64, { min: 1 });
const RESERVATIONS = benchNumber("BENCH_LEDGER_RESERVATIONS", 10_000, { min: 1 });
const SERIAL_RESERVATIONS = 1_000;
const PREVIOUS_DESIGN_RESERVATIONS = 2_000;
const PER_ITEM = 3;
const GOAL_PER_SECOND = 1_000;

const db = createPrismaClient(databaseUrl(), 4);
// Only for the previous design's figure: 64 pooled connections across 4 clients, as that bench had.
const transactionPools: PrismaClient[] = Array.from({ length: 4 }, () => createPrismaClient(databaseUrl(), Math.ceil(CLIENTS / 4)));

type Reserve = (shop: string) => Promise<void>;
const reserveOnItsOwn: Reserve = (shop) => reserveForItems(db, shop, [randomUUID()], PER_ITEM);
let nextPool = 0;
const reserveInTransaction: Reserve = (shop) =>
  transactionPools[nextPool++ % transactionPools.length]!.$transaction((tx) => reserveForItems(tx, shop, [randomUUID()], PER_ITEM), {
    maxWait: 60_000,
    timeout: 60_000,
  });

interface Run {
  succeeded: number;
  seconds: number;
  appCpuMs: number;
}

/** `total` reservations spread over `clients` concurrent loops. */
async function run(reserve: Reserve, shopOf: (clientIndex: number) => string, total: number, clients = CLIENTS): Promise<Run> {
  let next = 0;
  let succeeded = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async (_, clientIndex) => {
      const shop = shopOf(clientIndex);
      while (next < total) {
        next++;
        try {
          await reserve(shop);
          succeeded++;
        } catch (error) {
          if (!(error instanceof InsufficientCreditsError)) throw error;
        }
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  return { succeeded, seconds, appCpuMs: (used.user + used.system) / 1000 };
}

function describe(label: string, r: Run, withGoal: boolean): string {
  const perSecond = r.succeeded / r.seconds;
  const goal = withGoal ? ` (goal >= ${GOAL_PER_SECOND}/s, ratio ${(perSecond / GOAL_PER_SECOND).toFixed(2)})` : "";
  return (
    `  ${label}: ${r.succeeded} in ${r.seconds.toFixed(2)} s = ${perSecond.toFixed(0)}/s${goal}; ` +
    `app CPU ${(r.appCpuMs / r.succeeded).toFixed(2)} ms per reservation`
  );
}

async function grant(shop: string, amount: number): Promise<void> {
  await grantCredits(db, shop, amount, { kind: "GRANT", idempotencyKey: "bench" });
}

async function ledgerConsistent(shop: string): Promise<boolean> {
  const entries = await db.creditEntry.findMany({ where: { shop }, select: { availableDelta: true, reservedDelta: true } });
  const balance = await getBalance(db, shop);
  const sum = sumEntries(entries);
  return sum.available === balance.available && sum.reserved === balance.reserved;
}

async function cleanup(shops: string[]): Promise<void> {
  await db.creditEntry.deleteMany({ where: { shop: { in: shops } } });
  await db.creditReservation.deleteMany({ where: { shop: { in: shops } } });
  await db.creditAccount.deleteMany({ where: { shop: { in: shops } } });
}

const newShop = () => `bench-${randomUUID().slice(0, 8)}.myshopify.com`;

async function main(): Promise<void> {
  const hotShop = newShop();
  const manyShops = Array.from({ length: CLIENTS }, newShop);
  const contestShop = newShop();
  const serialShop = newShop();
  const previousShop = newShop();
  const allShops = [hotShop, ...manyShops, contestShop, serialShop, previousShop];
  try {
    for (const shop of [hotShop, ...manyShops]) await grant(shop, RESERVATIONS * PER_ITEM);
    await grant(serialShop, SERIAL_RESERVATIONS * PER_ITEM);
    await grant(previousShop, PREVIOUS_DESIGN_RESERVATIONS * PER_ITEM);
    await grant(contestShop, 300);
    // Warm the pools so connection setup is not measured.
    await run(reserveOnItsOwn, () => serialShop, 100);
    await Promise.all(transactionPools.flatMap((p) => Array.from({ length: Math.ceil(CLIENTS / 4) }, () => p.$queryRaw`SELECT 1`)));

    const spread = await run(reserveOnItsOwn, (clientIndex) => manyShops[clientIndex]!, RESERVATIONS);
    const hot = await run(reserveOnItsOwn, () => hotShop, RESERVATIONS);
    const contest = await run(reserveOnItsOwn, () => contestShop, 2_000);
    const serial = await run(reserveOnItsOwn, () => serialShop, SERIAL_RESERVATIONS - 100, 1);
    const previous = await run(reserveInTransaction, () => previousShop, PREVIOUS_DESIGN_RESERVATIONS);

    const balance = await getBalance(db, contestShop);
    const overspent = Math.max(0, contest.succeeded * PER_ITEM - 300) + Math.max(0, -balance.available);
    let consistent = true;
    for (const shop of allShops) consistent &&= await ledgerConsistent(shop);

    console.log(
      `ledger bench: ${CLIENTS} concurrent clients, ledger pool ${LEDGER_POOL_SIZE} connections, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores, ` +
        `PostgreSQL ${databaseUrl().replace(/\/\/[^@]*@/, "//")}`,
    );
    console.log(describe(`reservations, ${manyShops.length} shops (goal)`, spread, true));
    console.log(describe("reservations, one shop, hot row (goal)", hot, true));
    console.log(
      `  contest: 2000 attempts on 300 credits -> ${contest.succeeded} succeeded (expected 100), ` +
        `overspent ${overspent} credits (goal 0), available ${balance.available}, every shop's entries sum to its account: ${consistent}`,
    );
    console.log(
      `  for reference: one client, serially: ${((serial.seconds * 1000) / serial.succeeded).toFixed(2)} ms per reservation ` +
        `(= ${(serial.succeeded / serial.seconds).toFixed(0)}/s, the ceiling of one shop without combining)`,
    );
    console.log(describe("for reference: previous design (interactive transaction each), one shop", previous, false));
    const met =
      spread.succeeded === RESERVATIONS &&
      hot.succeeded === RESERVATIONS &&
      spread.succeeded / spread.seconds >= GOAL_PER_SECOND &&
      hot.succeeded / hot.seconds >= GOAL_PER_SECOND &&
      contest.succeeded === 100 &&
      overspent === 0 &&
      consistent;
    console.log(`  goals met: ${met}`);
    if (!met) process.exitCode = 1;
  } finally {
    await cleanup(allShops);
    await Promise.all([db, ...transactionPools].map((p) => p.$disconnect()));
    await closeLedgerPools();
  }
}

await main();
