import { UnrecoverableError, type Job } from "bullmq";
import { cleanNewProductMedia } from "~/models/auto-rule.server";
import { advanceCatalogRun } from "~/models/catalog-runs.server";
import { ShopAccessLostError } from "~/models/offline-sessions.server";
import type { AutomationDeps, AutomationJobData } from "./automation.server";

/** Runs one automation job (see automation.server.ts). A shop the app lost access to is not retried. */
export async function processAutomationJob(job: Job<AutomationJobData>, deps: AutomationDeps): Promise<void> {
  const { data } = job;
  try {
    if (data.kind === "new-product-media") {
      await cleanNewProductMedia({ db: deps.db, graphql: await deps.adminFor(data.shop), imageQueue: deps.imageQueue }, data.shop, data);
    } else {
      await advanceCatalogRun({ db: deps.db, adminFor: deps.adminFor, imageQueue: deps.imageQueue }, data.shop, data.runId);
    }
  } catch (error) {
    if (error instanceof ShopAccessLostError || (error as Error).name === "SessionNotFoundError") throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
