import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  FinishReason,
  type GenerateRequest,
  GenerateRequestSchema,
  isTerminal,
  ReasoningEffort,
  Role,
  type StreamEvent,
  toProtoCode,
  ToolChoiceMode,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { completedOf, ofKind, terminalOf, textOf } from "../../testing/stream-events.js";
import { isToken, simulate, simulationSeed } from "./simulate.js";
import { maxEchoChars } from "./simulator-metadata.js";

type Init = Exclude<MessageInitShape<typeof GenerateRequestSchema>, GenerateRequest>;
const user = (text: string) => ({ role: Role.USER, parts: [{ part: { case: "text" as const, value: text } }] });
const req = (text: string, extra: Init = {}): GenerateRequest =>
  create(GenerateRequestSchema, { model: "simulator", messages: [user(text)], ...extra });
const run = (r: GenerateRequest, seed?: number) => Array.from(simulate(r, { model: "default", ...(seed !== undefined ? { seed } : {}) }));

const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: {
    type: "object",
    properties: {
      city: { type: "string" },
      unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      days: { type: "integer", minimum: 1, maximum: 7 },
      verbose: { type: "boolean" },
    },
    required: ["city", "unit", "days"],
  },
};
const searchTool = {
  name: "search_docs",
  description: "Search",
  parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
};

/** Every stream: `started` first, exactly one terminal event, last. */
function expectWellFormed(evs: StreamEvent[]): void {
  expect(evs[0]?.event.case).toBe("started");
  expect(evs.filter(isTerminal)).toHaveLength(1);
  expect(isTerminal(evs.at(-1)!)).toBe(true);
}

