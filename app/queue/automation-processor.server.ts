import { UnrecoverableError, type Job } from "bullmq";
import { SessionNotFoundError } from "@shopify/shopify-app-remix/server";
import { cleanNewProductMedia } from "~/models/auto-rule.server";
import { ShopifyThrottledError } from "~/lib/admin-graphql.server";
import { advanceCatalogRun, failCatalogRun } from "~/models/catalog-runs.server";
import { ShopAccessLostError } from "~/models/offline-sessions.server";
import { RunAgainLater } from "~/models/work-queues.server";
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
    const unrecoverable = error instanceof ShopAccessLostError || error instanceof SessionNotFoundError;
    const waits = error instanceof RunAgainLater || error instanceof ShopifyThrottledError;
    if (data.kind === "catalog-run" && !waits && (unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1))) {
      // Its last attempt: the run must not show "Counting" or "Running" for ever (nor be resumed by every worker).
      await failCatalogRun(deps.db, data.shop, data.runId, error as Error);
    }
    if (unrecoverable) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
