/**
 * Gateway configuration, read once from the environment. Every variable is
 * optional; the defaults run Airwave on one machine with the simulator.
 */
export interface GatewayConfig {
  /** Interface to listen on. `AIRWAVE_HOST`, default `127.0.0.1`. */
  host: string;
  /** Port for HTTP/1.1 and HTTP/2 cleartext (h2c). `AIRWAVE_PORT`, default 8080. */
  port: number;
  /**
   * Base URL of the inference service (gRPC over HTTP/2), e.g.
   * `http://127.0.0.1:50051`. `AIRWAVE_INFERENCE_URL`; unset means the
   * gateway starts the embedded inference service itself.
   */
  inferenceUrl: string | undefined;
  /**
   * Origins allowed to call from a browser (CORS), comma-separated.
   * `AIRWAVE_CORS_ORIGINS`, default: the gateway's own origin
   * (`http://<host>:<port>`, plus `http://localhost:<port>`). `*` allows any.
   */
  corsOrigins: string[];
  /** Idle time before a heartbeat, in ms. `AIRWAVE_HEARTBEAT_IDLE_MS`, default 15000. */
  heartbeatIdleMs: number;
  /**
   * How long a generation whose last watcher left keeps running before it is
   * cancelled (on_detach CANCEL_AFTER_GRACE), in ms. `AIRWAVE_DETACH_GRACE_MS`,
   * default 30000.
   */
  detachGraceMs: number;
  /**
   * How long one write to a watcher's socket may wait for the socket to
   * drain before the watcher is closed as too slow, in ms.
   * `AIRWAVE_WRITE_TIMEOUT_MS`, default 10000.
   */
  writeTimeoutMs: number;
  /** How long an ended stream stays in the log for replay, in ms. `AIRWAVE_STREAM_TTL_MS`, default 300000. */
  streamTtlMs: number;
  /** Events kept per stream; older ones are trimmed. `AIRWAVE_LOG_MAX_EVENTS`, default 100000. */
  logMaxEvents: number;
  /** Streams held at once (running or ended); more is RESOURCE_EXHAUSTED. `AIRWAVE_MAX_STREAMS`, default 10000. */
  maxStreams: number;
  /** Total deadline of one generation, in ms (sent as the gRPC deadline). `AIRWAVE_GENERATION_TIMEOUT_MS`, default 600000. */
  generationTimeoutMs: number;
  /** Largest request body accepted, in bytes. `AIRWAVE_MAX_REQUEST_BYTES`, default 1048576. */
  maxRequestBytes: number;
  /** Log level for the JSON logs (pino). `AIRWAVE_LOG_LEVEL`, default `info`. */
  logLevel: string;
}

/**
 * Reads the configuration from `env`.
 *
 * Throws an Error naming the variable when a value does not parse.
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const host = env.AIRWAVE_HOST || "127.0.0.1";
  const port = int(env, "AIRWAVE_PORT", 8080);
  const origins = env.AIRWAVE_CORS_ORIGINS;
  return {
    host,
    port,
    inferenceUrl: env.AIRWAVE_INFERENCE_URL || undefined,
    corsOrigins: origins
      ? origins.split(",").map((s) => s.trim()).filter((s) => s !== "")
      : [`http://${host}:${port}`, `http://localhost:${port}`],
    heartbeatIdleMs: int(env, "AIRWAVE_HEARTBEAT_IDLE_MS", 15_000),
    detachGraceMs: int(env, "AIRWAVE_DETACH_GRACE_MS", 30_000),
    writeTimeoutMs: int(env, "AIRWAVE_WRITE_TIMEOUT_MS", 10_000),
    streamTtlMs: int(env, "AIRWAVE_STREAM_TTL_MS", 300_000),
    logMaxEvents: int(env, "AIRWAVE_LOG_MAX_EVENTS", 100_000),
    maxStreams: int(env, "AIRWAVE_MAX_STREAMS", 10_000),
    generationTimeoutMs: int(env, "AIRWAVE_GENERATION_TIMEOUT_MS", 600_000),
    maxRequestBytes: int(env, "AIRWAVE_MAX_REQUEST_BYTES", 1_048_576),
    logLevel: env.AIRWAVE_LOG_LEVEL || "info",
  };
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}
