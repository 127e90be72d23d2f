import fc from "fast-check";
import { expect, it } from "vitest";
import {
  blockDelta,
  blockStart,
  blockStop,
  decodeChunked,
  decodeCut,
  decodeText,
  messageDelta,
  messageStart,
  messageStop,
  sse,
} from "../../testing/anthropic-sse.js";
import { binary, ofKind, terminalOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";

/** Lines a broken or hostile upstream might interleave: comments, stray fields, junk data, unknown events. */
const garbageLine = fc.oneof(
  fc.constantFrom(": keep-alive", "retry: 10", "id: 7", "event: ping", "data: ", "data: {", "data: null", "data: []", 'data: {"type": 42}'),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, " ")),
  fc.string({ maxLength: 40 }).map((s) => `data: ${s.replace(/[\r\n]/g, " ")}`),
  fc.jsonValue({ maxDepth: 2 }).map((v) => `data: ${JSON.stringify(v)}`),
  fc.constantFrom(
    'data: {"type": "content_block_delta", "index": 99, "delta": {"type": "text_delta", "text": "x"}}',
    'data: {"type": "future_event"}',
  ),
);

describeKindFixtures("anthropic decoding, properties", "anthropic", "every", { project: 4, shared: 15 }, (fixtures) => {
  it("gives the same events however the body is split", async () => {
    const wholes = new Map<string, string[]>();
    for (const f of fixtures) wholes.set(f.name, binary(await decodeChunked(f.bytes)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fixtures), fc.array(fc.nat(), { maxLength: 40 }), async (f, raw) => {
        const cuts = [...new Set(raw.map((n) => n % (f.bytes.byteLength + 1)))].sort((a, b) => a - b);
        expect(binary(await decodeCut(f.bytes, cuts))).toEqual(wholes.get(f.name));
      }),
      { numRuns: 60 },
    );
  });

  it("never throws and always ends with exactly one terminal when garbage lines are inserted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fixtures),
        fc.array(fc.tuple(fc.nat(), garbageLine), { minLength: 1, maxLength: 6 }),
        fc.nat({ max: 64 }),
        async (f, inserts, chunk) => {
          const lines = new TextDecoder().decode(f.bytes).split("\n");
          for (const [at, line] of inserts) lines.splice(at % (lines.length + 1), 0, line);
          const evs = await decodeChunked(new TextEncoder().encode(lines.join("\n")), chunk);
          terminalOf(evs);
        },
      ),
      { numRuns: 80 },
    );
  });
});

/** One tool call's input split into fragments (possibly empty ones, as Anthropic's first fragment is). */
const toolCall = fc
  .tuple(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.array(fc.nat(), { maxLength: 6 }))
  .map(([input, raw]) => {
    const json = JSON.stringify(input);
    const cuts = [...new Set(raw.map((n) => n % (json.length + 1)))].sort((a, b) => a - b);
    const fragments = [...cuts, json.length].map((to, i) => json.slice(i === 0 ? 0 : cuts[i - 1], to));
    return { json, fragments: ["", ...fragments] };
  });

it("never merges parallel tool calls, whatever the interleaving of their fragments", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(toolCall, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 60 }), async (calls, picks) => {
      // Interleave the calls' fragment queues by the picks, each call's own fragments in order.
      const queues = calls.map((c, i) => c.fragments.map((f) => ({ i, f })));
      const order: { i: number; f: string }[] = [];
      let p = 0;
      while (queues.some((q) => q.length > 0)) {
        const open = queues.filter((q) => q.length > 0);
        const q = open[(picks[p++] ?? 0) % open.length];
        const next = q?.shift();
        if (next) order.push(next);
      }
      const events = [
        messageStart(),
        ...calls.map((_, i) => blockStart(i, { type: "tool_use", id: `toolu_${i}`, name: `tool_${i}`, input: {} })),
        ...order.map(({ i, f }) => blockDelta(i, { type: "input_json_delta", partial_json: f })),
        ...calls.map((_, i) => blockStop(i)),
        messageDelta("tool_use"),
        messageStop,
      ];
      const evs = await decodeText(sse(...events));
      expect(ofKind(evs, "toolCallStarted").map((c) => c.callId)).toEqual(calls.map((_, i) => `toolu_${i}`));
      const done = new Map(ofKind(evs, "toolCallCompleted").map((c) => [c.callId, c]));
      calls.forEach((c, i) => {
        const id = `toolu_${i}`;
        const streamed = ofKind(evs, "toolCallDelta")
          .filter((d) => d.callId === id)
          .map((d) => d.argumentsDelta)
          .join("");
        expect(streamed).toBe(c.json);
        expect(done.get(id)?.argumentsJson).toBe(c.json);
        expect(done.get(id)?.name).toBe(`tool_${i}`);
        expect(done.get(id)?.incomplete).toBe(false);
      });
      expect(terminalOf(evs).case).toBe("completed");
    }),
    { numRuns: 150 },
  );
});
