import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { getConfig } from "./lib/config.server";

declare global {
  var prismaGlobal: PrismaClient | undefined;
}

export function databaseUrl(): string {
  return getConfig().DATABASE_URL;
}

export function createPrismaClient(url = databaseUrl(), poolSize?: number): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolSize }) });
}

// One client per process; cached on global in dev so HMR does not open new pools.
const prisma = globalThis.prismaGlobal ?? createPrismaClient();
if (getConfig().NODE_ENV !== "production") globalThis.prismaGlobal = prisma;

export default prisma;
