import { FinishReason, type StreamEvent } from "@airwave/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { terminalOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";
import { decodeOpenAIResponsesStream } from "./decode-openai-responses-stream.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Decodes `bytes` fed as the given pieces (pulled one at a time). */
function decodePieces(pieces: readonly Uint8Array[]): Promise<StreamEvent[]> {
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        const p = pieces[i++];
        if (p === undefined) c.close();
        else c.enqueue(p);
      },
    },
    { highWaterMark: 0 },
  );
  return Array.fromAsync(decodeOpenAIResponsesStream(body));
}

/** Splits `bytes` at the given offsets. */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % bytes.byteLength))].sort((a, b) => a - b);
  return [0, ...points].map((p, i) => bytes.subarray(p, points[i] ?? bytes.byteLength)).filter((p) => p.byteLength > 0);
}

/** A line the SSE format ignores: a comment, `id:`, `retry:` or an unknown field. Never a line break. */
const ignorableLine = fc
  .tuple(fc.constantFrom(":", ": ", "id: ", "retry: ", "x-garbage: ", "foo"), fc.string({ maxLength: 30 }))
  .map(([prefix, s]) => prefix + s.replace(/[\r\n]/g, " "));

/** Any line at all, including broken `data:` lines. */
const anyLine = fc.oneof(
  ignorableLine,
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40 }).map((s) => `data: ${s}`),
  fc.constantFrom(
    "data: {}",
    'data: {"type":42}',
    "data: [1,2]",
    "data: null",
    'data: {"type":"response.output_text.delta","delta":{}}',
    "data: [DONE]",
  ),
);

describeKindFixtures("decodeOpenAIResponsesStream properties", "openai-responses", "every", { project: 4, shared: 17 }, (fixtures) => {
  describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_, f) => {
    it("random splits of the bytes give the same events", async () => {
      const whole = await decodePieces([f.bytes]);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 60 }), async (cuts) => {
          expect(await decodePieces(split(f.bytes, cuts))).toEqual(whole);
        }),
        { numRuns: 8 },
      );
    });

    it("ignorable SSE lines (comments, id, retry, unknown fields) anywhere change nothing", async () => {
      const whole = await decodePieces([f.bytes]);
      const lines = dec.decode(f.bytes).split("\n");
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(), ignorableLine), { maxLength: 12 }), async (inserts) => {
          const out = [...lines];
          for (const [at, line] of inserts) out.splice(at % out.length, 0, line);
          expect(await decodePieces([enc.encode(out.join("\n"))])).toEqual(whole);
        }),
        { numRuns: 8 },
      );
    });

    it("garbage lines at event boundaries never throw and leave exactly one terminal, last", async () => {
      const events = dec.decode(f.bytes).split(/\n\n/);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(), anyLine), { minLength: 1, maxLength: 5 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          async (inserts, cuts) => {
            const out = [...events];
            for (const [at, line] of inserts) out.splice(at % out.length, 0, line);
            terminalOf(await decodePieces(split(enc.encode(out.join("\n\n")), cuts)));
          },
        ),
        { numRuns: 8 },
      );
    });
  });
});

/** The SSE body of one response whose `calls` function calls stream their fragments in the given interleaving. */
function parallelCallsBody(calls: { args: string; fragments: string[] }[], schedule: readonly number[], byItemIdOnly: boolean): string {
  let seq = 0;
  const events: object[] = [{ type: "response.created", response: { id: "resp_p", status: "in_progress", output: [] } }];
  for (const i of calls.keys()) {
    events.push({
      type: "response.output_item.added",
      output_index: i,
      item: { id: `fc_${i}`, type: "function_call", status: "in_progress", call_id: `call_${i}`, name: `tool_${i}`, arguments: "" },
    });
  }
  const next = calls.map(() => 0);
  const pending = () => calls.map((_c, i) => i).filter((i) => next[i]! < calls[i]!.fragments.length);
  let step = 0;
  for (let open = pending(); open.length > 0; open = pending()) {
    const i = open[(schedule[step++ % Math.max(schedule.length, 1)] ?? 0) % open.length]!;
    const delta = calls[i]!.fragments[next[i]!++]!;
    events.push({
      type: "response.function_call_arguments.delta",
      item_id: `fc_${i}`,
      ...(byItemIdOnly ? {} : { output_index: i }),
      delta,
    });
  }
  for (const [i, c] of calls.entries())
    events.push({ type: "response.function_call_arguments.done", item_id: `fc_${i}`, output_index: i, arguments: c.args });
  events.push({
    type: "response.completed",
    response: { id: "resp_p", status: "completed", usage: { input_tokens: 1, output_tokens: 2 } },
  });
  return events.map((e) => `event: x\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`).join("");
}

describe("parallel function calls, randomly interleaved", () => {
  const argsObject = fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 12 }), fc.boolean()), {
    maxKeys: 4,
  });
  const call = fc.tuple(argsObject, fc.array(fc.nat(), { maxLength: 8 })).map(([obj, cuts]) => {
    const args = JSON.stringify(obj);
    const points = [...new Set(cuts.map((c) => c % (args.length + 1)))].sort((a, b) => a - b);
    const fragments = [0, ...points].map((p, i) => args.slice(p, points[i] ?? args.length)).filter((x) => x !== "");
    return { args, fragments };
  });

  it("never merges calls: each call's deltas are its own fragments and its arguments its own JSON", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(call, { minLength: 2, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (calls, schedule, byItemIdOnly, cuts) => {
          const bytes = enc.encode(parallelCallsBody(calls, schedule, byItemIdOnly));
          const evs = await decodePieces(split(bytes, cuts));
          terminalOf(evs);
          expect(evs.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
          const started = evs.flatMap((e) => (e.event.case === "toolCallStarted" ? [e.event.value] : []));
          expect(started.map((s) => [s.callId, s.name, s.index])).toEqual(calls.map((_, i) => [`call_${i}`, `tool_${i}`, i]));
          calls.forEach((c, i) => {
            const deltas = evs.flatMap((e) =>
              e.event.case === "toolCallDelta" && e.event.value.callId === `call_${i}` ? [e.event.value.argumentsDelta] : [],
            );
            expect(deltas).toEqual(c.fragments.length > 0 ? c.fragments : []);
            const done = evs.flatMap((e) =>
              e.event.case === "toolCallCompleted" && e.event.value.callId === `call_${i}` ? [e.event.value] : [],
            );
            expect(done).toHaveLength(1);
            expect(done[0]?.argumentsJson).toBe(c.args);
            expect(done[0]?.incomplete).toBe(false);
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
