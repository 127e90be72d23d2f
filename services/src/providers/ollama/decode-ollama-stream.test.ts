import { FinishReason, FramingError, type StreamEvent, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyOf, expectSameEventsForAnySplit, expectSameEventsInPieces, piecesOf } from "../../testing/feed-body.js";
import { kinds, reasoningOf, terminalEventOf as terminal, textOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";
import { decodeOllamaStream } from "./decode-ollama-stream.js";

/** Feeds `pieces` as the body and collects the events. */
const decodePieces = (pieces: readonly Uint8Array[], thinkTags = false): Promise<StreamEvent[]> =>
  Array.fromAsync(decodeOllamaStream(bodyOf(pieces), { thinkTags }));

/** Feeds `bytes` in chunks of `size` bytes (0 = whole). */
const decode = (bytes: Uint8Array, size = 0, thinkTags = false) => decodePieces(piecesOf(bytes, size), thinkTags);

const decodeText = (text: string, size = 0, thinkTags = false) => decode(new TextEncoder().encode(text), size, thinkTags);
const ndjson = (...lines: unknown[]) => lines.map((l) => `${typeof l === "string" ? l : JSON.stringify(l)}\n`).join("");

// Lines in the shapes of https://github.com/ollama/ollama/blob/main/docs/api.md (chat) and
// https://ollama.com/blog/streaming-tool (tool calls).
const at = "2023-08-04T08:52:19.385406455-07:00";
const chat = (message: object, extra: object = {}) => ({
  model: "llama3.2",
  created_at: at,
  message: { role: "assistant", content: "", ...message },
  done: false,
  ...extra,
});
const chatDone = (extra: object = {}) =>
  chat(
    {},
    {
      done: true,
      done_reason: "stop",
      total_duration: 4883583458,
      load_duration: 1334875,
      prompt_eval_count: 26,
      prompt_eval_duration: 342546000,
      eval_count: 282,
      eval_duration: 4535599000,
      ...extra,
    },
  );
const call = (name: string, args: unknown) => ({ function: { name, arguments: args } });

describe("decodeOllamaStream, /api/chat", () => {
  it("streams message.content and completes on done with usage, raw reason and durations", async () => {
    const evs = await decodeText(ndjson(chat({ content: "The" }), chat({ content: " sky" }), chatDone()));
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "usage", "completed"]);
    expect(textOf(evs)).toBe("The sky");
    const end = terminal(evs);
    expect(end.event).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.STOP, rawFinishReason: "stop", usage: { inputTokens: 26, outputTokens: 282 } },
    });
    expect(end.providerMetadata).toEqual({
      total_duration: 4883583458,
      load_duration: 1334875,
      prompt_eval_duration: 342546000,
      eval_duration: 4535599000,
    });
  });

  it("streams message.thinking as reasoning before the answer", async () => {
    const evs = await decodeText(ndjson(chat({ thinking: "Hmm" }), chat({ thinking: ", blue." }), chat({ content: "Blue." }), chatDone()));
    expect(kinds(evs)).toEqual(["reasoningDelta", "reasoningDelta", "textDelta", "usage", "completed"]);
    expect(reasoningOf(evs)).toBe("Hmm, blue.");
  });

  it("emits each whole tool call as started, one delta, completed, with call_<n> ids, and finishes with TOOL_CALLS", async () => {
    const evs = await decodeText(
      ndjson(
        chat({ tool_calls: [call("get_current_weather", { format: "celsius", location: "Toronto" })] }),
        chat({ tool_calls: [call("get_current_weather", { format: "celsius", location: "Paris" }), call("get_time", {})] }),
        chatDone(),
      ),
    );
    expect(kinds(evs)).toEqual([
      ...["toolCallStarted", "toolCallDelta", "toolCallCompleted"],
      ...["toolCallStarted", "toolCallDelta", "toolCallCompleted"],
      ...["toolCallStarted", "toolCallDelta", "toolCallCompleted"],
      "usage",
      "completed",
    ]);
    const started = evs.flatMap((e) => (e.event.case === "toolCallStarted" ? [e.event.value] : []));
    expect(started.map((s) => [s.callId, s.name, s.index])).toEqual([
      ["call_0", "get_current_weather", 0],
      ["call_1", "get_current_weather", 1],
      ["call_2", "get_time", 2],
    ]);
    const done = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [e.event.value] : []));
    expect(done.map((d) => JSON.parse(d.argumentsJson))).toEqual([
      { format: "celsius", location: "Toronto" },
      { format: "celsius", location: "Paris" },
      {},
    ]);
    expect(terminal(evs).event).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.TOOL_CALLS, rawFinishReason: "stop" },
    });
  });

  it("uses Ollama's call id when it sends one, {} for absent arguments, and text arguments when they parse", async () => {
    const evs = await decodeText(ndjson(chat({ tool_calls: [{ id: "abc", function: { name: "f" } }, call("g", '{"a":1}')] }), chatDone()));
    const done = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [[e.event.value.callId, e.event.value.argumentsJson]] : []));
    expect(done).toEqual([
      ["abc", "{}"],
      ["call_1", '{"a":1}'],
    ]);
  });

  it("fails UPSTREAM_INVALID_TOOL_ARGUMENTS on text arguments that are not JSON", async () => {
    const evs = await decodeText(ndjson(chat({ tool_calls: [call("f", '{"a":')] }), chatDone()));
    expect(kinds(evs)).toEqual(["toolCallStarted", "toolCallDelta", "failed"]);
    expect(terminal(evs).event).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_INVALID_TOOL_ARGUMENTS", retryable: true } });
  });

  it("maps done_reason length, and leaves unreported usage unset", async () => {
    const evs = await decodeText(
      ndjson(chat({ content: "a" }), {
        model: "m",
        created_at: at,
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: "length",
      }),
    );
    expect(kinds(evs)).toEqual(["textDelta", "completed"]);
    const end = terminal(evs);
    expect(end.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.LENGTH, rawFinishReason: "length" } });
    expect(end.event.case === "completed" && end.event.value.usage).toBeUndefined();
    expect(end.providerMetadata).toBeUndefined();
  });
});

