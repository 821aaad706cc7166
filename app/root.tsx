import { Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteLoaderData } from "@remix-run/react";
import type { loader as appLoader } from "~/routes/app";

export default function App() {
  // The embedded pages' language (app.tsx picks it); pages outside /app (auth, errors) are English.
  const lang = useRouteLoaderData<typeof appLoader>("routes/app")?.locale ?? "en";
  return (
    // A stable scrollbar gutter: content that grows past the window (a long image grid) must not narrow the page.
    <html lang={lang} style={{ scrollbarGutter: "stable" }}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <link rel="preconnect" href="https://cdn.shopify.com/" />
        <link rel="stylesheet" href="https://cdn.shopify.com/static/fonts/inter/v4/styles.css" />
        <Meta />
        <Links />
      </head>
      <body>
        <Outlet />
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}
