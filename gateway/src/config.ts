import { readFileSync } from "node:fs";
import { type ApiKey, parseApiKeys } from "./auth/api-keys.js";
import type { AuthMode } from "./auth/authenticator.js";
import { ConfigError, type Env, envNumber } from "@airwave/proto/server";

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
  /** Streams running at once (ended ones do not count); more is RESOURCE_EXHAUSTED `GATEWAY_STREAM_LIMIT`. `AIRWAVE_MAX_STREAMS`, default 10000. */
  maxStreams: number;
  /** Streams one owner (API key, browser, or the shared anonymous owner) runs at once; more is RESOURCE_EXHAUSTED `OWNER_STREAM_LIMIT`. 0 = no limit. `AIRWAVE_OWNER_MAX_STREAMS`, default 100. */
  ownerMaxStreams: number;
  /** Stream starts per owner per second (token bucket refill); faster is RESOURCE_EXHAUSTED `OWNER_RATE_LIMITED` with Retry-After. 0 = no limit. `AIRWAVE_OWNER_STARTS_PER_S`, default 10. */
  ownerStartsPerS: number;
  /** Starts one owner may make at once (the bucket's size, at least the rate). `AIRWAVE_OWNER_STARTS_BURST`, default 50. */
  ownerStartsBurst: number;
  // --- admission control (docs/operations.md "Overload") ---
  /**
   * New streams are refused (RESOURCE_EXHAUSTED `OVERLOADED`, HTTP 429 with
   * Retry-After) while the event-loop delay of the last window is over this,
   * in ms (the window's 90th percentile of `monitorEventLoopDelay`'s
   * lateness). 0 = off. `AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS`, default 100
   * (above a major garbage collection's pause, so a lightly loaded gateway is not refused).
   */
  admissionMaxLoopDelayMs: number;
  /**
   * New streams are refused (`OVERLOADED`) while the event loop was busy
   * more than this share of the last window, in percent
   * (`performance.eventLoopUtilization`). 0 = off.
   * `AIRWAVE_ADMISSION_MAX_LOOP_BUSY_PERCENT`, default 90 (saturation: lower
   * keeps the admitted streams' latency lower under overload, at the price of
   * refusing streams a busy but not saturated gateway could serve).
   */
  admissionMaxLoopBusyPercent: number;
  /** The event loop's window (delay and utilization), in ms (at least 50). `AIRWAVE_ADMISSION_WINDOW_MS`, default 250. */
  admissionWindowMs: number;
  /**
   * New streams are refused (`OVERLOADED`) while this many watches are open
   * (every transport). 0 = off. `AIRWAVE_ADMISSION_MAX_WATCHES`, default 20000.
   */
  admissionMaxWatches: number;
  /**
   * New streams are refused (`OVERLOADED`) while the running streams' logs
   * hold this share of AIRWAVE_LOG_TOTAL_MAX_BYTES, in percent (memory log
   * only). 0 = off. `AIRWAVE_ADMISSION_LOG_PERCENT`, default 85.
   */
  admissionLogPercent: number;
  /**
   * The `retry-after-ms` of an admission refusal, in ms (HTTP `Retry-After`
   * in seconds, rounded up); also that of GATEWAY_STREAM_LIMIT.
   * `AIRWAVE_ADMISSION_RETRY_AFTER_MS`, default 1000.
   */
  admissionRetryAfterMs: number;
  /** Total deadline of one generation, in ms (sent as the gRPC deadline). `AIRWAVE_GENERATION_TIMEOUT_MS`, default 600000. */
  generationTimeoutMs: number;
  /** Largest request body accepted, in bytes. `AIRWAVE_MAX_REQUEST_BYTES`, default 1048576. */
  maxRequestBytes: number;
  /** Log level for the JSON logs (pino). `AIRWAVE_LOG_LEVEL`, default `info`. */
  logLevel: string;
  /** Prometheus metrics at `/metrics` (docs/observability.md). `AIRWAVE_METRICS`: `on` (default) or `off` (no `/metrics`, no counting). */
  metricsEnabled: boolean;
  // --- client connections (slow and idle ones are closed) ---
  /**
   * How long a client may take to send its first bytes (the protocol is told
   * by them) and then a request's headers, in ms; on HTTP/1.1 then 408 with
   * the Connect JSON error `deadline_exceeded` and the connection is
   * closed; an HTTP/2 session that opens no stream in this time is closed
   * with GOAWAY. 0 = off. Checked at least once a second.
   * `AIRWAVE_HEADERS_TIMEOUT_MS`, default 10000.
   */
  headersTimeoutMs: number;
  /**
   * How long a client may take to send a whole request, headers and body, in
   * ms (not the response: streams, long-polls and WebSocket sessions run as
   * long as they need); then on HTTP/1.1 408 `deadline_exceeded` and the
   * connection is closed, on HTTP/2 the stream is reset (RST_STREAM CANCEL).
   * At least AIRWAVE_HEADERS_TIMEOUT_MS; 0 = off.
   * `AIRWAVE_REQUEST_TIMEOUT_MS`, default 30000.
   */
  requestTimeoutMs: number;
  /**
   * Connections the kernel may queue for the gateway to accept (`listen`
   * backlog; Linux caps it at `net.core.somaxconn`). Node's default of 511
   * overflows when thousands of clients connect while the event loop is
   * busy, and the overflow reaches clients as connection resets.
   * `AIRWAVE_LISTEN_BACKLOG`, default 4096.
   */
  listenBacklog: number;
  /**
   * How long an HTTP/1.1 keep-alive connection may sit idle after a response
   * before it is closed, in ms (Node's `keepAliveTimeout`; the socket is
   * closed one second later still). 0 = never.
   * `AIRWAVE_KEEP_ALIVE_TIMEOUT_MS`, default 5000.
   */
  keepAliveTimeoutMs: number;
  /**
   * How long an HTTP/2 session that has served a stream may go without an
   * open stream before it is closed with GOAWAY (NO_ERROR), in ms. 0 = never.
   * `AIRWAVE_H2_IDLE_TIMEOUT_MS`, default 60000.
   */
  h2IdleTimeoutMs: number;
  // --- the log, lifetimes and shutdown ---
  /**
   * Bytes kept per stream, summed over the events' binary (Protobuf)
   * encodings; older events are trimmed (the newest is always kept).
   * `AIRWAVE_LOG_MAX_BYTES`, default 33554432 (32 MiB).
   */
  logMaxBytes: number;
  /**
   * Bytes kept by all streams' logs together. Above it, the oldest events of
   * ended streams are trimmed first, then those of the largest running
   * streams (down to 90 %); new streams are refused (RESOURCE_EXHAUSTED,
   * retryable) while running streams alone hold more than 90 %. 0 = no
   * total limit. `AIRWAVE_LOG_TOTAL_MAX_BYTES`, default 536870912 (512 MiB).
   */
  logTotalMaxBytes: number;
  /**
   * How long an expired stream (past AIRWAVE_STREAM_TTL_MS) is still known,
   * with its terminal event only, so a late resume gets `resumed(EXPIRED)`
   * and how it ended instead of NOT_FOUND, in ms. 0 = forget at the TTL.
   * `AIRWAVE_EXPIRED_TTL_MS`, default 3600000.
   */
  expiredTtlMs: number;
  /**
   * Longest time from the request to the first content event (text,
   * reasoning, tool call, status; not `started` or `usage`), in ms; then the
   * stream ends with `failed(DEADLINE_EXCEEDED, FIRST_TOKEN_TIMEOUT)`. 0 =
   * off. `AIRWAVE_FIRST_TOKEN_TIMEOUT_MS`, default 300000.
   */
  firstTokenTimeoutMs: number;
  /**
   * Longest silence between two events after the first content event, in ms
   * (heartbeats do not count); then `failed(DEADLINE_EXCEEDED,
   * STALL_TIMEOUT)`. 0 = off. `AIRWAVE_STALL_TIMEOUT_MS`, default 120000.
   */
  stallTimeoutMs: number;
  /**
   * A watcher that finds more than this many events ready when it reads gets
   * adjacent text/reasoning deltas coalesced into one event (same text, the
   * last seq; the seqs it sees skip). 0 = never.
   * `AIRWAVE_COALESCE_LAG_EVENTS`, default 256.
   */
  coalesceLagEvents: number;
  /**
   * On SIGTERM, how long running generations may finish before they are
   * ended with `failed(UNAVAILABLE, GATEWAY_SHUTDOWN)`, in ms.
   * `AIRWAVE_SHUTDOWN_GRACE_MS`, default 10000.
   */
  shutdownGraceMs: number;
  // --- several replicas (docs/operations.md) ---
  /**
   * Redis for several gateway replicas sharing streams: stream logs and the
   * stream registry live there, any replica serves any watch, cancel and
   * input reach the replica running the stream. A `redis://` or `rediss://`
   * (TLS) URL with an optional `user:password@` and database number, as
   * ioredis takes it. Unset (the embedded default): everything stays in this
   * process's memory. `AIRWAVE_REDIS_URL`.
   */
  redisUrl: string | undefined;
  /**
   * Redis Sentinel instead of a fixed Redis (high availability): the
   * sentinels to ask for the current primary, as comma-separated
   * `host:port`. With it, AIRWAVE_REDIS_URL gives only the credentials,
   * database and TLS (`rediss:`), not the host, as ioredis's `sentinels`
   * option takes it. `AIRWAVE_REDIS_SENTINELS`; unset: no Sentinel.
   */
  redisSentinels: { host: string; port: number }[] | undefined;
  /** The Sentinel name of the primary (`sentinel monitor <name> …`). `AIRWAVE_REDIS_SENTINEL_NAME`, default `mymaster`. */
  redisSentinelName: string;
  /** Prefix of every Redis key and channel (several deployments can share one Redis). `AIRWAVE_REDIS_PREFIX`, default `airwave:`. */
  redisPrefix: string;
  /**
   * The owner lease of a replica, in ms (renewed every third of it): when a
   * replica stops renewing it, a survivor ends the streams it was running
   * with `failed(UNAVAILABLE, OWNER_LOST, retryable)` within lease + 1 s.
   * `AIRWAVE_OWNER_LEASE_MS`, default 5000 (at least 300).
   */
  ownerLeaseMs: number;
  /**
   * HTTP/2 PING interval on the connection to the inference service while
   * calls are open (gRPC keepalive, GRPC_ARG_KEEPALIVE_TIME_MS), in ms; 0 =
   * no pings. `AIRWAVE_INFERENCE_PING_INTERVAL_MS`, default 30000.
   */
  inferencePingIntervalMs: number;
  /**
   * How long a PING may go unanswered before the connection to the
   * inference service is declared dead and its calls fail (their streams end
   * with `failed(UNAVAILABLE, INFERENCE_STREAM_BROKEN)`), in ms.
   * `AIRWAVE_INFERENCE_PING_TIMEOUT_MS`, default 15000.
   */
  inferencePingTimeoutMs: number;
  // --- identity and the HTTP/Connect edge ---
  /**
   * API keys, each `name:key` (the stream owner is the name, never the key):
   * `AIRWAVE_API_KEYS` (comma-separated pairs) and/or `AIRWAVE_API_KEYS_FILE`
   * (a file path, one pair per line, `#` comments). Default none.
   */
  apiKeys: ApiKey[];
  /**
   * `required`: every StreamService call and /v1/streams route needs
   * `Authorization: Bearer <key>`; `optional`: a key is checked when sent,
   * else the caller is its browser cookie's identity or the shared anonymous
   * owner. `AIRWAVE_AUTH`, default `required` when keys are configured, else
   * `optional`.
   */
  authMode: AuthMode;
  /**
   * HMAC-SHA256 key (at least 32 characters) signing the anonymous browser
   * identity cookie. `AIRWAVE_COOKIE_SECRET`; unset: random per process, so
   * a restart forgets every browser identity.
   */
  cookieSecret: string | undefined;
  /**
   * Longest client deadline (`Connect-Timeout-Ms`, `grpc-timeout`) honoured
   * on a watch, in ms; a longer one is cut to this. 0 = no cap.
   * `AIRWAVE_MAX_DEADLINE_MS`, default 600000.
   */
  maxDeadlineMs: number;
  /**
   * Longest `wait_ms` of a long-poll on `GET /v1/streams/{id}/events`, in ms
   * (also the wait when none is given). `AIRWAVE_LONG_POLL_MAX_WAIT_MS`,
   * default 25000.
   */
  longPollMaxWaitMs: number;
  // --- the WebSocket session at /v1/ws (docs/websocket.md) ---
  /**
   * Largest client message (one WebSocket message, after reassembly of its
   * frames) accepted on `/v1/ws`, in bytes; a larger one closes the socket
   * with 1009. `AIRWAVE_WS_MAX_MESSAGE_BYTES`, default AIRWAVE_MAX_REQUEST_BYTES.
   */
  wsMaxMessageBytes: number;
  /**
   * Streams one socket may watch at once (watches plus creates and watches
   * still being answered); one more is refused with a WsError
   * RESOURCE_EXHAUSTED for that message. `AIRWAVE_WS_MAX_STREAMS`, default 100.
   */
  wsMaxStreams: number;
  /**
   * WebSocket sessions the gateway holds at once; one more is accepted and
   * closed at once with 1013 (try again later). `AIRWAVE_WS_MAX_SOCKETS`,
   * default 10000.
   */
  wsMaxSockets: number;
  /**
   * How long a socket opened without credentials while keys are required
   * may take to send its first message, an `auth`, in ms; then it is closed
   * with 1008. `AIRWAVE_WS_AUTH_TIMEOUT_MS`, default 10000.
   */
  wsAuthTimeoutMs: number;
}