describe("simulate", () => {
  const prompt = "How do solar panels convert sunlight into electricity?";

  it("is deterministic for a request and seed", () => {
    expect(run(req(prompt))).toEqual(run(req(prompt)));
    expect(run(req(prompt), 7)).toEqual(run(req(prompt), 7));
    expect(textOf(run(req(prompt), 7))).not.toBe(textOf(run(req(prompt), 8)));
  });

  it("seeds from request.seed when set, else from the prompt", () => {
    expect(simulationSeed(req(prompt, { seed: 42n }))).toBe(simulationSeed(req("other words", { seed: 42n })));
    expect(simulationSeed(req(prompt))).not.toBe(simulationSeed(req(`${prompt}!`)));
    expect(textOf(run(req(prompt, { seed: 1n })))).not.toBe(textOf(run(req(prompt, { seed: 2n }))));
  });

  it("answers from the prompt's words, one word-ish token per text_delta", () => {
    const evs = run(req(prompt));
    expectWellFormed(evs);
    const t = textOf(evs);
    expect(t).toMatch(/solar/);
    expect(t).toMatch(/electricity|sunlight|panels/);
    expect(textOf(run(req("Tell me about medieval castles and their moats")))).toMatch(/castles|moats|medieval/);
    const deltas = ofKind(evs, "textDelta").map((t) => t.text);
    expect(deltas[0]).not.toMatch(/^\s/);
    for (const d of deltas.slice(1)) expect(d).toMatch(/^(\s|\n\n)\S+$/);
    expect(deltas.length).toBeGreaterThanOrEqual(45);
    expect(t).toMatch(/[.!?]$/);
  });

  it("reports usage and completes with STOP", () => {
    const evs = run(req(prompt));
    const end = terminalOf(evs);
    expect(end).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP, rawFinishReason: "stop" } });
    const usage = end.case === "completed" ? end.value.usage : undefined;
    expect(usage?.inputTokens).toBeGreaterThan(8);
    expect(usage?.outputTokens).toBe(ofKind(evs, "textDelta").length);
    expect(usage?.reasoningTokens).toBeUndefined();
    expect(evs.at(-2)?.event).toMatchObject({ case: "usage", value: usage });
  });

  it("emits reasoning first, more for higher effort", () => {
    const n = (effort: ReasoningEffort) => ofKind(run(req(prompt, { reasoning: { effort } })), "reasoningDelta").length;
    expect(n(ReasoningEffort.NONE)).toBe(0);
    expect(n(ReasoningEffort.UNSPECIFIED)).toBe(0);
    expect(n(ReasoningEffort.LOW)).toBeGreaterThan(10);
    expect(n(ReasoningEffort.MEDIUM)).toBeGreaterThan(n(ReasoningEffort.LOW));
    expect(n(ReasoningEffort.HIGH)).toBeGreaterThan(n(ReasoningEffort.MEDIUM));
    const evs = run(req(prompt, { reasoning: { effort: ReasoningEffort.MEDIUM } }));
    const firstText = evs.findIndex((e) => e.event.case === "textDelta");
    const lastReasoning = evs.findLastIndex((e) => e.event.case === "reasoningDelta");
    expect(lastReasoning).toBeLessThan(firstText);
    const end = terminalOf(evs);
    expect(end.case === "completed" && end.value.usage).toMatchObject({
      reasoningTokens: ofKind(evs, "reasoningDelta").length,
      outputTokens: ofKind(evs, "reasoningDelta").length + ofKind(evs, "textDelta").length,
    });
  });

  describe("tool calls", () => {
    it("calls a tool the prompt names, with schema-typed arguments from the prompt", () => {
      const evs = run(req("What is the weather in Paris for 3 days? Use get_weather in celsius.", { tools: [searchTool, weatherTool] }));
      expectWellFormed(evs);
      expect(ofKind(evs, "textDelta").length).toBe(0);
      const c = ofKind(evs, "toolCallCompleted")[0]!;
      expect(c.name).toBe("get_weather");
      expect(JSON.parse(c.argumentsJson)).toEqual({ city: "Paris", unit: "celsius", days: 3 });
      const started = evs.find((e) => e.event.case === "toolCallStarted")!.event;
      expect(started).toMatchObject({ value: { callId: c.callId, name: "get_weather", index: 0 } });
      const deltas = ofKind(evs, "toolCallDelta").map((d) => d.argumentsDelta);
      expect(deltas.length).toBeGreaterThan(2);
      expect(deltas.join("")).toBe(c.argumentsJson);
      expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
      const end = terminalOf(evs);
      expect(end.case === "completed" && end.value.usage?.outputTokens).toBe(deltas.length);
    });

    it("calls a tool when asked to use a tool, and not otherwise", () => {
      expect(
        ofKind(run(req("Please use a tool to look up the release notes", { tools: [searchTool] })), "toolCallCompleted")[0]?.name,
      ).toBe("search_docs");
      const plain = run(req("Explain release notes", { tools: [searchTool] }));
      expect(ofKind(plain, "toolCallCompleted")[0]).toBeUndefined();
      expect(ofKind(plain, "textDelta").length).toBeGreaterThan(0);
    });

    it("honours tool_choice NONE, REQUIRED and a named tool", () => {
      const tools = [searchTool, weatherTool];
      const mode = (m: ToolChoiceMode) => ({ tools, toolChoice: { choice: { case: "mode" as const, value: m } } });
      expect(ofKind(run(req("use get_weather for Rome", mode(ToolChoiceMode.NONE))), "toolCallCompleted")[0]).toBeUndefined();
      expect(ofKind(run(req("Hello there", mode(ToolChoiceMode.REQUIRED))), "toolCallCompleted")[0]).toBeDefined();
      const named = run(req("use get_weather", { tools, toolChoice: { choice: { case: "toolName", value: "search_docs" } } }));
      expect(ofKind(named, "toolCallCompleted")[0]?.name).toBe("search_docs");
      expect(JSON.parse(ofKind(named, "toolCallCompleted")[0]!.argumentsJson)).toEqual({ query: "use get_weather" });
    });

    it("answers from a tool result instead of calling again", () => {
      const r = create(GenerateRequestSchema, {
        model: "simulator",
        tools: [weatherTool],
        messages: [
          user("What is the weather in Paris? use get_weather"),
          {
            role: Role.ASSISTANT,
            parts: [{ part: { case: "toolCall", value: { callId: "c1", name: "get_weather", argumentsJson: "{}" } } }],
          },
          {
            role: Role.TOOL,
            parts: [{ part: { case: "toolResult", value: { callId: "c1", result: '{"sky":"sunny","temperature":21}' } } }],
          },
        ],
      });
      const evs = run(r);
      expect(ofKind(evs, "toolCallCompleted")[0]).toBeUndefined();
      expect(textOf(evs)).toMatch(/sunny|temperature/);
    });
  });

  it("ends before a stop sequence with STOP", () => {
    const base = textOf(run(req(prompt)));
    const stop = base.split(" ")[9]!;
    const evs = run(req(prompt, { stopSequences: ["zzz-never", stop] }));
    expect(textOf(evs)).toBe(base.slice(0, base.indexOf(stop)));
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });

  it("honours simulator.output_tokens exactly, capped by max_output_tokens with LENGTH", () => {
    expect(ofKind(run(req(prompt, { metadata: { "simulator.output_tokens": "120" } })), "textDelta").length).toBe(120);
    const capped = run(req(prompt, { maxOutputTokens: 5, metadata: { "simulator.output_tokens": "120" } }));
    expect(ofKind(capped, "textDelta").length).toBe(5);
    expect(terminalOf(capped)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.LENGTH, rawFinishReason: "length" },
    });
    const thinking = run(req(prompt, { maxOutputTokens: 4, reasoning: { effort: ReasoningEffort.HIGH } }));
    expect(ofKind(thinking, "reasoningDelta").length).toBe(4);
    expect(ofKind(thinking, "textDelta").length).toBe(0);
    expect(terminalOf(thinking)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.LENGTH } });
  });

  it("fails after simulator.fail_after_tokens with the given code", () => {
    const evs = run(req(prompt, { metadata: { "simulator.fail_after_tokens": "3", "simulator.fail_code": "resource_exhausted" } }));
    expectWellFormed(evs);
    expect(evs.filter(isToken)).toHaveLength(3);
    expect(terminalOf(evs)).toMatchObject({
      case: "failed",
      value: {
        code: toProtoCode(Code.ResourceExhausted),
        reason: "SIMULATED_FAILURE",
        retryable: true,
        usage: { outputTokens: 3 },
      },
    });
    const dflt = terminalOf(run(req(prompt, { metadata: { "simulator.fail_after_tokens": "0" } })));
    expect(dflt).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.Unavailable) } });
    const internal = terminalOf(run(req(prompt, { metadata: { "simulator.fail_after_tokens": "1", "simulator.fail_code": "INTERNAL" } })));
    expect(internal).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.Internal), retryable: false } });
    expect(terminalOf(run(req(prompt, { metadata: { "simulator.fail_after_tokens": "100000" } }))).case).toBe("completed");
  });

  it.each([
    ["simulator.fail_code", "bogus"],
    ["simulator.ttft_ms", "-1"],
    ["simulator.output_tokens", "1.5"],
    ["simulator.tokens_per_s", "fast"],
    ["simulator.typo", "1"],
  ])("refuses metadata %s=%j with InvalidArgument naming the key", (key, value) => {
    try {
      run(req(prompt, { metadata: { [key]: value } }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as ConnectError).code).toBe(Code.InvalidArgument);
      expect((e as ConnectError).rawMessage).toContain(key);
    }
  });
});

