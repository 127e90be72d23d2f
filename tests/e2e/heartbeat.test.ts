/**
 * Heartbeats keep a quiet stream alive through a middlebox that cuts
 * connections idle for 3 s: with heartbeats every 1 s of idleness the stream
 * survives a 4.5 s wait for its first token on every transport; with
 * heartbeats off (the negative control) the same proxy cuts every one.
 */
import { create } from "@bufbuild/protobuf";
import { type CreateStreamRequest, CreateStreamRequestSchema, isTerminal, newStreamId, Role } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { clientTransports, type TransportName, transportNames } from "../support/transports.js";

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

// Long-poll has no heartbeats: each poll is a short request of its own (wait_ms), not an idle stream.
const names = transportNames.filter((n) => n !== "long-poll");

/** Creates one stream through an idle-cutting proxy, without any resume: did it reach its terminal event? */
async function oneStream(gateway: AirwaveProcess, name: TransportName): Promise<{ terminal: boolean; cuts: number; error?: string }> {
  const proxy = await startFaultProxy({ targetPort: Number(new URL(gateway.url).port), idleCutMs });
  let terminal = false;
  let error: string | undefined;
  try {
    for await (const e of clientTransports[name](proxy.url).create(request(), AbortSignal.timeout(30_000))) {
      if (isTerminal(e)) {
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
    const [on, off] = await Promise.all([
      Promise.all(names.map((n) => oneStream(withBeats, n))),
      Promise.all(names.map((n) => oneStream(without, n))),
    ]);
    console.log(
      names
        .map(
          (n, i) =>
            `${n.padEnd(8)} heartbeats ${heartbeatMs} ms: terminal=${on[i]!.terminal} cuts=${on[i]!.cuts} | off: terminal=${off[i]!.terminal} cuts=${off[i]!.cuts} (${off[i]!.error ?? ""})`,
        )
        .join("\n"),
    );
    for (const [i, n] of names.entries()) {
      expect({ n, ...on[i]! }).toEqual({ n, terminal: true, cuts: 0 });
      expect({ n, terminal: off[i]!.terminal, cuts: off[i]!.cuts }).toEqual({ n, terminal: false, cuts: 1 });
      expect(off[i]!.error).toMatch(/unavailable|terminated|network|aborted|ECONNRESET|other side closed/i);
    }
  });
});
