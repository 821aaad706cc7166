/**
 * A sentence for the merchant as a stable code and its values. Models and routes attach one to the errors and
 * answers a merchant reads; the UI renders it in the viewer's language (`app/i18n/messages.ts`, keys `messages.*`),
 * while the English sentence stays in `error`/`message` for the extension's API, logs and tests.
 */
export const MESSAGE_CODES = [
  "insufficientCredits",
  "dailySpendCap",
  "creditsOwed",
  "noSelection",
  "tooManyImages",
  "tooManyProductImages",
  "noneFound",
  "allAlreadyInBatch",
  "unknownPipeline",
  "choosePipeline",
  "selectionTooLarge",
  "selectionUnreadable",
  "rateLimited",
  "catalogRunBusy",
  "catalogShopFrozen",
  "catalogShopLocked",
  "catalogRunNotFound",
  "catalogRunNotStartable",
  "reloadPage",
  "unknownPack",
  "choosePack",
  "shopifyPurchaseFailed",
  "shopifyPurchaseRefused",
  "shopifyConfirmFailed",
  "shopifyPlanUnknown",
  "stripeCheckoutFailed",
  "stripeNoCheckoutPage",
  "shopifyBillingNotConfigured",
  "stripeNotConfigured",
  "shopifyBusy",
  "shopifyRefused",
  // Reasons stored with what they explain (a paused rule or run, a batch's note).
  "autoRulePausedBudget",
  "autoRulePausedDailyCap",
  "autoRulePausedBalance",
  "catalogPausedBalance",
  "catalogPausedDailyCap",
  "catalogPausedBudget",
  "catalogPausedBudgetAndBalance",
  "catalogPausedShopFrozen",
  "catalogPausedShopLocked",
  "catalogCancelledByYou",
  "catalogCancelledUninstalled",
  "catalogReadFailed",
  "catalogRunFailed",
  // Why an image is held, failed, cancelled or set aside (BatchItem.reasonMessage).
  "itemHeldAltered",
  "itemHeldCutOff",
  "itemHeldRules",
  "itemHeldForReview",
  "itemPipelineGone",
  "itemSourceTooLarge",
  "itemResultLost",
  "itemMediaDeleted",
  "itemFailedAfterAttempts",
  "itemFailedUnexpected",
  "itemShopifyRefused",
  "itemReconnect",
  "itemNotInstalled",
  "itemShopFrozen",
  "itemShopLocked",
  "itemDownloadFailed",
  "itemImageEmpty",
  "itemImageTooLarge",
  "itemImageUnsupported",
  "itemImageCorrupt",
  "itemImageTruncated",
  "itemImageTooManyPixels",
  "itemImageTooSmall",
  "itemImageAspect",
  "itemImageTooDetailed",
  "itemResultDamaged",
  "itemNoProduct",
  "itemEditRefused",
  "itemEditSensitive",
  "itemEditUnavailable",
  "itemResultRefused",
  "itemRepublishFailed",
  "itemRestoreFailed",
  "itemRejectedByYou",
  "itemSetAsideForTry",
  "itemSetAsideForOther",
  "itemSupersededByLater",
  "itemCancelledUninstalled",
  "itemCancelledWithRun",
  // Credit history notes (CreditEntry.noteMessage, Purchase.noteMessage).
  "noteWelcome",
  "noteWelcomeDevStore",
  "notePaidOwed",
  "noteDebtPaid",
  "noteHeldForImage",
  "noteReturnedBatchNeverCreated",
  "noteReturnedBatchNotCreated",
  "notePackGranted",
  "notePackGrantedTest",
  "noteRefundTakenBack",
  "noteRefundTakenBackOwed",
  "noteDisputeTakenBack",
  "noteDisputeTakenBackOwed",
  "noteGivenBack",
  "noteAmountNotPrice",
  "noteTestChargeNoCredits",
  "noteTestChargePartial",
  // Answers of the item actions (app/lib/item-action-response.server.ts).
  "itemApproved",
  "itemRejected",
  "itemRestored",
  "altSavedForReview",
  "altWritten",
  "versionAlreadyLive",
  "versionApproved",
  "versionQueuedPaid",
  "versionQueuedFree",
  "retryQueued",
  "batchRestoreNone",
  "batchRestoreQueued",
  "itemNotFound",
  "batchNotFound",
  "versionNotFound",
  "itemNotInBatch",
  "reviewNoSelection",
  "versionOnProduct",
  "versionBusy",
  "versionNoImage",
  "versionNotPublishable",
  "versionImageExpired",
  "versionNeverPublished",
  "approveWrongState",
  "rejectWrongState",
  "restoreWrongState",
  "altWrongState",
  "retryNoteInvalid",
  // "Try again" refused (app/models/versions.ts), and "Try the failed images again".
  "retryBusy",
  "retryRestoring",
  "retryNotCurable",
  "retryWrongState",
  "retryInOtherBatch",
  "retryNeedsCredits",
  "publishNeedsCredits",
  "retryDailySpendCap",
  "publishDailySpendCap",
  "retryFailedNeedsCredits",
  "retryFailedQueued",
  "retryFailedNone",
] as const;

export type MessageCode = (typeof MESSAGE_CODES)[number];
export type MessageParams = Record<string, string | number>;

// A type, not an interface: Prisma's Json columns take it as it is.
export type MerchantMessage = {
  code: MessageCode;
  params?: MessageParams;
};

/** A sentence stored or sent with its English text (logs, API, tests) and its message (the merchant's language). */
export type MerchantText = { text: string; message: MerchantMessage };

/** The JSON body of a refused action: the English sentence, and its code for the UI. */
export interface ErrorPayload {
  error: string;
  errorCode?: MessageCode;
  errorParams?: MessageParams;
}

export function errorPayload(error: string, merchant?: MerchantMessage | null): ErrorPayload {
  return merchant ? { error, errorCode: merchant.code, errorParams: merchant.params ?? {} } : { error };
}

/** The message a refusal carries (errorPayload read back), or null when it came with its English sentence only. */
export function payloadMessage(payload: Partial<ErrorPayload>): MerchantMessage | null {
  return payload.errorCode ? { code: payload.errorCode, params: payload.errorParams ?? {} } : null;
}

/** A stored message (a Json column) read back: a known code and its values, or null (older rows, other shapes). */
export function storedMessage(value: unknown): MerchantMessage | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { code, params } = value as { code?: unknown; params?: unknown };
  if (typeof code !== "string" || !(MESSAGE_CODES as readonly string[]).includes(code)) return null;
  const safeParams: MessageParams = {};
  if (params && typeof params === "object") {
    for (const [key, v] of Object.entries(params)) if (typeof v === "string" || typeof v === "number") safeParams[key] = v;
  }
  return { code: code as MessageCode, params: safeParams };
}
