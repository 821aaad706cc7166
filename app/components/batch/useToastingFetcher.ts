import { useEffect } from "react";
import { useFetcher } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { useActionAnswerText } from "~/i18n/messages";
import type { ErrorPayload, MessageCode, MessageParams } from "~/lib/merchant-message";

/** An item action's answer (app/lib/item-action-response.server.ts): done with a message, or refused. */
export type ItemActionResult = Partial<ErrorPayload> & {
  ok?: boolean;
  message?: string;
  messageCode?: MessageCode;
  messageParams?: MessageParams;
};

/** A fetcher for an item's action route whose answer is shown as a toast, in the viewer's language. */
export function useToastingFetcher() {
  const fetcher = useFetcher<ItemActionResult>();
  const shopify = useAppBridge();
  const answerText = useActionAnswerText();
  useEffect(() => {
    if (fetcher.state !== "idle" || !fetcher.data) return;
    const answer = answerText(fetcher.data);
    if (answer) shopify.toast.show(answer.text, { isError: answer.isError });
  }, [fetcher.state, fetcher.data, shopify, answerText]);
  return fetcher;
}
