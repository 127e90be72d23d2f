import type { GatewayConfig } from "./config.js";
import { type Gateway, startGateway } from "./server.js";
import { stopOnSignals } from "./stop-on-signals.js";

/** Time beyond the grace period to close connections before giving up, in ms. */
const closeMarginMs = 5_000;

/** Options of {@link runGateway}. */
export interface RunGatewayOptions {
  /** The gateway's configuration; `inferenceUrl` must be set. */
  readonly config: GatewayConfig & { readonly inferenceUrl: string };
  /** How the inference service is described in the start-up line; default: its URL. */
  readonly inferenceLabel?: string;
  /** Runs after the gateway closed on a signal (e.g. closes an embedded inference service, which the generations need until then). */
  readonly afterClose?: () => Promise<void>;
}

/**
 * Runs the gateway as a process: starts it, prints its URL, and shuts it
 * down gracefully on SIGTERM/SIGINT: readiness fails at once, new streams
 * are refused, running generations get `shutdownGraceMs` to finish, then
 * the gateway closes, then `afterClose` runs, and the process exits 0. A
 * second signal, or a shutdown still running 5 s after the grace period,
 * exits 1.
 */
export async function runGateway(o: RunGatewayOptions): Promise<Gateway> {
  const cfg = o.config;
  const gateway = await startGateway(cfg);
  console.log(`Airwave is running at ${gateway.url}/`);
  console.log(`  inference service: ${o.inferenceLabel ?? cfg.inferenceUrl}`);
  stopOnSignals(process, {
    async stop() {
      await gateway.close(cfg.shutdownGraceMs);
      await o.afterClose?.();
    },
    exit: (code) => process.exit(code),
    hardDeadlineMs: cfg.shutdownGraceMs + closeMarginMs,
    log: (line) => console.log(line),
  });
  return gateway;
}
