/**
 * The Whole-catalogue page's data: the loader's answer (the shop's runs, balance, price, pipelines) and the action's
 * handling of its forms (start a count, confirm or resume with a budget, cancel).
 */
import { json } from "@remix-run/node";
import { z } from "zod";
import db from "~/db.server";
import { PIPELINE_IDS, getPipeline } from "~/imaging/pipelines";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { errorResponse } from "~/lib/error-response.server";
import { errorPayload, type ErrorPayload } from "~/lib/merchant-message";
import {
  CatalogRunError,
  cancelCatalogRun,
  confirmCatalogRun,
  listCatalogRuns,
  MAX_RUN_BUDGET,
  runBudgetField,
  startCatalogRun,
  type CatalogRunErrors,
} from "~/models/catalog-runs.server";
import { CREDITS_PER_IMAGE, getBalance } from "~/models/credit-ledger.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { queueConfigFromEnv } from "~/queue/config.server";
import { getQueue } from "~/queue/queue.server";

export async function catalogPageData(shop: string) {
  const [runs, balance] = await Promise.all([listCatalogRuns(db, shop), getBalance(db, shop)]);
  const pipelines = PIPELINE_IDS.map((id) => ({ id, label: getPipeline(id).label }));
  return { runs, available: balance.available, creditsPerImage: CREDITS_PER_IMAGE, pipelines, maxBudget: MAX_RUN_BUDGET };
}

export type CatalogPageData = Awaited<ReturnType<typeof catalogPageData>>;

/** What the page's forms get back: a toast to show, or the refusal (with the fields at fault). */
export type CatalogActionData =
  | { ok: true; message: string; toast: "counting" | "started" | "cancelled" }
  | ({ ok: false; errors?: CatalogRunErrors } & Partial<ErrorPayload>);

const runIntent = z.object({
  intent: z.enum(["confirm", "cancel"]),
  runId: z.string().uuid(),
  budget: z.string().optional(),
});

/** Starts, confirms, resumes or cancels a run from the page's submitted form. */
export async function answerRunForm(graphql: AdminGraphql, shop: string, form: Record<string, FormDataEntryValue>): Promise<Response> {
  const automationQueue = getAutomationQueue(queueConfigFromEnv().queueName);
  try {
    if (form.intent === "start") {
      const started = await startCatalogRun({ db, automationQueue, graphql }, shop, form);
      if (!started.ok) return json({ ok: false as const, errors: started.errors }, { status: 422 });
      return json({ ok: true as const, message: "Counting the images of your catalogue…", toast: "counting" as const });
    }
    const parsed = runIntent.safeParse(form);
    if (!parsed.success)
      return json(
        { ok: false as const, ...errorPayload("This request is not one the page sends; reload the page.", { code: "reloadPage" }) },
        { status: 400 },
      );
    const { intent, runId, budget } = parsed.data;
    if (intent === "cancel") {
      await cancelCatalogRun({ db, imageQueue: getQueue(), graphql }, shop, runId);
      return json({ ok: true as const, message: "Run cancelled", toast: "cancelled" as const });
    }
    // The form sends the budget field as shown (the run's budget, or what the merchant typed); empty means none.
    const newBudget = budget === undefined ? undefined : runBudgetField.safeParse(budget);
    if (newBudget && !newBudget.success)
      return json(
        { ok: false as const, error: newBudget.error.issues[0]!.message, errors: { budget: newBudget.error.issues[0]!.message } },
        { status: 422 },
      );
    await confirmCatalogRun({ db, automationQueue, graphql }, shop, runId, newBudget ? { budget: newBudget.data } : {});
    return json({ ok: true as const, message: "Run started", toast: "started" as const });
  } catch (error) {
    if (error instanceof CatalogRunError) return errorResponse(error, { ok: false as const });
    throw error;
  }
}
