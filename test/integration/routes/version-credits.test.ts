/**
 * "Try again" and "Publish this version" (of a rejected version) each reserve 3 credits; with a short balance they are
 * refused with nothing reserved, and the refusal says what it costs, what the shop has and what to do, in the
 * merchant's language (its message code), as "Try the failed images again" does. Over the daily spending limit the
 * refusal speaks of that one image, not of a batch.
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { i18nFor } from "~/i18n/locales";
import type { MessageCode, MessageParams } from "~/lib/merchant-message";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { closeQueues } from "~/queue/queue.server";
import { action as publishAction } from "~/routes/app.items.$id.publish";
import { action as retryAction } from "~/routes/app.items.$id.retry";
import { body, call, formRequest, status } from "./helpers";
import { createBatch, createItems, createOfflineSession, uniqueShopDomain } from "../../factories";

process.env.QUEUE_NAME = `test-${randomUUID()}`;

const shops: string[] = [];
afterAll(async () => {
  await prisma.batch.deleteMany({ where: { shop: { in: shops } } });
  await closeQueues();
});

interface Refusal {
  ok: boolean;
  error: string;
  errorCode: MessageCode;
  errorParams: MessageParams;
}

/**
 * A shop with 2 credits (or `credits` and a daily spending limit of `dailySpendCap`) and one image of each kind:
 * failed (a model outage, a new try may cure it) and rejected.
 */
async function shortShop(opts: { credits: number; dailySpendCap?: number } = { credits: 2 }) {
  const shop = uniqueShopDomain();
  shops.push(shop);
  await createOfflineSession(prisma, shop);
  if (opts.dailySpendCap) await prisma.shop.update({ where: { domain: shop }, data: { dailySpendCap: opts.dailySpendCap } });
  await grantCredits(prisma, shop, opts.credits, { kind: "GRANT", idempotencyKey: `test:${randomUUID()}` });
  const stored = await prisma.storedImage.create({
    data: { shop, cacheKey: randomUUID(), mimeType: "image/png", width: 800, height: 800, objectKey: `test/${randomUUID()}.png` },
  });
  const batch = await createBatch(prisma, shop, { total: 2, status: "DONE" });
  const [failed, rejected] = await createItems(prisma, batch, [
    { state: "FAILED", reason: "The image service is unavailable.", reasonMessage: { code: "itemEditUnavailable" } },
    { state: "REJECTED", resultImageId: stored.id },
  ]);
  return { shop, failed: failed!, rejected: rejected! };
}

async function post(action: typeof retryAction | typeof publishAction, shop: string, path: string, id: string) {
  const result = await call(action, await formRequest(shop, path, {}), { id });
  return { status: status(result), body: await body<Refusal>(result) };
}

describe("a single image's refusal for a short balance", () => {
  it("says what trying again or publishing a rejected version costs, in Spanish too, and reserves nothing", async () => {
    const { shop, failed, rejected } = await shortShop();
    const itemsBefore = await prisma.batchItem.count({ where: { shop } });
    const es = i18nFor("es");

    const retry = await post(retryAction, shop, `/app/items/${failed.id}/retry`, failed.id);
    expect(retry).toEqual({
      status: 422,
      body: {
        ok: false,
        error: "Trying again costs 3 credits and you have 2. Buy a credit pack on the Credits page, then try again.",
        errorCode: "retryNeedsCredits",
        errorParams: { count: 3, available: 2 },
      },
    });
    expect(es.t(`messages.${retry.body.errorCode}`, retry.body.errorParams)).toBe(
      "Reintentar cuesta 3 créditos y tienes 2. Compra un paquete de créditos en la página Créditos y vuelve a intentarlo.",
    );

    const publish = await post(publishAction, shop, `/app/items/${rejected.id}/publish`, rejected.id);
    expect(publish).toEqual({
      status: 422,
      body: {
        ok: false,
        error: "Publishing this version costs 3 credits and you have 2. Buy a credit pack on the Credits page, then try again.",
        errorCode: "publishNeedsCredits",
        errorParams: { count: 3, available: 2 },
      },
    });
    expect(es.t(`messages.${publish.body.errorCode}`, publish.body.errorParams)).toBe(
      "Publicar esta versión cuesta 3 créditos y tienes 2. Compra un paquete de créditos en la página Créditos y vuelve a intentarlo.",
    );

    expect(await getBalance(prisma, shop)).toMatchObject({ available: 2, reserved: 0 });
    expect(await prisma.batchItem.count({ where: { shop } })).toBe(itemsBefore);
    expect((await prisma.batchItem.findUniqueOrThrow({ where: { id: rejected.id } })).state).toBe("REJECTED");
  });

  it("says a single image's try or publish is over today's spending limit, not that a batch is, in Spanish too", async () => {
    const { shop, failed, rejected } = await shortShop({ credits: 30, dailySpendCap: 2 });
    const es = i18nFor("es");

    const retry = await post(retryAction, shop, `/app/items/${failed.id}/retry`, failed.id);
    expect(retry).toEqual({
      status: 422,
      body: {
        ok: false,
        error:
          "Trying again costs 3 credits, but your daily spending limit is 2 credits and 0 were already used today. " +
          "Raise the limit in Settings, or try again tomorrow.",
        errorCode: "retryDailySpendCap",
        errorParams: { count: 3, cap: 2, spentToday: 0 },
      },
    });
    expect(es.t(`messages.${retry.body.errorCode}`, retry.body.errorParams)).toBe(
      "Reintentar cuesta 3 créditos, pero tu límite de gasto diario es de 2 créditos y hoy ya se usaron 0. " +
        "Sube el límite en Configuración o vuelve a intentarlo mañana.",
    );

    const publish = await post(publishAction, shop, `/app/items/${rejected.id}/publish`, rejected.id);
    expect(publish).toEqual({
      status: 422,
      body: {
        ok: false,
        error:
          "Publishing this version costs 3 credits, but your daily spending limit is 2 credits and 0 were already used today. " +
          "Raise the limit in Settings, or try again tomorrow.",
        errorCode: "publishDailySpendCap",
        errorParams: { count: 3, cap: 2, spentToday: 0 },
      },
    });
    expect(es.t(`messages.${publish.body.errorCode}`, publish.body.errorParams)).toBe(
      "Publicar esta versión cuesta 3 créditos, pero tu límite de gasto diario es de 2 créditos y hoy ya se usaron 0. " +
        "Sube el límite en Configuración o vuelve a intentarlo mañana.",
    );

    expect(await getBalance(prisma, shop)).toMatchObject({ available: 30, reserved: 0 });
    expect((await prisma.batchItem.findUniqueOrThrow({ where: { id: rejected.id } })).state).toBe("REJECTED");
  });
});
