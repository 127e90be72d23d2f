import { Code } from "@connectrpc/connect";
import { FinishReason, isTerminal, type StreamEvent, toProtoCode } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { describeUpstreamFixtures } from "../../testing/upstream-fixtures.js";
import { decodeOpenAIStream } from "./decode-openai-stream.js";

/** Feeds `bytes` in chunks of `size` bytes (0 = whole) and collects the events. */
async function decode(bytes: Uint8Array, size = 0): Promise<StreamEvent[]> {
  const step = size > 0 ? size : bytes.byteLength || 1;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.byteLength; i += step) c.enqueue(bytes.slice(i, i + step));
      c.close();
    },
  });
  return Array.fromAsync(decodeOpenAIStream(body));
}

const decodeText = (text: string, size = 0) => decode(new TextEncoder().encode(text), size);
const sse = (...chunks: unknown[]) => chunks.map((c) => `data: ${typeof c === "string" ? c : JSON.stringify(c)}\n\n`).join("");
const chunk = (delta: object, finish: string | null = null, extra: object = {}) => ({
  id: "x",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

const textOf = (evs: StreamEvent[]) => evs.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");
const reasoningOf = (evs: StreamEvent[]) => evs.map((e) => (e.event.case === "reasoningDelta" ? e.event.value.text : "")).join("");
const kinds = (evs: StreamEvent[]) => evs.map((e) => e.event.case);
const terminal = (evs: StreamEvent[]) => {
  expect(evs.filter(isTerminal)).toHaveLength(1);
  const last = evs.at(-1);
  expect(last && isTerminal(last)).toBe(true);
  return last!.event;
};

/** What a fixture says, computed from its text independently of the mapper. */
function expectations(text: string) {
  const out = {
    text: "",
    reasoning: "",
    calls: new Map<number, { name: string; args: string }>(),
    finish: undefined as string | undefined,
    refused: false,
    usage: undefined as Record<string, unknown> | undefined,
    error: false,
  };
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "[DONE]") break;
    const j = JSON.parse(data);
    if (j.error) {
      out.error = true;
      break;
    }
    const u = j.usage ?? j.x_groq?.usage;
    if (u) out.usage = u;
    const c = (j.choices ?? []).find((x: { index?: number }) => x.index === 0);
    if (!c || out.finish !== undefined) continue;
    const d = c.delta ?? {};
    if (typeof d.content === "string") out.text += d.content;
    if (Array.isArray(d.content)) {
      for (const p of d.content) {
        if (p.type === "text") out.text += p.text;
        if (p.type === "thinking") out.reasoning += p.thinking.map((t: { text: string }) => t.text).join("");
      }
    }
    if (typeof d.refusal === "string" && d.refusal !== "") {
      out.text += d.refusal;
      out.refused = true;
    }
    out.reasoning += d.reasoning_content ?? d.reasoning ?? "";
    for (const tc of d.tool_calls ?? []) {
      const call = out.calls.get(tc.index) ?? { name: tc.function?.name ?? "", args: "" };
      call.args += tc.function?.arguments ?? "";
      out.calls.set(tc.index, call);
    }
    if (c.finish_reason) out.finish = c.finish_reason;
  }
  return out;
}

const finishTable: Record<string, FinishReason> = {
  stop: FinishReason.STOP,
  eos: FinishReason.STOP,
  length: FinishReason.LENGTH,
  tool_calls: FinishReason.TOOL_CALLS,
};