describe("decodeOllamaStream, errors and framing", () => {
  it("fails UNAVAILABLE UPSTREAM_TRUNCATED (retryable) without done: true", async () => {
    for (const body of [ndjson(chat({ content: "cut" })), "", ndjson(chat({ content: "a" }, { done: false }))]) {
      expect(terminal(await decodeText(body)).event).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_TRUNCATED", retryable: true },
      });
    }
  });

  it("maps an error line (https://docs.ollama.com/api/errors), keeping the text before it", async () => {
    const evs = await decodeText(
      ndjson(
        { model: "gemma3", created_at: at, response: " Yes", done: false },
        { error: "an error was encountered while running the model" },
      ),
    );
    expect(kinds(evs)).toEqual(["textDelta", "failed"]);
    expect(terminal(evs).event).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR", retryable: true },
    });
  });

  it("turns a line that is not a JSON object into failed INTERNAL UPSTREAM_MALFORMED, and stops there", async () => {
    for (const bad of ["{nope", "[1,2]", '"text"']) {
      const evs = await decodeText(ndjson(chat({ content: "a" }), bad, chatDone()));
      expect(kinds(evs)).toEqual(["textDelta", "failed"]);
      expect(terminal(evs).event).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" },
      });
    }
  });

  it("accepts CRLF, blank lines and a last line without newline, and ignores lines after done", async () => {
    const body = `${JSON.stringify(chat({ content: "a" }))}\r\n\r\n${JSON.stringify(chatDone())}\r\n${JSON.stringify(chat({ content: "late" }))}`;
    const evs = await decodeText(body, 5);
    expect(kinds(evs)).toEqual(["textDelta", "usage", "completed"]);
    const noNewline = await decodeText(ndjson(chat({ content: "a" })) + JSON.stringify(chatDone()));
    expect(terminal(noNewline).event.case).toBe("completed");
  });

  it("errors the stream with a FramingError on an oversized line", async () => {
    const huge = JSON.stringify({ response: "x".repeat(4 * 1024 * 1024 + 1), done: false });
    await expect(decodeText(huge, 1 << 20)).rejects.toBeInstanceOf(FramingError);
  });
});

describe("decodeOllamaStream, thinkTags", () => {
  it("extracts <think>…</think> split across lines as reasoning, and flushes a held partial tag at the end", async () => {
    const gen = (response: string) => ({ model: "deepseek-r1", created_at: at, response, done: false });
    const body = ndjson(gen("<thi"), gen("nk>\nplan"), gen("</th"), gen("ink>\n\nAnswer <"), {
      model: "deepseek-r1",
      created_at: at,
      response: "",
      done: true,
      done_reason: "stop",
    });
    const evs = await decodeText(body, 0, true);
    expect(reasoningOf(evs)).toBe("\nplan");
    expect(textOf(evs)).toBe("\n\nAnswer <");
    expect(terminal(evs).event.case).toBe("completed");
    const off = await decodeText(body);
    expect(textOf(off)).toBe("<think>\nplan</think>\n\nAnswer <");
  });

  it("flushes held text before a truncation", async () => {
    const evs = await decodeText(ndjson({ response: "x <th", done: false }), 0, true);
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "failed"]);
    expect(textOf(evs)).toBe("x <th");
  });
});