/**
 * Reads the configuration from `env`.
 *
 * Raises a ConfigError (`@airwave/proto/server`) naming the variable when a
 * value does not parse or contradicts another.
 */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const host = env.AIRWAVE_HOST || "127.0.0.1";
  const port = int(env, "AIRWAVE_PORT", 8080);
  const origins = env.AIRWAVE_CORS_ORIGINS;
  const maxRequestBytes = int(env, "AIRWAVE_MAX_REQUEST_BYTES", 1_048_576);
  return {
    host,
    port,
    inferenceUrl: env.AIRWAVE_INFERENCE_URL || undefined,
    corsOrigins: origins
      ? origins
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
      : [`http://${host}:${port}`, `http://localhost:${port}`],
    heartbeatIdleMs: int(env, "AIRWAVE_HEARTBEAT_IDLE_MS", 15_000),
    detachGraceMs: int(env, "AIRWAVE_DETACH_GRACE_MS", 30_000),
    writeTimeoutMs: int(env, "AIRWAVE_WRITE_TIMEOUT_MS", 10_000),
    streamTtlMs: int(env, "AIRWAVE_STREAM_TTL_MS", 300_000),
    logMaxEvents: int(env, "AIRWAVE_LOG_MAX_EVENTS", 100_000),
    maxStreams: int(env, "AIRWAVE_MAX_STREAMS", 10_000),
    ownerMaxStreams: int(env, "AIRWAVE_OWNER_MAX_STREAMS", 100),
    ownerStartsPerS: int(env, "AIRWAVE_OWNER_STARTS_PER_S", 10),
    ownerStartsBurst: int(env, "AIRWAVE_OWNER_STARTS_BURST", 50),
    admissionMaxLoopDelayMs: int(env, "AIRWAVE_ADMISSION_MAX_LOOP_DELAY_MS", 100),
    admissionMaxLoopBusyPercent: Math.min(100, int(env, "AIRWAVE_ADMISSION_MAX_LOOP_BUSY_PERCENT", 90)),
    admissionWindowMs: Math.max(50, int(env, "AIRWAVE_ADMISSION_WINDOW_MS", 250)),
    admissionMaxWatches: int(env, "AIRWAVE_ADMISSION_MAX_WATCHES", 20_000),
    admissionLogPercent: Math.min(100, int(env, "AIRWAVE_ADMISSION_LOG_PERCENT", 85)),
    admissionRetryAfterMs: Math.max(1, int(env, "AIRWAVE_ADMISSION_RETRY_AFTER_MS", 1_000)),
    generationTimeoutMs: int(env, "AIRWAVE_GENERATION_TIMEOUT_MS", 600_000),
    maxRequestBytes,
    logLevel: env.AIRWAVE_LOG_LEVEL || "info",
    metricsEnabled: onOff(env, "AIRWAVE_METRICS", true),
    ...connectionConfig(env),
    ...edgeConfig(env),
    ...lifetimeConfig(env),
    ...wsConfig(env, maxRequestBytes),
  };
}

