import { Code } from "@connectrpc/connect";
import { FinishReason, type StreamEvent, toProtoCode } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { eventsOfKind, kinds, ofKind, reasoningOf, terminalOf, textOf } from "../../testing/stream-events.js";
import { decodeOpenAIChatStream } from "./decode-openai-chat-stream.js";

/** Feeds `bytes` in chunks of `size` bytes (0 = whole) and collects the events. */
async function decode(bytes: Uint8Array, size = 0): Promise<StreamEvent[]> {
  const step = size > 0 ? size : bytes.byteLength || 1;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.byteLength; i += step) c.enqueue(bytes.slice(i, i + step));
      c.close();
    },
  });
  return Array.fromAsync(decodeOpenAIChatStream(body));
}

const decodeText = (text: string, size = 0) => decode(new TextEncoder().encode(text), size);
const sse = (...chunks: unknown[]) => chunks.map((c) => `data: ${typeof c === "string" ? c : JSON.stringify(c)}\n\n`).join("");
const chunk = (delta: object, finish: string | null = null, extra: object = {}) => ({
  id: "x",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

describe("decodeOpenAIChatStream edge cases", () => {
  it("ignores role-only and empty deltas, and keeps text split inside a code point", async () => {
    const body = sse(chunk({ role: "assistant", content: "" }), chunk({}), chunk({ content: "héllo ✓ 😀" }), chunk({}, "stop"), "[DONE]");
    for (const size of [1, 2, 3]) {
      const evs = await decodeText(body, size);
      expect(kinds(evs)).toEqual(["textDelta", "completed"]);
      expect(textOf(evs, 0)).toBe("héllo ✓ 😀");
    }
  });

  it("turns a non-JSON data line into failed INTERNAL UPSTREAM_MALFORMED, and stops there", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }), "{not json", chunk({ content: "b" }, "stop")));
    expect(kinds(evs)).toEqual(["textDelta", "failed"]);
    const end = terminalOf(evs);
    expect(end.case === "failed" && end.value).toMatchObject({ code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" });
  });

  it("treats a JSON value that is not an object as malformed", async () => {
    const evs = await decodeText(sse("42"));
    expect(terminalOf(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_MALFORMED" } });
  });

  it("fails with UNAVAILABLE UPSTREAM_TRUNCATED (retryable) when no finish_reason came", async () => {
    for (const body of [sse(chunk({ content: "cut" })), sse(chunk({ content: "cut" }), "[DONE]")]) {
      const evs = await decodeText(body);
      expect(textOf(evs, 0)).toBe("cut");
      expect(terminalOf(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_TRUNCATED", retryable: true },
      });
    }
    expect(terminalOf(await decodeText(""))).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED" } });
  });

  it("maps a mid-stream error chunk, with or without `event: error`", async () => {
    const err = { error: { message: "Rate limit reached", type: "rate_limit_exceeded" } };
    for (const body of [
      sse(chunk({ content: "a" }), err),
      `${sse(chunk({ content: "a" }))}event: error\ndata: ${JSON.stringify(err)}\n\n`,
    ]) {
      const evs = await decodeText(body);
      expect(terminalOf(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.ResourceExhausted), reason: "UPSTREAM_RATE_LIMITED", retryable: true },
      });
    }
    const server = await decodeText(sse({ error: { message: "secret internals", type: "server_error" } }));
    const end = terminalOf(server);
    expect(end).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR" } });
    expect(end.case === "failed" && end.value.message).not.toContain("secret");
  });

  it("ignores anything after [DONE]", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }, "stop"), "[DONE]", chunk({ content: "b" })));
    expect(kinds(evs)).toEqual(["textDelta", "completed"]);
  });

  it("keeps n > 1 choices apart by choice_index; choice 0's reason on the terminal, the others' in its metadata", async () => {
    const other = { choices: [{ index: 1, delta: { content: "other" }, finish_reason: null }] };
    const otherEnd = { choices: [{ index: 1, delta: {}, finish_reason: "length" }] };
    const evs = await decodeText(sse(other, chunk({ content: "mine" }), otherEnd, chunk({}, "stop")));
    expect(textOf(evs, 0)).toBe("mine");
    expect(evs.filter((e) => e.choiceIndex === 1).map((e) => e.event.value)).toMatchObject([{ text: "other" }]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP, rawFinishReason: "stop" } });
    expect(evs.at(-1)?.providerMetadata).toEqual({ choices: [{ index: 1, finish_reason: "length" }] });
  });

  it("is truncated while any choice that appeared has not finished", async () => {
    const other = { choices: [{ index: 1, delta: { content: "other" }, finish_reason: null }] };
    const evs = await decodeText(sse(chunk({ content: "mine" }, "stop"), other, "[DONE]"));
    expect(terminalOf(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED" } });
  });

  it("gives each choice its own tool calls", async () => {
    const tc = (choice: number, id: string) => ({
      choices: [
        {
          index: choice,
          delta: { tool_calls: [{ index: 0, id, function: { name: `f${choice}`, arguments: "{}" } }] },
          finish_reason: null,
        },
      ],
    });
    const fin = (choice: number) => ({ choices: [{ index: choice, delta: {}, finish_reason: "tool_calls" }] });
    const evs = await decodeText(sse(tc(0, "a"), tc(1, "b"), fin(1), fin(0)));
    const done = eventsOfKind(evs, "toolCallCompleted").map((e) => [e.choiceIndex, e.event.value.callId, e.event.value.name]);
    expect(done).toEqual([
      [1, "b", "f1"],
      [0, "a", "f0"],
    ]);
  });

  it("handles duplicated finish chunks and a usage chunk after the finish", async () => {
    const usage = { prompt_tokens: 5, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } };
    const evs = await decodeText(
      sse(chunk({ content: "hi" }), chunk({ content: "" }, "stop"), chunk({ content: "dup" }, "stop"), { choices: [], usage }, "[DONE]"),
    );
    expect(kinds(evs)).toEqual(["textDelta", "usage", "completed"]);
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.STOP, usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 0 } },
    });
    const end = terminalOf(evs);
    expect(end.case === "completed" && end.value.usage?.reasoningTokens).toBeUndefined();
  });

  it("streams tool calls by index and completes each when the choice finishes", async () => {
    const tc = (index: number, f: object, id?: string) =>
      chunk({ tool_calls: [{ index, ...(id ? { id, type: "function" } : {}), function: f }] });
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
      "toolCallStarted",
      "toolCallDelta",
      "toolCallStarted",
      "toolCallDelta",
      "toolCallCompleted",
      "toolCallCompleted",
      "completed",
    ]);
    const done = ofKind(evs, "toolCallCompleted");
    expect(done.map((d) => [d.callId, d.name, d.argumentsJson])).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_time", "{}"],
    ]);
  });

  it("accepts tool calls without index (each call whole)", async () => {
    const whole = (id: string) => chunk({ tool_calls: [{ id, function: { name: "f", arguments: '{"a":1}' } }] });
    const evs = await decodeText(sse(whole("c1"), whole("c2"), chunk({}, "stop")));
    const done = ofKind(evs, "toolCallCompleted").map((c) => c.callId);
    expect(done).toEqual(["c1", "c2"]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS, rawFinishReason: "stop" } });
  });

  it("never completes a tool call whose arguments are not JSON: incomplete when cut, failed otherwise", async () => {
    const bad = chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: '{"a":' } }] });
    const failed = await decodeText(sse(bad, chunk({}, "tool_calls")));
    expect(kinds(failed)).toEqual(["toolCallStarted", "toolCallDelta", "failed"]);
    expect(terminalOf(failed)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_INVALID_TOOL_ARGUMENTS", retryable: true },
    });
    for (const finish of ["length", "content_filter"]) {
      const cut = await decodeText(sse(bad, chunk({}, finish)));
      expect(kinds(cut)).toEqual(["toolCallStarted", "toolCallDelta", "toolCallCompleted", "completed"]);
      expect(cut[2]?.event.value).toMatchObject({ callId: "c", argumentsJson: '{"a":', incomplete: true });
    }
  });

  it("fails on OpenRouter's finish_reason error and DeepSeek's insufficient_system_resource", async () => {
    for (const raw of ["error", "insufficient_system_resource"]) {
      const evs = await decodeText(sse(chunk({ content: "a" }), chunk({}, raw)));
      expect(terminalOf(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR", retryable: true },
      });
    }
  });

  it("prefers reasoning_content over the duplicated reasoning field (vLLM)", async () => {
    const evs = await decodeText(sse(chunk({ reasoning_content: "think", reasoning: "think" }), chunk({ content: "ok" }, "stop")));
    expect(reasoningOf(evs, 0)).toBe("think");
  });

  it("starts a new call when a known index comes with a new id, and continues by id or index otherwise", async () => {
    const tc = (o: object) => chunk({ tool_calls: [o] });
    const evs = await decodeText(
      sse(
        tc({ index: 0, id: "a", function: { name: "f", arguments: '{"x":' } }),
        tc({ index: 0, id: "", function: { arguments: "1}" } }), // OpenAI: empty id on continuations
        tc({ index: 0, id: "b", function: { name: "g", arguments: "{" } }), // a server that numbers every call 0
        tc({ id: "b", function: { arguments: '"y":2}' } }), // continuation by id, no index
        tc({ function: { arguments: "" } }), // neither: the last call
        chunk({}, "tool_calls"),
      ),
    );
    const done = ofKind(evs, "toolCallCompleted").map((c) => [c.callId, c.name, c.argumentsJson]);
    expect(done).toEqual([
      ["a", "f", '{"x":1}'],
      ["b", "g", '{"y":2}'],
    ]);
    expect(ofKind(evs, "toolCallStarted").map((c) => c.index)).toEqual([0, 1]);
  });

  it("synthesizes ids for calls without one, unique per choice", async () => {
    const tc = (choice: number) => ({
      choices: [{ index: choice, delta: { tool_calls: [{ index: 0, function: { name: "f", arguments: "{}" } }] } }],
    });
    const fin = (choice: number) => ({ choices: [{ index: choice, delta: {}, finish_reason: "stop" }] });
    const evs = await decodeText(sse(tc(0), tc(1), fin(0), fin(1)));
    expect(ofKind(evs, "toolCallStarted").map((c) => c.callId)).toEqual(["call_0", "choice1_call_0"]);
  });

  it("reads usage on every chunk (null ignored, repeats skipped) and Groq's x_groq.usage", async () => {
    const u = (n: number) => ({ prompt_tokens: 3, completion_tokens: n });
    const evs = await decodeText(
      sse(
        chunk({ content: "a" }, null, { usage: null }),
        chunk({ content: "b" }, null, { usage: u(1) }),
        chunk({}, null, { usage: u(1) }),
        chunk({}, "stop", { usage: u(2) }),
      ),
    );
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "usage", "usage", "completed"]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { usage: { inputTokens: 3, outputTokens: 2 } } });
    const groq = await decodeText(
      sse(chunk({ content: "a" }), chunk({}, "stop", { x_groq: { id: "req", usage: { ...u(4), queue_time: 0.1 } } })),
    );
    const usage = groq.find((e) => e.event.case === "usage");
    expect(usage?.event.value).toMatchObject({ outputTokens: 4 });
    expect(usage?.providerMetadata).toEqual({ usage: { queue_time: 0.1 } });
  });

  it("keeps usage unset, not 0, when the stream reports none", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }, "stop"), "[DONE]"));
    const end = terminalOf(evs);
    expect(end.case === "completed" && end.value.usage).toBeUndefined();
  });

  it("skips SSE comment lines and accepts CRLF framing", async () => {
    const body = `: OPENROUTER PROCESSING\r\n\r\n${sse(chunk({ content: "a" }), chunk({}, "stop")).replaceAll("\n", "\r\n")}`;
    const evs = await decodeText(body, 1);
    expect(kinds(evs)).toEqual(["textDelta", "completed"]);
  });

  it("maps OpenRouter reasoning_details: text once (with reasoning), summary, signature, encrypted as redacted", async () => {
    const evs = await decodeText(
      sse(
        chunk({ reasoning: "plan", reasoning_details: [{ type: "reasoning.text", text: "plan", index: 0 }] }),
        chunk({ reasoning_details: [{ type: "reasoning.summary", summary: "sum", index: 1 }] }),
        chunk({ reasoning_details: [{ type: "reasoning.text", text: "", signature: "sig", index: 0 }] }),
        chunk({ reasoning_details: [{ type: "reasoning.encrypted", data: "opaque", index: 2 }] }),
        chunk({}, "stop"),
      ),
    );
    const r = ofKind(evs, "reasoningDelta");
    expect(r.map((x) => [x.text, x.blockIndex, x.signature, x.redacted])).toEqual([
      ["plan", 0, "", false],
      ["sum", 1, "", false],
      ["", 0, "sig", false],
      ["", 2, "", true],
    ]);
    expect(evs[3]?.providerMetadata).toEqual({ reasoning_details: [{ type: "reasoning.encrypted", data: "opaque", index: 2 }] });
  });

  it("reads Mistral content arrays: thinking parts are reasoning", async () => {
    const evs = await decodeText(
      sse(
        chunk({ content: [{ type: "thinking", thinking: [{ type: "text", text: "hmm" }] }] }),
        chunk({ content: [{ type: "text", text: "ok" }] }, "stop"),
      ),
    );
    expect(reasoningOf(evs, 0)).toBe("hmm");
    expect(textOf(evs, 0)).toBe("ok");
  });

  it("extracts <think> only when the endpoint enables it, flushing a held tag start at the finish", async () => {
    const body = sse(chunk({ content: "<thi" }), chunk({ content: "nk>why</th" }), chunk({ content: "ink>so <" }), chunk({}, "stop"));
    const off = await decodeText(body);
    expect(textOf(off, 0)).toBe("<think>why</think>so <");
    const on = await Array.fromAsync(decodeOpenAIChatStream(new Response(body).body!, { thinkTags: {} }));
    expect(reasoningOf(on, 0)).toBe("why");
    expect(textOf(on, 0)).toBe("so <");
    expect(kinds(on).at(-2)).toBe("textDelta");
    const inside = await Array.fromAsync(
      decodeOpenAIChatStream(new Response(sse(chunk({ content: "a</think>b" }, "stop"))).body!, { thinkTags: { startInside: true } }),
    );
    expect([reasoningOf(inside, 0), textOf(inside, 0)]).toEqual(["a", "b"]);
  });

  it("keeps logprobs, content filter results and vLLM stop details as metadata, only when present", async () => {
    const lp = { content: [{ token: "a", logprob: -0.1, bytes: [97], top_logprobs: [] }], refusal: null };
    const evs = await decodeText(
      sse(
        {
          choices: [
            {
              index: 0,
              delta: { role: "assistant", content: "" },
              logprobs: { content: [], refusal: null },
              content_filter_results: { hate: { filtered: false } },
            },
          ],
        },
        { choices: [{ index: 0, delta: { content: "a" }, logprobs: lp }] },
        {
          choices: [{ index: 0, delta: {}, finish_reason: "stop", stop_reason: "###", logprobs: null }],
          system_fingerprint: "fp",
          obfuscation: "xx",
        },
      ),
    );
    expect(evs[0]?.providerMetadata).toEqual({ logprobs: lp, content_filter_results: { hate: { filtered: false } } });
    expect(evs.at(-1)?.providerMetadata).toEqual({ system_fingerprint: "fp", stop_reason: "###" });
    const plain = await decodeText(sse(chunk({ content: "a" }, null, { logprobs: null }), chunk({}, "stop")));
    expect(plain.every((e) => e.providerMetadata === undefined)).toBe(true);
  });

  it("maps TGI's string error with error_type", async () => {
    const evs = await decodeText(sse(chunk({ content: "a" }), { error: "Input validation error: too long", error_type: "validation" }));
    expect(terminalOf(evs)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.InvalidArgument), reason: "UPSTREAM_REJECTED" },
    });
    const over = await decodeText(sse({ error: "Model is overloaded", error_type: "overloaded" }));
    expect(terminalOf(over)).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.Unavailable), retryable: true } });
  });

  it("attaches the usage so far to a mid-stream failure", async () => {
    const evs = await decodeText(
      sse(chunk({ content: "a" }, null, { usage: { prompt_tokens: 2, completion_tokens: 1 } }), {
        error: { message: "boom", type: "server_error" },
      }),
    );
    expect(terminalOf(evs)).toMatchObject({ case: "failed", value: { usage: { inputTokens: 2, outputTokens: 1 } } });
  });
});
