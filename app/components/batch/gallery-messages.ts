/**
 * The batch gallery's words: the view-model (gallery-model.ts) returns `{ key, params }` messages, and the components
 * render them in the page's language through the app's i18n module, under `batchGallery` in app/i18n/locales/*.json.
 */
import type { TFunction } from "i18next";
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import type en from "~/i18n/locales/en.json";
import type { MerchantMessage } from "~/lib/merchant-message";

type Paths<T> = { [K in keyof T & string]: T[K] extends string ? K : `${K}.${Paths<T[K]>}` }[keyof T & string];
type Stem<K> = K extends `${infer S}_${"one" | "many" | "other"}` ? S : K;

/** A key under `batchGallery`, plural forms named by their stem (`bulk.approve` for `bulk.approve_one`/`_other`). */
export type MessageKey = Stem<Paths<(typeof en)["batchGallery"]>>;
/** A message a parameter or a text may also be: a stored merchant message (`messages.*`), such as an item's reason. */
export type MessageParam = string | number | Message | MerchantMessage;
/** What the gallery may show: its own message, a stored merchant message, or an English text from before codes. */
export type Said = Message | MerchantMessage | string;

export interface Message {
  key: MessageKey;
  params?: Record<string, MessageParam>;
}

export const message = (key: MessageKey, params?: Record<string, MessageParam>): Message => (params ? { key, params } : { key });

type Translate = (key: string, options?: Record<string, unknown>) => string;

/**
 * A message in the language of `t`; a message given as a parameter is put in words first. A stored merchant message
 * (an item's reason) is worded under `messages.*`, as everywhere else; a text that is not a message (a reason written
 * before codes) is shown as it is.
 */
export function formatMessage(msg: Said, t: TFunction): string {
  if (typeof msg === "string") return msg;
  if ("code" in msg) return (t as unknown as Translate)(`messages.${msg.code}`, msg.params ?? {});
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(msg.params ?? {})) params[name] = typeof value === "object" ? formatMessage(value, t) : value;
  return (t as unknown as Translate)(`batchGallery.${msg.key}`, params);
}

/** The gallery's messages in the page's language. */
export function useGalleryText(): (msg: Said) => string {
  const { t } = useTranslation();
  return useCallback((msg: Said) => formatMessage(msg, t), [t]);
}
