import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { WebSocketServer } from "ws";
import type { Authenticator, Identity } from "../auth/authenticator.js";
import { writeUpgradeError } from "../errors/write-error.js";
import { closeReason, wsClose } from "../errors/ws-close.js";
import type { Hub } from "../hub/hub.js";
import { within } from "../within.js";
import { originAllowed } from "./origin-allowed.js";
import { bearerSubprotocolPrefix, type WsFormat, wsSubprotocols } from "./ws-codec.js";
import { startWsSession, type WsSession } from "./ws-session.js";

/** The path of the WebSocket session. */
export const wsPath = "/v1/ws";

/** Options of {@link createWsGateway}; see GatewayConfig for units and defaults. */
export interface WsGatewayOptions {
  /** Decides the owner of a socket (the same authenticator as every other transport). */
  readonly auth: Authenticator;
  /** Origins allowed to open a socket from a browser: the CORS list (`*` = any). */
  readonly corsOrigins: readonly string[];
  /** Idle time before a watch's heartbeat event and a socket's ping, in ms. */
  readonly heartbeatIdleMs: number;
  /** How long a send may wait for a socket to drain, in ms. */
  readonly writeTimeoutMs: number;
  /** Largest client message, in bytes (larger: close 1009). */
  readonly wsMaxMessageBytes: number;
  /** Streams watched at once per socket. */
  readonly wsMaxStreams: number;
  /** Sockets held at once by the gateway. */
  readonly wsMaxSockets: number;
  /** How long a socket without credentials may take to send its `auth` message, in ms. */
  readonly wsAuthTimeoutMs: number;
  /** Called with errors that are not the client's doing, for logging. */
  readonly onError?: (err: ConnectError) => void;
}

/** The WebSocket endpoint of a gateway. */
export interface WsGateway {
  /**
   * Handles the `upgrade` event of the HTTP/1.1 server. Refuses before the
   * upgrade, with an HTTP error in the Connect JSON format
   * ({@link writeUpgradeError}): 404 for a path other than `/v1/ws`, 503 when
   * shutting down, 403 for an Origin not allowed ({@link originAllowed}),
   * 400 when no offered subprotocol is `airwave.v1.json` or
   * `airwave.v1.proto`, 401 for a wrong API key (header or
   * `airwave.bearer.<key>` subprotocol). Past the cap of sockets, accepts and
   * closes at once with 1013.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open sessions. */
  readonly size: number;
  /**
   * Shutdown, after the hub's (whose end closed every watch): waits up to
   * `flushMs` for the watches to send their last messages, closes every
   * socket with 1012, waits up to `flushMs` for the close handshakes, then
   * terminates what is left. New upgrades get 503 from now on.
   */
  close(flushMs: number): Promise<void>;
}

/**
 * Creates the `/v1/ws` endpoint (docs/websocket.md): `ws` with `noServer`,
 * messages up to `wsMaxMessageBytes` (larger: close 1009), no compression.
 */
export function createWsGateway(hub: Hub, o: WsGatewayOptions): WsGateway {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: o.wsMaxMessageBytes,
    // The client's first supported airwave.v1.* entry; `airwave.bearer.*` is never selected.
    handleProtocols: (offered) => pickFormat(offered)?.protocol ?? false,
  });
  const sessions = new Set<WsSession>();
  let closing = false;

  function accept(ws: import("ws").WebSocket, socket: Duplex, format: WsFormat, identity: Identity | undefined): void {
    if (sessions.size >= o.wsMaxSockets) {
      ws.on("error", () => {});
      ws.close(wsClose.tryLater, closeReason(`the gateway holds its maximum of ${o.wsMaxSockets} sockets; try again later`));
      return;
    }
    const session = startWsSession(ws, socket, {
      hub,
      auth: o.auth,
      format,
      identity,
      heartbeatIdleMs: o.heartbeatIdleMs,
      writeTimeoutMs: o.writeTimeoutMs,
      maxStreams: o.wsMaxStreams,
      authTimeoutMs: o.wsAuthTimeoutMs,
      ...(o.onError ? { onError: o.onError } : {}),
    });
    sessions.add(session);
    void session.done.then(() => sessions.delete(session));
  }

  return {
    get size() {
      return sessions.size;
    },
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (path !== wsPath) {
        writeUpgradeError(socket, new ConnectError(`no WebSocket endpoint at ${path.slice(0, 200)}; use ${wsPath}`, Code.NotFound));
        return;
      }
      if (closing) {
        writeUpgradeError(socket, new ConnectError("the gateway is shutting down; retry", Code.Unavailable));
        return;
      }
      if (!originAllowed(o.corsOrigins, req.headers)) {
        writeUpgradeError(
          socket,
          new ConnectError(`origin ${String(req.headers.origin).slice(0, 200)} is not allowed`, Code.PermissionDenied),
        );
        return;
      }
      const offered = subprotocolsOf(req);
      const picked = pickFormat(offered);
      if (!picked) {
        writeUpgradeError(
          socket,
          new ConnectError("Sec-WebSocket-Protocol must offer airwave.v1.json or airwave.v1.proto", Code.InvalidArgument),
        );
        return;
      }
      const key = [...offered].find((p) => p.startsWith(bearerSubprotocolPrefix))?.slice(bearerSubprotocolPrefix.length);
      const header = req.headers.authorization;
      const authorization = header !== undefined && header !== "" ? header : key !== undefined ? `Bearer ${key}` : undefined;
      let identity: Identity | undefined;
      try {
        identity = o.auth.identify({ authorization, cookie: req.headers.cookie });
      } catch (err) {
        // A wrong key is refused now; no key while keys are required waits for an `auth` message.
        if (authorization !== undefined) {
          writeUpgradeError(socket, ConnectError.from(err));
          return;
        }
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket, picked.format, identity));
    },
    async close(flushMs) {
      closing = true;
      const all = [...sessions];
      await within(Promise.all(all.map((s) => s.idle())), flushMs);
      for (const s of all) s.close(wsClose.restart, "the gateway is restarting; reconnect and resume");
      await within(Promise.all(all.map((s) => s.done)), flushMs);
      for (const s of all) s.terminate();
    },
  };
}

/** The entries of `Sec-WebSocket-Protocol` (comma-separated, RFC 6455 §4.1), in the client's order. */
function subprotocolsOf(req: IncomingMessage): Set<string> {
  const raw = req.headers["sec-websocket-protocol"];
  const text = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
  return new Set(
    text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );
}

/** The first offered subprotocol the gateway speaks, and its format. */
function pickFormat(offered: Set<string>): { protocol: string; format: WsFormat } | undefined {
  for (const p of offered) {
    if (Object.hasOwn(wsSubprotocols, p)) return { protocol: p, format: wsSubprotocols[p] as WsFormat };
  }
  return undefined;
}
