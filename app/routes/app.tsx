import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useLocation, useRouteError } from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import { AutoRulePausedBanner } from "~/components/AutoRulePausedBanner";
import { LowBalanceBanner } from "~/components/LowBalanceBanner";
import prisma from "~/db.server";
import { getConfig } from "~/lib/config.server";
import { CREDITS_PER_IMAGE, getBalance } from "~/models/credits.server";
import { authenticate } from "../shopify.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [balance, rule] = await Promise.all([
    getBalance(prisma, session.shop),
    prisma.shop.findUnique({ where: { domain: session.shop }, select: { autoCleanEnabled: true, autoCleanPausedFor: true, autoCleanPauseReason: true } }),
  ]);
  const autoRulePaused = rule?.autoCleanEnabled && rule.autoCleanPauseReason ? { reason: rule.autoCleanPauseReason, pausedFor: rule.autoCleanPausedFor } : null;
  return { apiKey: getConfig().SHOPIFY_API_KEY ?? "", balance: { available: balance.available }, creditsPerImage: CREDITS_PER_IMAGE, autoRulePaused };
};

export default function App() {
  const { apiKey, balance, creditsPerImage, autoRulePaused } = useLoaderData<typeof loader>();
  const { pathname } = useLocation();
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey}>
      <NavMenu>
        <Link to="/app" rel="home">
          Images
        </Link>
        <Link to="/app/batches">Batches</Link>
        <Link to="/app/catalog">Whole catalogue</Link>
        <Link to="/app/credits">Credits</Link>
        <Link to="/app/settings">Settings</Link>
      </NavMenu>
      {pathname.startsWith("/app/credits") ? null : (
        <LowBalanceBanner available={balance.available} creditsPerImage={creditsPerImage} />
      )}
      {autoRulePaused ? <AutoRulePausedBanner reason={autoRulePaused.reason} pausedFor={autoRulePaused.pausedFor} /> : null}
      <Outlet />
    </AppProvider>
  );
}

// Shopify needs Remix to catch thrown responses so their headers (auth redirects) survive.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