/** The client-connection timeouts of GatewayConfig. */
function connectionConfig(env: Env) {
  const headersTimeoutMs = int(env, "AIRWAVE_HEADERS_TIMEOUT_MS", 10_000);
  const requestTimeoutMs = int(env, "AIRWAVE_REQUEST_TIMEOUT_MS", 30_000);
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `AIRWAVE_REQUEST_TIMEOUT_MS (${requestTimeoutMs}) must be at least AIRWAVE_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`,
    );
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    listenBacklog: Math.max(1, int(env, "AIRWAVE_LISTEN_BACKLOG", 4_096)),
    keepAliveTimeoutMs: int(env, "AIRWAVE_KEEP_ALIVE_TIMEOUT_MS", 5_000),
    h2IdleTimeoutMs: int(env, "AIRWAVE_H2_IDLE_TIMEOUT_MS", 60_000),
  };
}

/** The WebSocket fields of GatewayConfig. */
function wsConfig(env: Env, maxRequestBytes: number) {
  const wsMaxMessageBytes = int(env, "AIRWAVE_WS_MAX_MESSAGE_BYTES", maxRequestBytes);
  if (wsMaxMessageBytes === 0) throw new ConfigError("AIRWAVE_WS_MAX_MESSAGE_BYTES must be at least 1");
  return {
    wsMaxMessageBytes,
    wsMaxStreams: int(env, "AIRWAVE_WS_MAX_STREAMS", 100),
    wsMaxSockets: int(env, "AIRWAVE_WS_MAX_SOCKETS", 10_000),
    wsAuthTimeoutMs: int(env, "AIRWAVE_WS_AUTH_TIMEOUT_MS", 10_000),
  };
}

