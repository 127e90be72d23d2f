/**
 * Child process: the Airwave gateway as users run it (`startGateway` with
 * the configuration from AIRWAVE_* variables), against the inference
 * service at AIRWAVE_INFERENCE_URL (the paced upstream, or the services).
 */
import { loadGatewayConfig, startGateway } from "@airwave/gateway";
import { reportReady } from "./child-control.ts";

const cfg = loadGatewayConfig();
if (!cfg.inferenceUrl) throw new Error("AIRWAVE_INFERENCE_URL is required");
const gw = await startGateway({ ...cfg, inferenceUrl: cfg.inferenceUrl });
reportReady(gw.url);