describe("decodeOllamaStream, properties", () => {
  it("never merges whole tool calls, however the lines are split or grouped", async () => {
    const args = fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), {
      maxKeys: 3,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), args), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 40 }),
        async (groups, size) => {
          const body = ndjson(...groups.map((g) => chat({ tool_calls: g.map(([n, a]) => call(n, a)) })), chatDone());
          const evs = await decodeText(body, size);
          const flat = groups.flat();
          const done = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [e.event.value] : []));
          expect(done.map((d) => d.callId)).toEqual(flat.map((_, i) => `call_${i}`));
          expect(done.map((d) => [d.name, JSON.parse(d.argumentsJson)])).toEqual(flat.map(([n, a]) => [n, a]));
          for (const d of done) {
            const deltas = evs.flatMap((e) =>
              e.event.case === "toolCallDelta" && e.event.value.callId === d.callId ? [e.event.value.argumentsDelta] : [],
            );
            expect(deltas).toEqual([d.argumentsJson]);
          }
          terminal(evs);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** What an Ollama transcript says, read from its lines independently of the mapper. */
function expectations(text: string) {
  const out = { response: "", thinking: "", done: undefined as Record<string, unknown> | undefined };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const j = JSON.parse(line);
    out.response += j.response ?? j.message?.content ?? "";
    out.thinking += j.thinking ?? j.message?.thinking ?? "";
    if (j.done === true) {
      out.done = j;
      break;
    }
  }
  return out;
}

describeKindFixtures("decodeOllamaStream over NDJSON bodies", "ollama", "every", { project: 4, shared: 5 }, (fixtures) => {
  describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (name, f) => {
    const thinkTags = name.includes("think-tags");

    it("gives identical events for 1-byte, 7-byte, 64-byte and whole chunks", async () => {
      terminal(await expectSameEventsInPieces(f.bytes, (bytes, size) => decode(bytes, size, thinkTags)));
    });

    it("gives the same events for random splits of the body", async () => {
      await expectSameEventsForAnySplit(f.bytes, (pieces) => decodePieces(pieces, thinkTags), { numRuns: 15, maxCuts: 30 });
    });

    it("maps text, thinking, done_reason and usage as the transcript says", async () => {
      const want = expectations(new TextDecoder().decode(f.bytes));
      const evs = await decode(f.bytes, 0, thinkTags);
      if (thinkTags) {
        // deepseek-r1 writes its reasoning inside the response, as JSON-escaped \u003cthink\u003e … \u003c/think\u003e.
        const m = /^<think>([\s\S]*?)<\/think>([\s\S]*)$/.exec(want.response);
        expect(m).not.toBeNull();
        expect(reasoningOf(evs)).toBe(m![1]);
        expect(textOf(evs)).toBe(m![2]);
      } else {
        expect(textOf(evs)).toBe(want.response);
        expect(reasoningOf(evs)).toBe(want.thinking);
      }
      if (name.includes("thinking-field")) expect(reasoningOf(evs).length).toBeGreaterThan(0);
      const end = terminal(evs);
      expect(want.done).toBeDefined();
      expect(end.event.case).toBe("completed");
      if (end.event.case !== "completed") return;
      expect(end.event.value.rawFinishReason).toBe(want.done!["done_reason"]);
      expect(end.event.value.finishReason).toBe(want.done!["done_reason"] === "stop" ? FinishReason.STOP : FinishReason.LENGTH);
      expect(end.event.value.usage?.inputTokens).toBe(want.done!["prompt_eval_count"] ?? undefined);
      expect(end.event.value.usage?.outputTokens).toBe(want.done!["eval_count"] ?? undefined);
      expect(end.providerMetadata?.["total_duration"]).toBe(want.done!["total_duration"]);
      // The deprecated context array is dropped, never copied into metadata.
      expect(end.providerMetadata).not.toHaveProperty("context");
    });

    it("never throws and ends with exactly one terminal when garbage lines are inserted", async () => {
      const lines = new TextDecoder().decode(f.bytes).split(/(?<=\n)/);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(), fc.oneof(fc.string(), fc.json(), fc.constant("{}"))), { maxLength: 4 }),
          async (inserts) => {
            const out = [...lines];
            for (const [i, g] of inserts) out.splice(i % (out.length + 1), 0, `${g}\n`);
            terminal(await decodeText(out.join(""), 0, thinkTags));
          },
        ),
        { numRuns: 30 },
      );
    });
  });
});
