import { type ServicesConfig, startInferenceServer } from "@airwave/services";
import { type Gateway, type GatewayConfig, loadGatewayConfig, startGateway } from "@airwave/gateway";
import type { Logger } from "pino";

/** A running Airwave (inference service + gateway) on ephemeral ports. */
export interface TestAirwave {
  /** The gateway's base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** The inference service's base URL (gRPC). */
  readonly inferenceUrl: string;
  /** The inference service's `/metrics`, when `services.metricsPort` was given. */
  readonly servicesMetricsUrl?: string | undefined;
  /** The gateway itself (its port, hub, and `close(graceMs)` for shutdown tests). */
  readonly gateway: Gateway;
  close(): Promise<void>;
}

/**
 * The per-owner limits off: the suites start streams in floods from one
 * owner (the shared anonymous one, mostly); the limits have their own test
 * (`gateway/src/owner-limits.test.ts`, and the "per-owner limits" rows of
 * `tests/e2e/error-table.test.ts`).
 */
export const unlimitedOwners = { ownerMaxStreams: 0, ownerStartsPerS: 0 } as const satisfies Partial<GatewayConfig>;
/** {@link unlimitedOwners} as the environment of a gateway process. */
export const unlimitedOwnersEnv = { AIRWAVE_OWNER_MAX_STREAMS: "0", AIRWAVE_OWNER_STARTS_PER_S: "0" } as const;

/**
 * Admission control's event-loop signals off (delay and utilization): the
 * suites run many gateways at once on a shared machine, whose loop figures
 * say more about the machine than about the gateway under test. The other
 * signals (AIRWAVE_MAX_STREAMS, watches, log memory) stay on. The signals
 * have their own tests (`gateway/src/admission.test.ts`,
 * `tests/e2e/admission.test.ts`).
 */
export const unmeasuredLoop = { admissionMaxLoopDelayMs: 0, admissionMaxLoopBusyPercent: 0 } as const satisfies Partial<GatewayConfig>;
/** {@link unmeasuredLoop} as the environment of a gateway process. */
export const unmeasuredLoopEnv = { AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS: "0", AIRWAVE_ADMISSION_MAX_LOOP_BUSY_PERCENT: "0" } as const;

/**
 * Starts the real inference service and the real gateway on 127.0.0.1 with
 * ephemeral ports, the simulator fast-paced (tests assert behaviour, not
 * timing), JSON logs silenced, the per-owner limits off
 * ({@link unlimitedOwners}) and the event loop not measured for admission
 * ({@link unmeasuredLoop}) unless `o.gateway` sets them.
 */
export async function startAirwave(
  o: { services?: Partial<ServicesConfig>; gateway?: Partial<GatewayConfig> & { logger?: Logger; webDir?: string } } = {},
): Promise<TestAirwave> {
  const services = await startInferenceServer({
    port: 0,
    config: { simTtftMs: 5, simTokensPerS: 400, ...o.services },
  });
  const base = loadGatewayConfig({});
  const gateway = await startGateway({
    ...base,
    port: 0,
    logLevel: "silent",
    corsOrigins: ["*"],
    ...unlimitedOwners,
    ...unmeasuredLoop,
    ...o.gateway,
    inferenceUrl: services.url,
  });
  return {
    url: gateway.url,
    inferenceUrl: services.url,
    servicesMetricsUrl: services.metricsUrl,
    gateway,
    async close() {
      await gateway.close();
      await services.close();
    },
  };
}

/** A CreateStreamRequest body in canonical JSON for a one-message prompt. */
export function createBody(prompt: string, extra: Record<string, unknown> = {}, request: Record<string, unknown> = {}) {
  return {
    request: {
      model: "simulator",
      messages: [{ role: "ROLE_USER", parts: [{ text: prompt }] }],
      ...request,
    },
    ...extra,
  };
}

/**
 * Splits concatenated pretty-printed JSON values (as `buf curl` prints one
 * per response message) into parsed values.
 */
export function splitJsonValues(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) {
      out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return out;
}
