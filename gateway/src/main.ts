#!/usr/bin/env node
/**
 * Runs Airwave: the gateway, and (unless AIRWAVE_INFERENCE_URL points at a
 * running inference service) the embedded inference service with the
 * simulator. Prints the URL.
 *
 * SIGTERM/SIGINT shut down gracefully (DESIGN §5): readiness fails at once,
 * new streams are refused, running generations get AIRWAVE_SHUTDOWN_GRACE_MS
 * to finish, then the gateway closes, then the embedded inference service
 * (which the generations need until then), and the process exits 0. A second
 * signal, or a shutdown still running 5 s after the grace period, exits 1.
 */
import { startInferenceServer } from "@airwave/services";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./server.js";
import { stopOnSignals } from "./stop-on-signals.js";

/** Time beyond the grace period to close connections before giving up, in ms. */
const closeMarginMs = 5_000;

const cfg = loadGatewayConfig();
const embedded = cfg.inferenceUrl ? undefined : await startInferenceServer();
const gateway = await startGateway({ ...cfg, inferenceUrl: cfg.inferenceUrl ?? (embedded as { url: string }).url });
console.log(`Airwave is running at ${gateway.url}/`);
console.log(`  inference service: ${cfg.inferenceUrl ?? `${embedded?.url} (embedded, simulator)`}`);

stopOnSignals(process, {
  async stop() {
    await gateway.close(cfg.shutdownGraceMs);
    await embedded?.close();
  },
  exit: (code) => process.exit(code),
  hardDeadlineMs: cfg.shutdownGraceMs + closeMarginMs,
  log: (line) => console.log(line),
});
