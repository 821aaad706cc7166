import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import type { ErrorPayload } from "~/lib/merchant-message";

/**
 * The one place a model's or route's merchant message becomes text: its code in the viewer's language, else the
 * English sentence it came with (an answer from before codes, or one a model has no code for yet).
 */
export function useMessageText(): (payload: Partial<ErrorPayload> | null | undefined) => string | null {
  const { t } = useTranslation();
  return useCallback(
    (payload) => {
      if (!payload) return null;
      if (payload.errorCode) return t(`messages.${payload.errorCode}`, payload.errorParams ?? {});
      return payload.error ?? null;
    },
    [t],
  );
}