/** The log, lifetime and shutdown fields of GatewayConfig. */
function lifetimeConfig(env: Env) {
  return {
    logMaxBytes: int(env, "AIRWAVE_LOG_MAX_BYTES", 32 * 1024 * 1024),
    logTotalMaxBytes: int(env, "AIRWAVE_LOG_TOTAL_MAX_BYTES", 512 * 1024 * 1024),
    expiredTtlMs: int(env, "AIRWAVE_EXPIRED_TTL_MS", 3_600_000),
    firstTokenTimeoutMs: int(env, "AIRWAVE_FIRST_TOKEN_TIMEOUT_MS", 300_000),
    stallTimeoutMs: int(env, "AIRWAVE_STALL_TIMEOUT_MS", 120_000),
    coalesceLagEvents: int(env, "AIRWAVE_COALESCE_LAG_EVENTS", 256),
    shutdownGraceMs: int(env, "AIRWAVE_SHUTDOWN_GRACE_MS", 10_000),
    redisUrl: redisUrlOf(env.AIRWAVE_REDIS_URL),
    redisSentinels: sentinelsOf(env.AIRWAVE_REDIS_SENTINELS),
    redisSentinelName: env.AIRWAVE_REDIS_SENTINEL_NAME || "mymaster",
    redisPrefix: env.AIRWAVE_REDIS_PREFIX || "airwave:",
    ownerLeaseMs: Math.max(300, int(env, "AIRWAVE_OWNER_LEASE_MS", 5_000)),
    inferencePingIntervalMs: int(env, "AIRWAVE_INFERENCE_PING_INTERVAL_MS", 30_000),
    inferencePingTimeoutMs: int(env, "AIRWAVE_INFERENCE_PING_TIMEOUT_MS", 15_000),
  };
}

