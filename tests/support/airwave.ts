import { type ServicesConfig, startInferenceServer } from "@airwave/services";
import { type GatewayConfig, loadGatewayConfig, startGateway } from "@airwave/gateway";

/** A running Airwave (inference service + gateway) on ephemeral ports. */
export interface TestAirwave {
  /** The gateway's base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** The inference service's base URL (gRPC). */
  readonly inferenceUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the real inference service and the real gateway on 127.0.0.1 with
 * ephemeral ports, the simulator fast-paced (tests assert behaviour, not
 * timing), and JSON logs silenced.
 */
export async function startAirwave(
  o: { services?: Partial<ServicesConfig>; gateway?: Partial<GatewayConfig> } = {},
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
    ...o.gateway,
    inferenceUrl: services.url,
  });
  return {
    url: gateway.url,
    inferenceUrl: services.url,
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
