import { useEffect } from "react";
import { useFetcher } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";

export type ItemActionResult = { ok?: boolean; message?: string; error?: string };

/** A fetcher for an item's action route whose answer ({ message } or { error }) is shown as a toast. */
export function useToastingFetcher() {
  const fetcher = useFetcher<ItemActionResult>();
  const shopify = useAppBridge();
  useEffect(() => {
    if (fetcher.state !== "idle" || !fetcher.data) return;
    if (fetcher.data.error) shopify.toast.show(fetcher.data.error, { isError: true });
    else if (fetcher.data.message) shopify.toast.show(fetcher.data.message);
  }, [fetcher.state, fetcher.data, shopify]);
  return fetcher;
}
