import type { LoaderFunctionArgs } from "@remix-run/node";
import { metricsResponse, trackQueueDepth } from "~/lib/metrics.server";
import { getQueue } from "~/queue/queue.server";

// Prometheus scrape endpoint; 404 unless METRICS_TOKEN is set, 401 without `Authorization: Bearer <METRICS_TOKEN>`.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  trackQueueDepth(getQueue());
  const { status, headers, body } = await metricsResponse(request.headers.get("authorization"));
  return new Response(body, { status, headers });
};
