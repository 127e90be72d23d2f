import { once } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { Code, type ConnectRouter, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { health, StreamService } from "@airwave/proto";
import { createHealthService, createHealthState } from "@airwave/services";
import { pino, type Logger } from "pino";
import { createAuthenticator } from "./auth/authenticator.js";
import type { GatewayConfig } from "./config.js";
import { Hub } from "./hub.js";
import { corsHeaders } from "./http/cors.js";
import { serveStatic } from "./http/static-files.js";
import { createStreamRoutes } from "./http/stream-routes.js";
import { writeError } from "./http/write-error.js";
import { createStreamService } from "./stream-service.js";
import { createGrpcInferenceClient } from "./grpc-inference-client.js";
import { createWsGateway, wsPath } from "./ws/ws-gateway.js";
import { errorJson } from "./http/encoder.js";

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
   * gRPC health NOT_SERVING) and new streams are refused (UNAVAILABLE);
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

/** How long a new connection may stay silent before it is closed, in ms. */
const detectTimeoutMs = 30_000;

/** The HTTP/2 connection preface a gRPC client sends first (RFC 9113 §3.4). */
const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Starts the gateway on one port: HTTP/1.1 (Connect, gRPC-Web, SSE, NDJSON,
 * the WebSocket session at `/v1/ws`, the demo page) and HTTP/2 cleartext with prior knowledge (gRPC, and
 * Connect over h2c), told apart by the HTTP/2 connection preface.
 *
 * Raises when the port cannot be bound.
 */
export async function startGateway(
  cfg: GatewayConfig & { inferenceUrl: string; webDir?: string; logger?: Logger },
): Promise<Gateway> {
  const logger = cfg.logger ?? pino({ level: cfg.logLevel, name: "airwave-gateway" });
  // gRPC keepalive to the inference service: HTTP/2 PINGs while calls are
  // open, so a dead connection fails its calls (their streams end with
  // failed(UNAVAILABLE)) within interval + timeout instead of hanging.
  const keepalive =
    cfg.inferencePingIntervalMs > 0
      ? { pingIntervalMs: cfg.inferencePingIntervalMs, pingTimeoutMs: cfg.inferencePingTimeoutMs }
      : {};
  // @grpc/grpc-js for the hop from the inference service: about half the CPU
  // per received event of the connect-node client (bench/src/ingress-hop.ts).
  const upstream = createGrpcInferenceClient({ baseUrl: cfg.inferenceUrl, ...keepalive });
  const hub = new Hub(upstream, cfg);
  const onError = (err: ConnectError) => logger.error({ err: err.cause ?? err, code: err.code }, err.rawMessage);
  // One authenticator decides the owner of every call (DESIGN §10).
  const auth = createAuthenticator(cfg);
  const routes = createStreamRoutes(hub, { ...cfg, auth, onError });
  const healthState = createHealthState([StreamService.typeName, health.Health.typeName]);
  const webDir = cfg.webDir ?? fileURLToPath(new URL("../../web/dist/", import.meta.url));

  const connect = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(StreamService, createStreamService(hub, { ...cfg, auth }));
      router.service(health.Health, createHealthService(healthState));
    },
    requireConnectProtocolHeader: true,
    readMaxBytes: cfg.maxRequestBytes,
    fallback(req, res) {
      const r = res as http.ServerResponse;
      const q = req as http.IncomingMessage;
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
  });

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
      res.writeHead(426, { upgrade: "websocket", connection: "Upgrade", "content-type": "application/json" }).end(errorJson(e));
      return;
    }
    if (path === "/healthz") {
      // 200 while serving; 503 once shutting down (readiness probes).
      const serving = healthState.get("") === health.HealthCheckResponse_ServingStatus.SERVING;
      res.writeHead(serving ? 200 : 503, { "content-type": "text/plain" }).end(serving ? "ok\n" : "shutting down\n");
      return;
    }
    routes(req, res)
      .then((handled) => {
        if (!handled) connect(req, res);
      })
      .catch((err: unknown) => {
        logger.error({ err }, "unhandled request error");
        res.destroy();
      });
  };

  const h1 = http.createServer(handler);
  // WebSocket upgrades (HTTP/1.1 only): /v1/ws, anything else 404.
  const ws = createWsGateway(hub, { ...cfg, auth, onError });
  h1.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => ws.handleUpgrade(req, socket, head));
  const h2 = http2.createServer({}, handler as unknown as Parameters<typeof http2.createServer>[1]);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    // Nagle off, as http.Server does for the sockets it accepts itself (this
    // listener takes them first; HTTP/2 sessions turn it off on their own):
    // small event frames go out at once, not a delayed ACK (~40 ms) later.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A connection that says nothing is closed rather than held forever.
    socket.setTimeout(detectTimeoutMs, () => socket.destroy());
    socket.once("readable", function detect() {
      const head = socket.read() as Buffer | null;
      if (head === null) {
        socket.once("readable", detect);
        return;
      }
      const n = Math.min(head.length, h2Preface.length);
      const isH2 = head.subarray(0, n).equals(h2Preface.subarray(0, n));
      socket.setTimeout(0);
      socket.unshift(head);
      (isH2 ? h2 : h1).emit("connection", socket);
    });
  });
  server.listen(cfg.port, cfg.host);
  await once(server, "listening");
  const addr = server.address() as net.AddressInfo;
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${addr.port}`;

  return {
    url,
    port: addr.port,
    hub,
    async close(graceMs = 0) {
      healthState.setAll(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
      // Still listening during the grace period: probes see 503, and clients
      // of running streams can resume here until they end.
      await hub.shutdown(graceMs);
      server.close();
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