/** The identity and edge fields of GatewayConfig. */
function edgeConfig(env: Env) {
  const apiKeys = [
    ...parseApiKeys(env.AIRWAVE_API_KEYS ?? "", "AIRWAVE_API_KEYS"),
    ...(env.AIRWAVE_API_KEYS_FILE ? parseApiKeys(readKeysFile(env.AIRWAVE_API_KEYS_FILE), "AIRWAVE_API_KEYS_FILE") : []),
  ];
  if (new Set(apiKeys.map((k) => k.name)).size !== apiKeys.length)
    throw new ConfigError("AIRWAVE_API_KEYS(_FILE): a key name appears twice");
  if (new Set(apiKeys.map((k) => k.key)).size !== apiKeys.length)
    throw new ConfigError("AIRWAVE_API_KEYS(_FILE): two entries share one key");
  const mode = env.AIRWAVE_AUTH || (apiKeys.length > 0 ? "required" : "optional");
  if (mode !== "optional" && mode !== "required") throw new ConfigError(`AIRWAVE_AUTH must be "optional" or "required", got "${mode}"`);
  if (mode === "required" && apiKeys.length === 0)
    throw new ConfigError("AIRWAVE_AUTH=required needs AIRWAVE_API_KEYS or AIRWAVE_API_KEYS_FILE");
  const cookieSecret = env.AIRWAVE_COOKIE_SECRET || undefined;
  if (cookieSecret !== undefined && cookieSecret.length < 32) throw new ConfigError("AIRWAVE_COOKIE_SECRET must be at least 32 characters");
  return {
    apiKeys,
    authMode: mode as AuthMode,
    cookieSecret,
    maxDeadlineMs: int(env, "AIRWAVE_MAX_DEADLINE_MS", 600_000),
    longPollMaxWaitMs: int(env, "AIRWAVE_LONG_POLL_MAX_WAIT_MS", 25_000),
  };
}

