/**
 * The browser client's one API over every transport, run from Node against a
 * real gateway and inference service: `stream` an agent run, answer its
 * question with `sendInput` over the same transport, then `watch` the stream
 * again with an agent filter.
 */
import { FinishReason, Role, type StreamEvent } from "@airwave/proto";
import { createAirwaveClient, type EventSourceConstructor, type TransportName, transportNames } from "@airwave/web";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave();
});
afterAll(async () => {
  await aw?.close();
});

const request = {
  model: "simulator/agent",
  messages: [{ role: Role.USER, parts: [{ part: { case: "text" as const, value: "How do heat pumps work?" } }] }],
  metadata: { "simulator.tokens_per_s": "0", "simulator.input": "choice" },
};

describe("createAirwaveClient: agents on every transport", () => {
  it.each(transportNames)("%s: stream, answer the question with sendInput, watch one agent", async (name: TransportName) => {
    const client = createAirwaveClient({
      baseUrl: aw.url,
      transport: name,
      fallback: [],
      EventSource: EventSource as unknown as EventSourceConstructor,
    });
    try {
      const s = client.stream({ request, onDetach: 1 });
      const events: StreamEvent[] = [];
      let answered = "";
      for await (const e of s) {
        events.push(e);
        if (e.event.case === "inputRequested") {
          const choice = e.event.value.choices[0] ?? "";
          expect(choice).not.toBe("");
          answered = await client.sendInput(s.streamId, e.event.value.inputId, choice);
          expect(answered).toBe(e.event.value.inputId);
        }
      }
      expect(answered).not.toBe("");
      expect(events.filter((e) => e.event.case === "inputAnswered").map((e) => e.event.value)).toMatchObject([{ inputId: answered }]);
      expect(events.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });

      // The same stream again, only the writer's events and the whole stream's, in the log's order.
      const writer: StreamEvent[] = [];
      for await (const e of client.watch(s.streamId, undefined, { agentIds: ["writer"] })) writer.push(e);
      const logged = writer.filter((e) => e.seq > 0);
      expect(new Set(logged.map((e) => e.agentId))).toEqual(new Set(["", "writer"]));
      expect(logged.map((e) => e.seq)).toEqual(
        events.filter((e) => e.seq > 0 && (e.agentId === "" || e.agentId === "writer")).map((e) => e.seq),
      );
    } finally {
      client.close();
    }
  });
});
