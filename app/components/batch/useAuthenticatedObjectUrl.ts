import { useEffect, useState } from "react";

/**
 * Loads an app URL through `fetch` (which App Bridge signs with the session token, unlike an <img>
 * or <a> request) and returns an object URL for it, or the error a merchant can read.
 */
export function useAuthenticatedObjectUrl(url: string | null): { objectUrl: string | null; error: string | null; loading: boolean } {
  const [state, setState] = useState<{ objectUrl: string | null; error: string | null; loading: boolean }>({
    objectUrl: null,
    error: null,
    loading: Boolean(url),
  });
  useEffect(() => {
    if (!url) return;
    let cancelled = false;
    let created: string | null = null;
    setState({ objectUrl: null, error: null, loading: true });
    fetch(url)
      .then(async (response) => {
        if (!response.ok)
          throw new Error(
            response.status === 404 ? "The processed image is not available." : `Could not load it (HTTP ${response.status}).`,
          );
        created = URL.createObjectURL(await response.blob());
        if (!cancelled) setState({ objectUrl: created, error: null, loading: false });
      })
      .catch((error: Error) => {
        if (!cancelled) setState({ objectUrl: null, error: error.message, loading: false });
      });
    return () => {
      cancelled = true;
      if (created) URL.revokeObjectURL(created);
    };
  }, [url]);
  return state;
}

/** Downloads an app URL (e.g. the batch ZIP) through the signed `fetch`, then saves it. */
export async function downloadAuthenticated(url: string, filename: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(response.status === 404 ? "Nothing to download yet." : `Download failed (HTTP ${response.status}).`);
  const header = response.headers.get("Content-Disposition");
  const name = /filename="([^"]+)"/.exec(header ?? "")?.[1] ?? filename;
  const objectUrl = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = objectUrl;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
}
