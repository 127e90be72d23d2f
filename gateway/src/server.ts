import { once } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { Code, type ConnectRouter, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { health, StreamService } from "@airwave/proto";
import {
  answerUnknownGrpcProcedure,
  createHealthService,
  createHealthState,
  refuseMalformedProtobuf,
  registerReflection,
  withSpecGrpcMessage,
} from "@airwave/proto/server";
import { pino, type Logger } from "pino";
import { createAuthenticator } from "./auth/authenticator.js";
import type { GatewayConfig } from "./config.js";
import { startSharedStreams } from "./cluster/shared-streams.js";
import { Hub } from "./hub/hub.js";
import { corsHeaders } from "./http/cors.js";
import { serveStatic } from "./http/static-files.js";
import { createStreamRoutes } from "./http/stream-routes.js";
import { createOpenAIRoutes } from "./openai/openai-routes.js";
import { createAiSdkRoutes } from "./ai-sdk/ai-sdk-routes.js";
import { writeError } from "./errors/write-error.js";
import { answerClientError, type ParserLimits } from "./errors/parser-refusal.js";
import { detectProtocol } from "./detect-protocol.js";
import { limitH2Session } from "./h2-session-limits.js";
import { createStreamService } from "./stream-service.js";
import { createGrpcInferenceClient } from "./grpc-inference-client.js";
import { createWsGateway, wsPath } from "./ws/ws-gateway.js";
import { GatewayMetrics } from "./metrics/gateway-metrics.js";

/** A running gateway. */
export interface Gateway {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The hub (for tests and embedding). */
  readonly hub: Hub;
  /**
   * Graceful shutdown (SIGTERM): readiness fails at once (`/healthz` 503,
   * gRPC health NOT_SERVING), every HTTP/2 connection gets GOAWAY (its calls
   * in flight go on; new calls open a new connection), and new streams are
   * refused (UNAVAILABLE);
   * running generations may finish for `graceMs` (default 0), then end with
   * `failed(UNAVAILABLE, GATEWAY_SHUTDOWN, retryable)` (see
   * {@link Hub.shutdown}); then the port is closed, every WebSocket is closed
   * with 1012 once its watches sent their last messages, and every
   * connection is closed. Resolves when all is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** At shutdown, how long responses may take to flush their last bytes, in ms. */
const shutdownFlushMs = 1_000;

/**
 * How often the HTTP/1.1 server looks for connections past their headers or
 * request timeout, in ms: a quarter of the shorter one, between 100 ms and
 * 1 s, so a slow connection is closed at most 1 s after its deadline
 * (Node's default looks every 30 s).
 */
function checkingIntervalMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  const on = [headersTimeoutMs, requestTimeoutMs].filter((ms) => ms > 0);
  return on.length === 0 ? 1_000 : Math.max(100, Math.min(1_000, Math.floor(Math.min(...on) / 4)));
}

/**
 * Fields pino's `redact` censors in every log line, whatever logs them:
 * credentials by name, at the top level and one level down (a request's
 * `headers`, an error's `config`…). The gateway never logs them by
 * construction; this is the net below.
 */
export const redactedLogPaths = [
  "authorization",
  "cookie",
  "set-cookie",
  "apiKey",
  "api_key",
  "password",
  "*.authorization",
  "*.cookie",
  '*["set-cookie"]',
  "*.apiKey",
  "*.api_key",
  "*.password",
  "*.headers.authorization",
  "*.headers.cookie",
  "*.*.authorization",
  "*.*.apiKey",
  "*.*.api_key",
];

/** A Connect, gRPC or gRPC-Web procedure path: `/<package>.<Service>/<Method>`. */
const procedurePath = /^\/[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;

/**
 * Starts the gateway on one port: HTTP/1.1 (Connect, gRPC-Web, SSE, NDJSON,
 * the WebSocket session at `/v1/ws`, the demo page) and HTTP/2 cleartext with prior knowledge (gRPC, and
 * Connect over h2c), told apart by the HTTP/2 connection preface.
 *
 * Raises when the port cannot be bound.
 */
export async function startGateway(cfg: GatewayConfig & { inferenceUrl: string; webDir?: string; logger?: Logger }): Promise<Gateway> {
  const logger =
    cfg.logger ?? pino({ level: cfg.logLevel, name: "airwave-gateway", redact: { paths: redactedLogPaths, censor: "[redacted]" } });
  // gRPC keepalive to the inference service: HTTP/2 PINGs while calls are
  // open, so a dead connection fails its calls (their streams end with
  // failed(UNAVAILABLE)) within interval + timeout instead of hanging.
  const keepalive =
    cfg.inferencePingIntervalMs > 0 ? { pingIntervalMs: cfg.inferencePingIntervalMs, pingTimeoutMs: cfg.inferencePingTimeoutMs } : {};
  // @grpc/grpc-js for the hop from the inference service: about half the CPU
  // per received event of the connect-node client (bench/src/ingress-hop.ts).
  const upstream = createGrpcInferenceClient({ baseUrl: cfg.inferenceUrl, ...keepalive });
  // The hub scrubs the gateway's own secrets from whatever the inference service sends.
  // Several replicas (AIRWAVE_REDIS_URL): logs and registry shared in Redis.
  const metrics = cfg.metricsEnabled ? new GatewayMetrics() : undefined;
  const shared =
    cfg.redisUrl || cfg.redisSentinels
      ? await startSharedStreams({
          ...cfg,
          redisUrl: cfg.redisUrl ?? "redis://",
          onError: (err, what) => logger.warn({ err: redisErrorOf(err) }, `redis: ${what}`),
          ...(metrics
            ? { onCommand: (seconds: number, ok: boolean) => metrics.redisCommand(seconds, ok), onOwnerLost: () => metrics.ownerLost() }
            : {}),
        })
      : undefined;
  const hub = new Hub(upstream, {
    ...cfg,
    ...(metrics ? { metrics } : {}),
    log: logger,
    secrets: [...cfg.apiKeys.map((k) => k.key), cfg.cookieSecret],
    ...(shared ? { cluster: shared.cluster } : {}),
  });
  const onError = (err: ConnectError) => logger.error({ err: err.cause ?? err, code: err.code }, err.rawMessage);
  // One authenticator decides the owner of every call (README "Owners").
  const auth = createAuthenticator(cfg);
  const routes = createStreamRoutes(hub, { ...cfg, auth, onError });
  const openaiRoutes = createOpenAIRoutes(hub, { ...cfg, auth, onError });
  const aiSdkRoutes = createAiSdkRoutes(hub, { ...cfg, auth, onError, ...(shared ? { chats: shared.cluster.chats } : {}) });
  const healthState = createHealthState([StreamService.typeName, health.Health.typeName]);
  const webDir = cfg.webDir ?? fileURLToPath(new URL("../../web/dist/", import.meta.url));

  // grpc-message encoded as the gRPC spec asks (grpc-js clients decode it exactly; see withSpecGrpcMessage).
  const connect = withSpecGrpcMessage(
    connectNodeAdapter({
      routes: (router: ConnectRouter) => {
        router.service(StreamService, createStreamService(hub, { ...cfg, auth }));
        router.service(health.Health, createHealthService(healthState));
        registerReflection(router, [StreamService, health.Health]);
        // Malformed Protobuf is invalid_argument with a fixed message, not connect-es's internal parser text.
        refuseMalformedProtobuf(router);
      },
      requireConnectProtocolHeader: true,
      readMaxBytes: cfg.maxRequestBytes,
      fallback(req, res) {
        const r = res as http.ServerResponse;
        const q = req as http.IncomingMessage;
        // An unknown service or method: UNIMPLEMENTED, as each protocol says it.
        if (answerUnknownGrpcProcedure(q, r)) return;
        if (procedurePath.test((q.url ?? "/").split("?")[0] ?? "")) {
          writeError(r, new ConnectError(`unknown procedure ${(q.url ?? "/").split("?")[0]?.slice(0, 200)}`, Code.Unimplemented), {
            status: 404,
          });
          return;
        }
        // A page load gives a browser without one its own anonymous identity
        // (embedded dev default); API calls only read the cookie.
        const cookie = q.method === "GET" ? auth.browserCookie({ cookie: q.headers.cookie }, isHttps(q)) : undefined;
        if (cookie) r.setHeader("set-cookie", cookie);
        serveStatic(webDir, q, r)
          .then((served) => {
            if (!served) writeError(r, new ConnectError(`no route for ${(q.url ?? "/").split("?")[0]?.slice(0, 200)}`, Code.NotFound));
          })
          .catch(() => writeError(r, new ConnectError("malformed path", Code.InvalidArgument)));
      },
    }),
  );

  // The HTTP/2 compatibility API mirrors http's request/response for
  // everything used here, so one handler serves both.
  // Responses still being written, so a shutdown lets them flush their last bytes.
  const open = new Set<http.ServerResponse>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    open.add(res);
    res.once("close", () => open.delete(res));
    const preflight = req.method === "OPTIONS";
    const cors = corsHeaders(cfg.corsOrigins, req.headers, preflight);
    if (cors) for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    if (preflight) {
      res.writeHead(cors ? 204 : 403).end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path === wsPath) {
      // A plain request to the WebSocket endpoint (upgrades never reach this
      // handler): 426 Upgrade Required (RFC 9110 §15.5.22), the Connect JSON error.
      const e = new ConnectError(`${wsPath} is a WebSocket endpoint: send an Upgrade: websocket request`, Code.FailedPrecondition);
      writeError(res, e, { status: 426, headers: { upgrade: "websocket", connection: "Upgrade" } });
      return;
    }
    if (metrics && path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) {
      // Prometheus text format (docs/observability.md); the port's other routes need no auth, nor does this one.
      metrics.scrape().then(
        (m) =>
          res
            .writeHead(200, { "content-type": m.contentType, "cache-control": "no-store" })
            .end(req.method === "HEAD" ? undefined : m.body),
        (err: unknown) => {
          logger.error({ err }, "metrics: scrape failed");
          writeError(res, new ConnectError("metrics are unavailable", Code.Internal));
        },
      );
      return;
    }
    if (path === "/healthz") {
      // 200 while serving; 503 once shutting down (readiness probes).
      const serving = healthState.get("") === health.HealthCheckResponse_ServingStatus.SERVING;
      res.writeHead(serving ? 200 : 503, { "content-type": "text/plain" }).end(serving ? "ok\n" : "shutting down\n");
      return;
    }
    openaiRoutes(req, res)
      .then((handled) => handled || aiSdkRoutes(req, res))
      .then((handled) => handled || routes(req, res))
      .then((handled) => {
        if (!handled) connect(req, res);
      })
      .catch((err: unknown) => {
        logger.error({ err }, "unhandled request error");
        res.destroy();
      });
  };

  // The HTTP/1.1 server's own slow-client limits (headersTimeout and
  // requestTimeout cover the request only, never the response). Node checks
  // them on the connections it tracks, and starts tracking when the server
  // emits 'listening' (setupConnectionsTracking in lib/_http_server.js);
  // this server never listens (the listener below hands it its sockets), so
  // it is told it does, before the first connection.
  const h1 = http.createServer(
    {
      headersTimeout: cfg.headersTimeoutMs,
      requestTimeout: cfg.requestTimeoutMs,
      keepAliveTimeout: cfg.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(cfg.headersTimeoutMs, cfg.requestTimeoutMs),
    },
    handler,
  );
  h1.emit("listening");
  // Refusals of Node's parser (400, 408, 413, 431) with the Connect JSON error body.
  const limits: ParserLimits = { maxHeaderBytes: http.maxHeaderSize, ...cfg };
  h1.on("clientError", (err: Error, socket: net.Socket) => answerClientError(err, socket, limits));
  // WebSocket upgrades (HTTP/1.1 only): /v1/ws, anything else 404.
  const ws = createWsGateway(hub, { ...cfg, auth, onError });
  h1.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => ws.handleUpgrade(req, socket, head));
  const h2 = http2.createServer({}, handler as unknown as Parameters<typeof http2.createServer>[1]);
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    h2Sessions.add(session);
    session.once("close", () => h2Sessions.delete(session));
    limitH2Session(session, { firstStreamMs: cfg.headersTimeoutMs, idleMs: cfg.h2IdleTimeoutMs, requestMs: cfg.requestTimeoutMs });
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    // Nagle off, as http.Server does for the sockets it accepts itself (this
    // listener takes them first; HTTP/2 sessions turn it off on their own):
    // small event frames go out at once, not a delayed ACK (~40 ms) later.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A connection that does not say which protocol it speaks within the
    // headers timeout is closed rather than held forever.
    const silent = () => socket.destroy();
    if (cfg.headersTimeoutMs > 0) socket.setTimeout(cfg.headersTimeoutMs, silent);
    // The first bytes, until they tell HTTP/2's preface from HTTP/1.1 (they
    // may arrive one TCP segment at a time).
    const chunks: Buffer[] = [];
    // Ended before it could tell: nothing to answer.
    const ended = () => socket.destroy();
    socket.once("end", ended);
    socket.on("readable", function detect() {
      for (let c: Buffer | null; (c = socket.read() as Buffer | null) !== null; ) chunks.push(c);
      const head = Buffer.concat(chunks);
      const protocol = detectProtocol(head);
      if (protocol === undefined) return;
      socket.off("readable", detect);
      socket.off("end", ended);
      socket.setTimeout(0);
      socket.off("timeout", silent);
      socket.unshift(head);
      (protocol === "h2" ? h2 : h1).emit("connection", socket);
    });
  });
  // A deep accept queue (AIRWAVE_LISTEN_BACKLOG): with Node's 511, thousands of
  // clients connecting while the loop is busy overflow it, and the kernel's
  // SYN cookies for the overflow end as connection resets (bench c=2,000).
  server.listen({ port: cfg.port, host: cfg.host, backlog: cfg.listenBacklog });
  await once(server, "listening");
  const addr = server.address() as net.AddressInfo;
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${addr.port}`;

  return {
    url,
    port: addr.port,
    hub,
    async close(graceMs = 0) {
      healthState.setAll(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
      // HTTP/2 clients get GOAWAY at once: their calls in flight go on, new ones go to a new
      // connection (through a load balancer, another replica) instead of failing at the end.
      for (const s of h2Sessions) s.close();
      // Still listening during the grace period: probes see 503, and clients
      // of running streams can resume here until they end.
      await hub.shutdown(graceMs);
      server.close();
      h1.close();
      // Watches have read their last events; let the responses flush them
      // (at most shutdownFlushMs) before the connections are cut.
      await Promise.all([
        Promise.race([
          Promise.all([...open].map((r) => once(r, "close").catch(() => {}))),
          new Promise((resolve) => setTimeout(resolve, Math.min(shutdownFlushMs, graceMs)).unref()),
        ]),
        // Sockets: their watches' last messages, then close 1012.
        ws.close(shutdownFlushMs),
      ]);
      h1.closeAllConnections();
      for (const s of sockets) s.destroy();
      upstream.close();
      await shared?.close();
    },
  };
}

/**
 * True when the request reached us over TLS, directly or through a proxy
 * that says so in `X-Forwarded-Proto` (it only decides the cookie's
 * `Secure` attribute, so trusting it cannot weaken anything).
 */
function isHttps(req: http.IncomingMessage): boolean {
  if ((req.socket as net.Socket & { encrypted?: boolean }).encrypted) return true;
  const proto = req.headers["x-forwarded-proto"];
  return (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim().toLowerCase() === "https";
}

/** A Redis error for the log: its message and code only (ioredis errors may carry the command's arguments). */
function redisErrorOf(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  return { message: String(e?.message ?? err).slice(0, 300), ...(typeof e?.code === "string" ? { code: e.code } : {}) };
}
