import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

const context = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Gives the rest of this request's work a request id (the caller's X-Request-Id, or a new one), so every log line
 * written while serving it carries the id. Synchronous on purpose: it must run before the caller's first `await`,
 * so that the caller's continuation inherits the context (AsyncLocalStorage.enterWith).
 */
export function bindRequestId(request: Request): string {
  const requestId = request.headers.get("x-request-id")?.slice(0, 100) || randomUUID();
  context.enterWith({ requestId });
  return requestId;
}

export function currentRequestId(): string | undefined {
  return context.getStore()?.requestId;
}