/** The text of `AIRWAVE_API_KEYS_FILE`; a file that cannot be read is a ConfigError naming it. */
function readKeysFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`AIRWAVE_API_KEYS_FILE: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** A non-negative integer variable (ms, bytes, counts); `dflt` when unset or blank. */
function int(env: Env, name: string, dflt: number): number {
  return envNumber(env, name, dflt);
}

/** `AIRWAVE_REDIS_URL`, checked: a `redis:` or `rediss:` URL. Raises ConfigError, without echoing the value (it may hold a password). */
function redisUrlOf(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("AIRWAVE_REDIS_URL: not a URL (expected redis://[user:password@]host[:port][/db] or rediss://…)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError(`AIRWAVE_REDIS_URL: the scheme must be redis: or rediss:, not ${url.protocol}`);
  }
  return raw;
}

/** `AIRWAVE_REDIS_SENTINELS`: comma-separated `host:port`. Raises ConfigError for an entry of another shape. */
function sentinelsOf(raw: string | undefined): { host: string; port: number }[] | undefined {
  if (!raw) return undefined;
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(s);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535)
        throw new ConfigError(`AIRWAVE_REDIS_SENTINELS: ${JSON.stringify(s.slice(0, 100))} is not host:port`);
      return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
    });
}

/** An `on`/`off` setting (case-insensitive; unset or empty: `fallback`). Raises ConfigError for anything else. */
function onOff(env: Env, name: string, fallback: boolean): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (!v) return fallback;
  if (v === "on") return true;
  if (v === "off") return false;
  throw new ConfigError(`${name} must be "on" or "off", got "${v.slice(0, 40)}"`);
}
