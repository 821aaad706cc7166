import { json } from "@remix-run/node";
import type { AppError } from "./app-error";
import { errorPayload } from "./merchant-message";

/**
 * A route's answer to an AppError: its HTTP status, and the merchant's sentence (`error`) with its code for the UI
 * (`errorCode`, `errorParams`) where it has one, after `fields` (e.g. `{ ok: false }`).
 */
export function errorResponse<Fields extends Record<string, unknown> = Record<never, never>>(
  error: AppError,
  fields?: Fields,
  init?: ResponseInit,
) {
  return json({ ...(fields as Fields), ...errorPayload(error.merchantMessage, error.merchant) }, { ...init, status: error.httpStatus });
}
