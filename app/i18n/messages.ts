import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import { payloadMessage, type ErrorPayload, type MerchantMessage, type MessageCode, type MessageParams } from "~/lib/merchant-message";

/**
 * The one place a model's or route's merchant message becomes text: its code in the viewer's language, else the
 * English sentence it came with (an answer or a row from before codes, or one a model has no code for yet).
 */
export function useMessageText(): (payload: Partial<ErrorPayload> | null | undefined) => string | null {
  const storedText = useStoredText();
  return useCallback((payload) => (payload ? storedText(payloadMessage(payload), payload.error ?? null) : null), [storedText]);
}

/** An action's answer (`{ message, messageCode }` or an ErrorPayload) in the viewer's language, and whether it is a refusal. */
export function useActionAnswerText(): (
  answer: (Partial<ErrorPayload> & { message?: string; messageCode?: MessageCode; messageParams?: MessageParams }) | null | undefined,
) => { text: string; isError: boolean } | null {
  const messageText = useMessageText();
  const storedText = useStoredText();
  return useCallback(
    (answer) => {
      if (!answer) return null;
      if (answer.error) return { text: messageText(answer) ?? answer.error, isError: true };
      const text = storedText(
        answer.messageCode ? { code: answer.messageCode, params: answer.messageParams } : null,
        answer.message ?? null,
      );
      return text ? { text, isError: false } : null;
    },
    [messageText, storedText],
  );
}

/** A reason stored with what it explains (a paused rule or run, a batch's note): its message, else its English text. */
export function useStoredText(): (message: MerchantMessage | null | undefined, english: string | null) => string | null {
  const { t } = useTranslation();
  return useCallback((message, english) => (message ? t(`messages.${message.code}`, message.params ?? {}) : english), [t]);
}
