/**
 * The gateway's listener: every accepted connection, HTTP/1.1 or HTTP/2,
 * has Nagle's algorithm off. http.Server turns it off only for the sockets
 * it accepts itself, and the gateway's protocol-detecting listener takes
 * them first (HTTP/2 sessions turn it off on their own).
 * With Nagle on, a small frame written while the previous one is
 * unacknowledged waits for the client's delayed ACK (~40 ms on Linux):
 * `node bench/src/main.ts --systems=airwave --only=starts` measured 44 ms
 * p50 per one-token stream with it on, 4.6 ms with it off.
 */
import { once } from "node:events";
import net from "node:net";
import { type InferenceServer, startInferenceServer } from "@airwave/services";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadGatewayConfig } from "../../gateway/src/config.js";
import { type Gateway, startGateway } from "../../gateway/src/server.js";

describe("gateway connections", () => {
  let services: InferenceServer;
  let gw: Gateway;
  beforeAll(async () => {
    services = await startInferenceServer({ port: 0 });
    gw = await startGateway({ ...loadGatewayConfig({}), port: 0, logLevel: "silent", inferenceUrl: services.url });
  });
  afterAll(async () => {
    await gw?.close();
    await services?.close();
  });

  it.each([
    ["HTTP/1.1", Buffer.from("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")],
    ["HTTP/2", Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")],
  ])("turn Nagle off (TCP_NODELAY) on %s connections", async (_, hello) => {
    const setNoDelay = vi.spyOn(net.Socket.prototype, "setNoDelay");
    const client = net.connect(gw.port, "127.0.0.1");
    client.on("error", () => {});
    try {
      await once(client, "connect");
      client.write(hello);
      await once(client, "data");
      const onServerSide = setNoDelay.mock.contexts.flatMap((s, i) =>
        (s as net.Socket).remotePort === client.localPort ? [setNoDelay.mock.calls[i]?.[0]] : [],
      );
      expect(onServerSide.length).toBeGreaterThan(0);
      expect(onServerSide.every((on) => on !== false)).toBe(true);
    } finally {
      client.destroy();
      setNoDelay.mockRestore();
    }
  });
});
