import { once } from "node:events";
import net from "node:net";

/** A fault to apply to the proxy's connections. */
export type Fault =
  /** Close both sides at once with a TCP RST. */
  | { readonly kind: "reset" }
  /** Stop moving bytes in both directions and keep both sockets open (a dead network path). */
  | { readonly kind: "blackhole" }
  /** Let `bytes` more bytes through towards the client, then close both sides (FIN). */
  | { readonly kind: "close-after"; readonly bytes: number };

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where to forward: the server's port on 127.0.0.1. */
  readonly targetPort: number;
  /** Delay added to every chunk in each direction, in milliseconds. Default 0. */
  readonly latencyMs?: number;
  /**
   * Close a connection once no byte has moved in either direction for this
   * long, in milliseconds — like a load balancer's idle timeout. Default none.
   */
  readonly idleCutMs?: number;
}

/** One proxied connection. */
export interface ProxiedConnection {
  /** Bytes forwarded from the server to the client so far. */
  readonly downBytes: number;
  /** True once either side closed. */
  readonly closed: boolean;
  /** Applies a fault to this connection. */
  fault(f: Fault): void;
}

/** A running fault-injecting TCP proxy on 127.0.0.1. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The open connections. */
  readonly connections: ReadonlySet<ProxiedConnection>;
  /** How many connections the proxy cut (faults and idle cuts; not those `close` ends). */
  readonly cuts: number;
  /** Applies a fault to every open connection. */
  faultAll(f: Fault): void;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy in front of a local server that can reset, blackhole,
 * or close connections after N bytes, add latency, and cut idle
 * connections: the network faults a stream must survive, injected at will.
 * It moves bytes only and knows nothing of HTTP. @private test support
 */
export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const connections = new Set<ProxiedConnection>();
  let cuts = 0;
  let closing = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(o.targetPort, "127.0.0.1");
    let downBytes = 0;
    let closed = false;
    let blackholed = false;
    let closeAfter: number | undefined;
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      if (o.idleCutMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (!closing) cuts++;
        end("close");
      }, o.idleCutMs);
    };
    const end = (how: "reset" | "close") => {
      if (closed) return;
      closed = true;
      clearTimeout(idle);
      connections.delete(conn);
      if (how === "reset") {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      } else {
        client.end();
        upstream.destroy();
      }
    };
    const forward = (from: net.Socket, to: net.Socket, down: boolean) => {
      from.on("data", (chunk: Buffer) => {
        if (blackholed || closed) return;
        touch();
        let piece = chunk;
        if (down && closeAfter !== undefined) {
          const room = closeAfter - downBytes;
          if (room < piece.length) piece = piece.subarray(0, Math.max(0, room));
        }
        if (down) downBytes += piece.length;
        const send = () => {
          if (closed || blackholed) return;
          if (piece.length > 0) to.write(piece);
          if (down && closeAfter !== undefined && downBytes >= closeAfter) {
            cuts++;
            end("close");
          }
        };
        if (o.latencyMs) setTimeout(send, o.latencyMs);
        else send();
      });
    };
    const conn: ProxiedConnection = {
      get downBytes() {
        return downBytes;
      },
      get closed() {
        return closed;
      },
      fault(f) {
        if (closed) return;
        switch (f.kind) {
          case "reset":
            if (!closing) cuts++;
            end("reset");
            break;
          case "blackhole":
            cuts++;
            blackholed = true;
            clearTimeout(idle);
            break;
          case "close-after":
            closeAfter = downBytes + f.bytes;
            if (f.bytes === 0) {
              cuts++;
              end("close");
            }
            break;
        }
      },
    };
    connections.add(conn);
    touch();
    forward(client, upstream, false);
    forward(upstream, client, true);
    client.on("error", () => end("close"));
    upstream.on("error", () => end("close"));
    client.on("close", () => end("close"));
    upstream.on("close", () => end("close"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections,
    get cuts() {
      return cuts;
    },
    faultAll(f) {
      for (const c of [...connections]) c.fault(f);
    },
    async close() {
      closing = true;
      for (const c of [...connections]) c.fault({ kind: "reset" });
      server.close();
    },
  };
}
