/**
 * Heartbeats keep a quiet stream alive through a middlebox that cuts
 * connections idle for 3 s: with heartbeats every 1 s of idleness the stream
 * survives a 4.5 s wait for its first token on every transport; with
 * heartbeats off (the negative control) the same proxy cuts every one.
 */
import { create, toJson } from "@bufbuild/protobuf";
import { type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { type CreateStreamRequest, CreateStreamRequestSchema, isTerminal, newStreamId, Role } from "@airwave/proto";
import {
  createConnectStreamTransport,
  createGrpcWebStreamTransport,
  createRpcTransport,
  createSseTransport,
  type EventSourceConstructor,
  type StreamTransport,
} from "@airwave/web";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";
import { startFaultProxy } from "../support/fault-proxy.js";

const idleCutMs = 3000;
const heartbeatMs = 1000;
const ttftMs = 4500;

let withBeats: AirwaveProcess;
let without: AirwaveProcess;
beforeAll(async () => {
  [withBeats, without] = await Promise.all([
    startAirwaveProcess({ AIRWAVE_HEARTBEAT_IDLE_MS: String(heartbeatMs) }),
    startAirwaveProcess({ AIRWAVE_HEARTBEAT_IDLE_MS: "0" }),
  ]);
});
afterAll(async () => {
  await Promise.all([withBeats?.stop(), without?.stop()]);
});

function request(): CreateStreamRequest {
  return create(CreateStreamRequestSchema, {
    streamId: newStreamId(),
    request: {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "a slow first token" } }] }],
      metadata: { "simulator.ttft_ms": String(ttftMs), "simulator.output_tokens": "5" },
    },
  });
}

/** Reads a POST /v1/streams NDJSON response as the transports' events would be read: until the terminal line. */
const ndjson: (baseUrl: string) => Pick<StreamTransport, "create"> = (baseUrl) => ({
  async *create(req: CreateStreamRequest, signal: AbortSignal) {
    const res = await fetch(`${baseUrl}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson" },
      body: JSON.stringify(toJson(CreateStreamRequestSchema, req)),
      signal,
    });
    let buf = "";
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        // A line is {"cursor", "event"} for a logged event, or {"heartbeat": {}}.
        const line = JSON.parse(buf.slice(0, nl)) as { event?: Record<string, unknown> };
        buf = buf.slice(nl + 1);
        if (line.event && ("completed" in line.event || "failed" in line.event)) {
          yield { event: { case: "completed" } } as never;
          return;
        }
      }
    }
  },
});

const transports: Record<string, (baseUrl: string) => Pick<StreamTransport, "create">> = {
  connect: (baseUrl) => createConnectStreamTransport({ baseUrl }),
  "grpc-web": (baseUrl) => createGrpcWebStreamTransport({ baseUrl }),
  sse: (baseUrl) => createSseTransport({ baseUrl, EventSource: EventSource as unknown as EventSourceConstructor }),
  grpc: (baseUrl) => createRpcTransport(createGrpcTransport({ baseUrl }) as Transport),
  ndjson,
};

/** Creates one stream through an idle-cutting proxy, without any resume: did it reach its terminal event? */
async function oneStream(gateway: AirwaveProcess, name: string): Promise<{ terminal: boolean; cuts: number; error?: string }> {
  const proxy = await startFaultProxy({ targetPort: Number(new URL(gateway.url).port), idleCutMs });
  let terminal = false;
  let error: string | undefined;
  try {
    for await (const e of transports[name]!(proxy.url).create(request(), AbortSignal.timeout(30_000))) {
      if (e.event.case === "completed" || isTerminal(e)) {
        terminal = true;
        break;
      }
    }
  } catch (e) {
    error = String(e); // the cut: the transport raises Unavailable (or the NDJSON body breaks off)
  } finally {
    await proxy.close();
  }
  return { terminal, cuts: proxy.cuts, ...(error === undefined ? {} : { error }) };
}

describe(`a proxy that cuts connections idle for ${idleCutMs / 1000} s`, () => {
  it("lets every transport's stream through with heartbeats, and cuts every one without them", { timeout: 60_000 }, async () => {
    const names = Object.keys(transports);
    const [on, off] = await Promise.all([
      Promise.all(names.map((n) => oneStream(withBeats, n))),
      Promise.all(names.map((n) => oneStream(without, n))),
    ]);
    console.log(
      names
        .map((n, i) => `${n.padEnd(8)} heartbeats ${heartbeatMs} ms: terminal=${on[i]!.terminal} cuts=${on[i]!.cuts} | off: terminal=${off[i]!.terminal} cuts=${off[i]!.cuts} (${off[i]!.error ?? ""})`)
        .join("\n"),
    );
    for (const [i, n] of names.entries()) {
      expect({ n, ...on[i]! }).toEqual({ n, terminal: true, cuts: 0 });
      expect({ n, terminal: off[i]!.terminal, cuts: off[i]!.cuts }).toEqual({ n, terminal: false, cuts: 1 });
      expect(off[i]!.error).toMatch(/unavailable|terminated|network|aborted|ECONNRESET|other side closed/i);
    }
  });
});