describeUpstreamFixtures(
  "decodeOpenAIStream over recorded streams",
  ["openai-chat", "openai-compatible", "vllm", "groq", "mistral"],
  (fixtures) => {
    it("finds the fixtures", () => {
      expect(fixtures.length).toBeGreaterThanOrEqual(24);
    });
    describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_, f) => {
      // Bodies over 128 KiB (two Groq recordings) take 61-byte chunks instead of 1-byte ones: 1-byte feeding costs ~70 µs a byte.
      const sizes = f.bytes.byteLength <= 128 * 1024 ? [0, 1, 7] : [0, 61, 7];
      it(`gives the same events for ${sizes[1]}-byte, 7-byte and whole chunks`, async () => {
        const [whole, ...rest] = await Promise.all(sizes.map((n) => decode(f.bytes, n)));
        for (const r of rest) expect(r).toEqual(whole);
      });

      it("maps text, reasoning, tool calls, finish and usage", async () => {
        const want = expectations(new TextDecoder().decode(f.bytes));
        const evs = await decode(f.bytes);
        expect(textOf(evs)).toBe(want.text);
        expect(reasoningOf(evs)).toBe(want.reasoning);

        const started = evs.flatMap((e) => (e.event.case === "toolCallStarted" ? [e.event.value] : []));
        const completed = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [e.event.value] : []));
        expect(started.map((c) => c.name)).toEqual([...want.calls.values()].map((c) => c.name));
        for (const c of completed) {
          expect(c.name).not.toBe("");
          expect(() => JSON.parse(c.argumentsJson)).not.toThrow();
          const deltas = evs.flatMap((e) => (e.event.case === "toolCallDelta" && e.event.value.callId === c.callId ? [e.event.value.argumentsDelta] : []));
          expect(deltas.join("") || "{}").toBe(c.argumentsJson);
        }

        const end = terminal(evs);
        if (want.error) {
          expect(end.case).toBe("failed");
          return;
        }
        expect(end.case).toBe("completed");
        if (end.case !== "completed") return;
        expect(end.value.rawFinishReason).toBe(want.finish);
        const expected =
          want.calls.size > 0 ? FinishReason.TOOL_CALLS : want.refused ? FinishReason.CONTENT_FILTER : finishTable[want.finish!];
        expect(end.value.finishReason).toBe(expected);
        expect(completed).toHaveLength(want.calls.size);

        if (want.usage) {
          expect(end.value.usage?.inputTokens).toBe(want.usage["prompt_tokens"]);
          expect(end.value.usage?.outputTokens).toBe(want.usage["completion_tokens"]);
          const details = want.usage["completion_tokens_details"] as { reasoning_tokens?: number } | undefined;
          expect(end.value.usage?.reasoningTokens).toBe(details?.reasoning_tokens);
          expect(evs.some((e) => e.event.case === "usage")).toBe(true);
        } else {
          expect(end.value.usage).toBeUndefined();
        }
      });
    });
  },
);

