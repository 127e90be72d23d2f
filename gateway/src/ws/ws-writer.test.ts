import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { createWsWriter } from "./ws-writer.js";

/** A socket and a `ws` stand-in: `writableNeedDrain` makes every send leave the socket needing a drain. */
function fakes() {
  const socket = Object.assign(new EventEmitter(), { writableNeedDrain: false, cork: vi.fn(), uncork: vi.fn() });
  const sent: Uint8Array[] = [];
  const ws = Object.assign(new EventEmitter(), {
    readyState: WebSocket.OPEN as number,
    send: vi.fn((b: Uint8Array) => sent.push(b)),
    terminate: vi.fn(function (this: EventEmitter & { readyState: number }) {
      this.readyState = WebSocket.CLOSED;
      this.emit("close", 1006, Buffer.alloc(0));
    }),
  });
  const writer = createWsWriter(ws as unknown as WebSocket, socket as unknown as Duplex, false, 1000);
  return { socket, ws, sent, writer };
}

describe("createWsWriter", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("resolves at once while the socket takes the bytes", async () => {
    const { writer, sent } = fakes();
    await writer.send(new Uint8Array([1]));
    await writer.sink().write(new Uint8Array([2]));
    expect(sent).toHaveLength(2);
  });

  it("corks the socket for the sends of one tick, whatever the watch, and uncorks it on the next", async () => {
    const { writer, socket, sent } = fakes();
    const a = writer.sink();
    const b = writer.sink();
    expect(a.write("1")).toBeUndefined(); // taken at once: nothing to await
    expect(b.write("2")).toBeUndefined();
    void writer.send("3");
    expect(sent).toEqual(["1", "2", "3"]);
    expect(socket.cork).toHaveBeenCalledOnce();
    expect(socket.uncork).not.toHaveBeenCalled();
    await new Promise((tick) => process.nextTick(tick));
    expect(socket.uncork).toHaveBeenCalledOnce();
    void a.write("4");
    expect(socket.cork).toHaveBeenCalledTimes(2); // a new tick, a new cork
  });

  it("waits for drain, and holds every other send of the socket until then", async () => {
    const { writer, socket, sent } = fakes();
    socket.writableNeedDrain = true;
    let firstDone = false;
    const first = writer.send(new Uint8Array([1])).then(() => (firstDone = true));
    const second = writer.send(new Uint8Array([2]));
    await vi.advanceTimersByTimeAsync(500);
    expect(firstDone).toBe(false);
    expect(sent).toHaveLength(1); // the second waits for the same drain
    socket.writableNeedDrain = false;
    socket.emit("drain");
    await first;
    await second;
    expect(sent).toHaveLength(2);
  });

  it("terminates a socket that does not drain within the write deadline (DEADLINE_EXCEEDED), then refuses with CANCELED", async () => {
    const { writer, socket, ws } = fakes();
    socket.writableNeedDrain = true;
    const stuck = writer.send(new Uint8Array([1])).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    const err = await stuck;
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(ws.terminate).toHaveBeenCalledOnce();
    await expect(writer.send(new Uint8Array([2]))).rejects.toMatchObject({ code: Code.Canceled });
    expect(socket.listenerCount("drain")).toBe(0);
  });

  it("fails a waiting send with CANCELED when the socket closes", async () => {
    const { writer, socket, ws } = fakes();
    socket.writableNeedDrain = true;
    const waiting = writer.send(new Uint8Array([1])).catch((e: unknown) => e);
    ws.readyState = WebSocket.CLOSED;
    ws.emit("close", 1000, Buffer.alloc(0));
    expect(await waiting).toMatchObject({ code: Code.Canceled });
  });
});
