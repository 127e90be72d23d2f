import type { StreamEvent } from "@airwave/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binary, terminalOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";
import { decodeOpenAIChatStream } from "./decode-openai-chat-stream.js";

/** Decodes `bytes` cut at the given offsets. */
async function decodeAt(bytes: Uint8Array, cuts: readonly number[]): Promise<StreamEvent[]> {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      let from = 0;
      for (const p of [...points, bytes.byteLength]) {
        if (p > from) c.enqueue(bytes.slice(from, p));
        from = Math.max(from, p);
      }
      c.close();
    },
  });
  return Array.fromAsync(decodeOpenAIChatStream(body));
}

const text = (s: string) => new TextEncoder().encode(s);

// Every folder: the Chat Completions bodies of each dialect's folder are picked by content.
describeKindFixtures("openai-chat properties", "openai-chat", "every", { project: 6, shared: 40 }, (fixtures) => {
  it.each(fixtures.map((f) => [f.name, f] as const))("%s: random splits give the same events", async (_, f) => {
    const whole = binary(await decodeAt(f.bytes, []));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (cuts) => {
        expect(binary(await decodeAt(f.bytes, cuts))).toEqual(whole);
      }),
      { numRuns: f.bytes.byteLength > 64 * 1024 ? 5 : 25 },
    );
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s: random garbage lines never crash and end with one terminal", async (_, f) => {
    const lines = new TextDecoder().decode(f.bytes).split("\n");
    const garbage = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, "")),
      fc.string({ maxLength: 30 }).map((s) => `data: ${s.replace(/[\r\n]/g, "")}`),
      fc.constantFrom(": keep-alive", "event: ping", "data: {}", "data: []", 'data: {"choices": 7}', "id: 9", "retry: x", "\u0000\u00ff"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), garbage), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (inserts, cuts) => {
          const copy = [...lines];
          for (const [at, line] of inserts) copy.splice(at % (copy.length + 1), 0, line);
          const evs = await decodeAt(text(copy.join("\n")), cuts);
          terminalOf(evs);
        },
      ),
      { numRuns: f.bytes.byteLength > 64 * 1024 ? 5 : 20 },
    );
  });
});

describe("parallel tool calls under random interleavings", () => {
  const call = fc.record({
    name: fc.stringMatching(/^[a-z_]{1,12}$/),
    args: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean()), {
      maxKeys: 4,
    }),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
  });
  /** How a server identifies fragments: OpenAI (index always, id on the first), id on every fragment with index 0 for all, id on every fragment without index. */
  const styles = ["openai", "id-reused-index", "id-no-index"] as const;

  it("never merges calls, and each call's arguments are its own fragments", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(call, { minLength: 2, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.constantFrom(...styles),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (calls, order, style, cuts) => {
          const frags = calls.map((c) => {
            const json = JSON.stringify(c.args);
            const points = [...new Set(c.cuts.map((p) => p % (json.length + 1)))].sort((a, b) => a - b);
            return [0, ...points].map((p, i, a) => json.slice(p, a[i + 1] ?? json.length)).filter((s) => s !== "");
          });
          // Interleave: `order` picks which call sends its next fragment; the rest follow in call order.
          const next = calls.map(() => 0);
          const seq: number[] = [];
          for (const o of order) {
            const open = calls.map((_, i) => i).filter((i) => next[i]! < frags[i]!.length);
            if (open.length === 0) break;
            const i = open[o % open.length]!;
            seq.push(i);
            next[i]!++;
          }
          calls.forEach((_, i) => {
            while (next[i]! < frags[i]!.length) {
              seq.push(i);
              next[i]!++;
            }
          });
          const sent = calls.map(() => 0);
          const chunks = seq.map((i) => {
            const first = sent[i] === 0;
            const arguments_ = frags[i]![sent[i]!++]!;
            const id = `call_${i}_x`;
            const fn = first ? { name: calls[i]!.name, arguments: arguments_ } : { arguments: arguments_ };
            const tc =
              style === "openai"
                ? { index: i, ...(first ? { id, type: "function" } : {}), function: fn }
                : style === "id-reused-index"
                  ? { index: 0, id, function: fn }
                  : { id, function: fn };
            return { choices: [{ index: 0, delta: { tool_calls: [tc] }, finish_reason: null }] };
          });
          chunks.push({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] } as never);
          const body = `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("")}data: [DONE]\n\n`;
          const evs = await decodeAt(text(body), cuts);
          terminalOf(evs);
          const done = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [e.event.value] : []));
          // Calls with no fragments at all ({} → "{}" is one fragment, so every call has one) are started in order of first fragment.
          const firstSeen = [...new Set(seq)];
          expect(done.map((d) => d.callId)).toEqual(firstSeen.map((i) => `call_${i}_x`));
          for (const d of done) {
            const i = Number(d.callId.split("_")[1]);
            expect(d.name).toBe(calls[i]!.name);
            expect(JSON.parse(d.argumentsJson)).toEqual(calls[i]!.args);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
