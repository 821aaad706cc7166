import { createContext, useContext } from "react";

/** What one image costs (CREDITS_PER_IMAGE, from the page's loader), for the gallery's prices. */
export const CreditsPerImageContext = createContext<number | null>(null);

export function useCreditsPerImage(): number {
  const credits = useContext(CreditsPerImageContext);
  if (credits === null) throw new Error("CreditsPerImageContext is not provided: the page passes the configured credits per image");
  return credits;
}