describe("decodeOpenAIStream edge cases", () => {
  it("ignores role-only and empty deltas, and keeps text split inside a code point", async () => {
    const body = sse(chunk({ role: "assistant", content: "" }), chunk({}), chunk({ content: "héllo ✓ 😀" }), chunk({}, "stop"), "[DONE]");
    for (const size of [1, 2, 3]) {
      const evs = await decodeText(body, size);
      expect(kinds(evs)).toEqual(["textDelta", "completed"]);
      expect(textOf(evs)).toBe("héllo ✓ 😀");
    }
  });

  it("turns a non-JSON data line into failed INTERNAL UPSTREAM_MALFORMED, and stops there", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }), "{not json", chunk({ content: "b" }, "stop")));
    expect(kinds(evs)).toEqual(["textDelta", "failed"]);
    const end = terminal(evs);
    expect(end.case === "failed" && end.value).toMatchObject({ code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" });
  });

  it("treats a JSON value that is not an object as malformed", async () => {
    const evs = await decodeText(sse("42"));
    expect(terminal(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_MALFORMED" } });
  });

  it("fails with UNAVAILABLE UPSTREAM_TRUNCATED (retryable) when no finish_reason came", async () => {
    for (const body of [sse(chunk({ content: "cut" })), sse(chunk({ content: "cut" }), "[DONE]")]) {
      const evs = await decodeText(body);
      expect(textOf(evs)).toBe("cut");
      expect(terminal(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_TRUNCATED", retryable: true },
      });
    }
    expect(terminal(await decodeText(""))).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED" } });
  });

  it("maps a mid-stream error chunk, with or without `event: error`", async () => {
    const err = { error: { message: "Rate limit reached", type: "rate_limit_exceeded" } };
    for (const body of [
      sse(chunk({ content: "a" }), err),
      `${sse(chunk({ content: "a" }))}event: error\ndata: ${JSON.stringify(err)}\n\n`,
    ]) {
      const evs = await decodeText(body);
      expect(terminal(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.ResourceExhausted), reason: "UPSTREAM_RATE_LIMITED", retryable: true },
      });
    }
    const server = await decodeText(sse({ error: { message: "secret internals", type: "server_error" } }));
    const end = terminal(server);
    expect(end).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR" } });
    expect(end.case === "failed" && end.value.message).not.toContain("secret");
  });

  it("ignores anything after [DONE]", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }, "stop"), "[DONE]", chunk({ content: "b" })));
    expect(kinds(evs)).toEqual(["textDelta", "completed"]);
  });

  it("uses only choice 0 when n > 1", async () => {
    const other = { choices: [{ index: 1, delta: { content: "other" }, finish_reason: null }] };
    const otherEnd = { choices: [{ index: 1, delta: {}, finish_reason: "length" }] };
    const evs = await decodeText(sse(other, chunk({ content: "mine" }), otherEnd, chunk({}, "stop")));
    expect(textOf(evs)).toBe("mine");
    expect(terminal(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });

  it("handles duplicated finish chunks and a usage chunk after the finish", async () => {
    const usage = { prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } };
    const evs = await decodeText(
      sse(chunk({ content: "hi" }), chunk({ content: "" }, "stop"), chunk({ content: "dup" }, "stop"), { choices: [], usage }, "[DONE]"),
    );
    expect(kinds(evs)).toEqual(["textDelta", "usage", "completed"]);
    expect(terminal(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.STOP, usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 0 } },
    });
    const end = terminal(evs);
    expect(end.case === "completed" && end.value.usage?.reasoningTokens).toBeUndefined();
  });

  it("streams tool calls by index and completes each when the choice finishes", async () => {
    const tc = (index: number, f: object, id?: string) => chunk({ tool_calls: [{ index, ...(id ? { id, type: "function" } : {}), function: f }] });
    const evs = await decodeText(
      sse(
        tc(0, { name: "get_weather", arguments: "" }, "call_a"),
        tc(0, { arguments: '{"city":' }),
        tc(1, { name: "get_time", arguments: "" }, "call_b"),
        tc(0, { arguments: '"Paris"}' }),
        chunk({}, "tool_calls"),
      ),
    );
    expect(kinds(evs)).toEqual([
      "toolCallStarted", "toolCallDelta", "toolCallStarted", "toolCallDelta",
      "toolCallCompleted", "toolCallCompleted", "completed",
    ]);
    const done = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [e.event.value] : []));
    expect(done.map((d) => [d.callId, d.name, d.argumentsJson])).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_time", "{}"],
    ]);
  });

  it("accepts tool calls without index (each call whole)", async () => {
    const whole = (id: string) => chunk({ tool_calls: [{ id, function: { name: "f", arguments: '{"a":1}' } }] });
    const evs = await decodeText(sse(whole("c1"), whole("c2"), chunk({}, "stop")));
    const done = evs.flatMap((e) => (e.event.case === "toolCallCompleted" ? [e.event.value.callId] : []));
    expect(done).toEqual(["c1", "c2"]);
    expect(terminal(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS, rawFinishReason: "stop" } });
  });

  it("never completes a tool call whose arguments are not JSON", async () => {
    const bad = chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: '{"a":' } }] });
    const failed = await decodeText(sse(bad, chunk({}, "tool_calls")));
    expect(kinds(failed)).toEqual(["toolCallStarted", "toolCallDelta", "failed"]);
    expect(terminal(failed)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_INVALID_TOOL_ARGUMENTS", retryable: true },
    });
    const cut = await decodeText(sse(bad, chunk({}, "length")));
    expect(kinds(cut)).toEqual(["toolCallStarted", "toolCallDelta", "completed"]);
    expect(terminal(cut)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.LENGTH } });
  });

  it("fails on OpenRouter's finish_reason error", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }), chunk({}, "error")));
    expect(terminal(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_ERROR" } });
  });

  it("prefers reasoning_content over the duplicated reasoning field (vLLM)", async () => {
    const evs = await decodeText(sse(chunk({ reasoning_content: "think", reasoning: "think" }), chunk({ content: "ok" }, "stop")));
    expect(reasoningOf(evs)).toBe("think");
  });
});
