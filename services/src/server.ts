import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { health, InferenceService } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { loadConfig, type ServicesConfig } from "./config.js";
import {
  answerUnknownGrpcProcedure,
  createHealthService,
  createHealthState,
  refuseMalformedProtobuf,
  registerReflection,
  withSpecGrpcMessage,
} from "@airwave/proto/server";
import { createInferenceService } from "./inference-service.js";
import { ServicesMetrics } from "./metrics.js";
import type { Provider } from "./provider.js";
import { createRouting } from "./routing/create-routing.js";

/** Options of {@link startInferenceServer}. */
export interface InferenceServerOptions {
  /** Interface to listen on; default `config.host` (`AIRWAVE_SERVICES_HOST`, `127.0.0.1`). */
  host?: string;
  /** TCP port; 0 picks an ephemeral port; default `config.port` (`AIRWAVE_SERVICES_PORT`, `50051`). */
  port?: number;
  /** The providers to serve; default `createRouting(config).providers`. */
  providers?: Provider[];
  /** Model aliases (bare name → `<provider>/<model>`); default `createRouting(config).aliases` when `providers` is not given, else none. */
  aliases?: Readonly<Record<string, string>>;
  /** Overrides of the configuration read from the environment by `loadConfig()`. */
  config?: Partial<ServicesConfig>;
}

/** A running inference server. */
export interface InferenceServer {
  /** Base URL for gRPC clients, e.g. `http://127.0.0.1:50051`. */
  readonly url: string;
  /** The Prometheus metrics, `http://<host>:<metricsPort>/metrics`, when `config.metricsPort` is set. */
  readonly metricsUrl?: string | undefined;
  /** The port actually listened on (the ephemeral one when 0 was asked). */
  readonly port: number;
  /**
   * Stops the server: health turns NOT_SERVING, running calls are aborted
   * (their providers' signals fire; clients see UNAVAILABLE), sessions get
   * GOAWAY and are destroyed after at most {@link closeGraceMs}. Idempotent.
   */
  close(): Promise<void>;
}

/** How long `close()` lets open HTTP/2 sessions finish before destroying them, in milliseconds. */
export const closeGraceMs = 1000;

/**
 * Stream resets (cancels) one HTTP/2 connection may send before the server
 * answers GOAWAY and fails every call on it: nghttp2's rapid-reset guard
 * (CVE-2023-44487), Node's `streamResetBurst` / `streamResetRate` (per
 * second). Node's defaults, a burst of 1,000 then 33 per second, suit a
 * public server. This service's peer is the gateway, on one connection,
 * where every Stop, cancelling detach policy and timeout is one reset: a
 * busy gateway passes 33 per second. The service is an internal hop, so it
 * allows 10,000, then 1,000 per second.
 */
export const streamResetBurst = 10_000;
/** Stream resets per second one connection may send once {@link streamResetBurst} is spent (see there). */
export const streamResetRate = 1_000;

/** Bound on one request message, in bytes: 4 MiB (the request text itself is capped at 1 MiB by validation). */
export const readMaxBytes = 4 * 1024 * 1024;

/**
 * Starts the inference service: `airwave.v1.InferenceService` and
 * `grpc.health.v1.Health`, over HTTP/2 cleartext (h2c) through connect-node,
 * so gRPC clients (and Connect/gRPC-Web over HTTP/2) can call it.
 *
 * Raises a ConnectError with Code.InvalidArgument for a malformed environment
 * (see `loadConfig`) or routing file (see `createRouting`); rejects with the listen error (e.g. EADDRINUSE).
 */
export async function startInferenceServer(o: InferenceServerOptions = {}): Promise<InferenceServer> {
  const config: ServicesConfig = { ...loadConfig(), ...o.config };
  const host = o.host ?? config.host;
  const port = o.port ?? config.port;
  const metrics = new ServicesMetrics();
  const { providers, aliases } = o.providers
    ? { providers: o.providers, aliases: o.aliases ?? {} }
    : createRouting(config, { meter: metrics });
  const shutdown = new AbortController();
  const healthState = createHealthState([InferenceService.typeName, health.Health.typeName]);

  const server = http2.createServer(
    { streamResetBurst, streamResetRate },
    // grpc-message encoded as the gRPC spec asks, so the gateway's grpc-js
    // client decodes the error text exactly (see withSpecGrpcMessage).
    withSpecGrpcMessage(
      connectNodeAdapter({
        routes(router) {
          router.service(InferenceService, createInferenceService(providers, { aliases, metrics }));
          router.service(health.Health, createHealthService(healthState));
          registerReflection(router, [InferenceService, health.Health]);
          refuseMalformedProtobuf(router);
        },
        // An unknown service or method: UNIMPLEMENTED for gRPC and gRPC-Web
        // (HTTP 200, grpc-status 12), connect-node's 404 for Connect.
        fallback(req, res) {
          if (answerUnknownGrpcProcedure(req, res)) return;
          res.writeHead(404);
          res.end();
        },
        shutdownSignal: shutdown.signal,
        readMaxBytes,
      }),
    ),
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const metricsServer = config.metricsPort === undefined ? undefined : await serveMetrics(metrics, host, config.metricsPort);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${actual}`,
    port: actual,
    metricsUrl: metricsServer && `http://${urlHost}:${(metricsServer.address() as AddressInfo).port}/metrics`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        healthState.setAll(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
        shutdown.abort(new ConnectError("the inference server is shutting down", Code.Unavailable));
        metricsServer?.close();
        server.close(() => resolve());
        for (const s of sessions) s.close();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, closeGraceMs).unref();
      });
      return closing;
    },
  };
}

/** The HTTP/1.1 server of `GET /metrics` (Prometheus text format); anything else is 404. Rejects with the listen error. */
async function serveMetrics(metrics: ServicesMetrics, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(req.method === "HEAD" ? undefined : body),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics are unavailable\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
