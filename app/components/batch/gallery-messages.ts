/**
 * The batch gallery's words: the view-model (gallery-model.ts) returns `{ key, params }` messages, and the components
 * render them in the page's language through the app's i18n module, under `batchGallery` in app/i18n/locales/*.json.
 */
import type { TFunction } from "i18next";
import { useCallback } from "react";
import { useTranslation } from "react-i18next";
import type en from "~/i18n/locales/en.json";

type Paths<T> = { [K in keyof T & string]: T[K] extends string ? K : `${K}.${Paths<T[K]>}` }[keyof T & string];
type Stem<K> = K extends `${infer S}_${"one" | "many" | "other"}` ? S : K;

/** A key under `batchGallery`, plural forms named by their stem (`bulk.approve` for `bulk.approve_one`/`_other`). */
export type MessageKey = Stem<Paths<(typeof en)["batchGallery"]>>;
export type MessageParam = string | number | Message;

export interface Message {
  key: MessageKey;
  params?: Record<string, MessageParam>;
}

export const message = (key: MessageKey, params?: Record<string, MessageParam>): Message => (params ? { key, params } : { key });

type Translate = (key: string, options?: Record<string, unknown>) => string;

/**
 * A message in the language of `t`; a message given as a parameter is put in words first. A text that is not a
 * message (a reason the server wrote) is shown as it is.
 */
export function formatMessage(msg: Message | string, t: TFunction): string {
  if (typeof msg === "string") return msg;
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(msg.params ?? {})) params[name] = typeof value === "object" ? formatMessage(value, t) : value;
  return (t as unknown as Translate)(`batchGallery.${msg.key}`, params);
}

/** The gallery's messages in the page's language. */
export function useGalleryText(): (msg: Message | string) => string {
  const { t } = useTranslation();
  return useCallback((msg: Message | string) => formatMessage(msg, t), [t]);
}