describe("simulator.delta_tokens", () => {
  it("groups answer tokens into fewer events with the same text and token usage", () => {
    const base = create(GenerateRequestSchema, {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "large answers" } }] }],
      metadata: { "simulator.output_tokens": "1000" },
    });
    const grouped = clone(GenerateRequestSchema, base);
    grouped.metadata["simulator.delta_tokens"] = "64";
    const a = Array.from(simulate(base, { model: "default", seed: 3 }));
    const b = Array.from(simulate(grouped, { model: "default", seed: 3 }));
    expect(textOf(b)).toBe(textOf(a));
    expect(ofKind(b, "textDelta")).toHaveLength(Math.ceil(1000 / 64));
    const usage = (es: typeof a) => completedOf(es).usage?.outputTokens;
    expect(usage(b)).toBe(1000);
    expect(usage(a)).toBe(1000);
  });
});

describe("simulator.format = markdown", () => {
  const md = (prompt: string, metadata: Record<string, string> = {}, seed = 5) =>
    run(req(prompt, { metadata: { "simulator.format": "markdown", ...metadata } }), seed);

  it("answers a Markdown document: heading, lists, a fenced code block with a language, a table", () => {
    const evs = md("How do lighthouses guide ships at night?");
    expectWellFormed(evs);
    const t = textOf(evs);
    expect(t).toMatch(/^## .*lighthouses/i);
    expect(t).toMatch(/\n- \*\*\S.*\*\*: /);
    expect(t).toMatch(/\n1\. .+\n2\. /);
    expect(t).toMatch(/\n```(ts|python|bash|json)\n[\s\S]+?\n```\n/);
    expect(t).toMatch(/\n\| Aspect \| Detail \| Weight \|\n\| --- \| --- \| ---: \|\n(\| .+ \|\n){3}/);
    expect(t).toMatch(/[.!?]$/);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });

  it("streams it token by token, so a fence and a table are open half-way", () => {
    const deltas = ofKind(md("radio towers"), "textDelta").map((d) => d.text);
    expect(deltas.length).toBeGreaterThan(60);
    for (const d of deltas.slice(1)) expect(d).toMatch(/^\s+\S+$/);
    const prefixes = deltas.map((_, i) => deltas.slice(0, i + 1).join(""));
    expect(prefixes.some((p) => (p.match(/^```/gm) ?? []).length === 1 && !p.endsWith("```"))).toBe(true);
    expect(prefixes.some((p) => /\| ---: \|\n\| \S+ \|/.test(p) && !p.includes("\n1. "))).toBe(true);
  });

  it("is deterministic for a seed, varies with it, and honours simulator.output_tokens and delta_tokens", () => {
    expect(textOf(md("tides"))).toBe(textOf(md("tides")));
    expect(textOf(md("tides", {}, 1))).not.toBe(textOf(md("tides", {}, 2)));
    const long = md("tides", { "simulator.output_tokens": "500" });
    expect(ofKind(long, "textDelta")).toHaveLength(500);
    expect(completedOf(long).usage?.outputTokens).toBe(500);
    expect(textOf(long).match(/^## /gm)?.length).toBeGreaterThan(1);
    const grouped = md("tides", { "simulator.output_tokens": "500", "simulator.delta_tokens": "50" });
    expect(textOf(grouped)).toBe(textOf(long));
    expect(ofKind(grouped, "textDelta")).toHaveLength(10);
  });

  it("text is the default format", () => {
    expect(textOf(run(req(prompt0, { metadata: { "simulator.format": "TEXT" } })))).toBe(textOf(run(req(prompt0))));
  });
});

const prompt0 = "How do solar panels convert sunlight into electricity?";

describe("simulator.echo", () => {
  const echo = (text: string, extra: Init = {}) =>
    run(req(text, { ...extra, metadata: { "simulator.echo": "true", ...(extra.metadata ?? {}) } }));

  it("answers the prompt verbatim, in fragments of 2 to 8 code points", () => {
    const text = "  # Title\n\n<b>raw</b> `code` 🛰️ spaces kept \r\n";
    const evs = echo(text);
    expectWellFormed(evs);
    expect(textOf(evs)).toBe(text);
    const deltas = ofKind(evs, "textDelta").map((d) => d.text);
    expect(deltas.length).toBeGreaterThan(4);
    for (const d of deltas.slice(0, -1)) expect([...d].length).toBeGreaterThanOrEqual(2);
    for (const d of deltas) expect([...d].length).toBeLessThanOrEqual(8);
    expect(completedOf(evs).usage?.outputTokens).toBe(deltas.length);
    expect(textOf(echo(""))).toBe("");
    expect(textOf(run(req(text, { metadata: { "simulator.echo": "FALSE" } })))).toBe(textOf(run(req(text))));
  });

  it("echoes up to maxEchoChars, applies stop sequences", () => {
    expect(textOf(echo("x".repeat(maxEchoChars)))).toHaveLength(maxEchoChars);
    expect(textOf(echo("keep this STOP not this", { stopSequences: ["STOP"] }))).toBe("keep this ");
  });

  it.each([
    [`at most ${maxEchoChars} characters`, "x".repeat(maxEchoChars + 1), { "simulator.echo": "true" }],
    ["want true or false", "hi", { "simulator.echo": "yes" }],
    ["cannot be combined with simulator.output_tokens", "hi", { "simulator.echo": "true", "simulator.output_tokens": "3" }],
    ["cannot be combined with simulator.format", "hi", { "simulator.echo": "true", "simulator.format": "markdown" }],
    ["want one of text, markdown", "hi", { "simulator.format": "html" }],
  ])("refuses with InvalidArgument naming the key: %s", (message, prompt, metadata) => {
    try {
      run(req(prompt, { metadata }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as ConnectError).code).toBe(Code.InvalidArgument);
      const key = "simulator.echo" in metadata ? "simulator.echo" : "simulator.format";
      expect((e as ConnectError).rawMessage).toContain(`metadata["${key}"]`);
      expect((e as ConnectError).rawMessage).toContain(message);
    }
  });
});
