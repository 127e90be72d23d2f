/**
 * Child process: the Airwave gateway as users run it (`startGateway` with
 * the configuration from AIRWAVE_* variables), against the inference
 * service at AIRWAVE_INFERENCE_URL (the paced upstream, or the services).
 *
 * BENCH_GATEWAY_DIST (optional) is the path of another build of the
 * gateway's `dist` (a copy inside the repository, so its imports resolve),
 * for an A/B run against the current build (`--baseline=`).
 */
import { pathToFileURL } from "node:url";
import { startTracing } from "@airwave/proto/server/tracing";
import { reportReady } from "./child-control.ts";

const dist = process.env.BENCH_GATEWAY_DIST;
const { loadGatewayConfig, startGateway } = (
  dist ? await import(pathToFileURL(`${dist}/index.js`).href) : await import("@airwave/gateway")
) as typeof import("@airwave/gateway");

// OpenTelemetry as the gateway's entry point starts it (OTEL_* variables; off when none is set).
await startTracing("airwave-gateway");
const cfg = loadGatewayConfig();
if (!cfg.inferenceUrl) throw new Error("AIRWAVE_INFERENCE_URL is required");
const gw = await startGateway({ ...cfg, inferenceUrl: cfg.inferenceUrl });
reportReady(gw.url);
