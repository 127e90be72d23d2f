import { create } from "@bufbuild/protobuf";
import {
  FinishReason,
  GenerateRequestSchema,
  InputKind,
  isTerminal,
  Role,
  type InputRequested,
  type StreamEvent,
  toProtoCode,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { kinds, ofKind, textOf } from "../../testing/stream-events.js";
import { simulateAgent, simulatorAgents } from "./simulate-agent.js";

const prompt = "How do tidal power stations work in Brittany?";
const req = (metadata: Record<string, string> = {}, extra: { maxOutputTokens?: number; seed?: bigint } = {}) =>
  create(GenerateRequestSchema, {
    model: "simulator/agent",
    messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: prompt } }] }],
    metadata,
    ...extra,
  });

/** Drives the generator, answering each question with `answer(question)`. */
function run(r = req(), answer: (q: InputRequested) => string | undefined = () => "yes", seed?: number): StreamEvent[] {
  const g = simulateAgent(r, { model: "agent", ...(seed !== undefined ? { seed } : {}) });
  const out: StreamEvent[] = [];
  for (let x = g.next(); !x.done; ) {
    const e = x.value;
    out.push(e);
    x = g.next(e.event.case === "inputRequested" ? answer(e.event.value) : undefined);
  }
  return out;
}

const of = (evs: StreamEvent[], agent: string) => evs.filter((e) => e.agentId === agent);

describe("simulateAgent", () => {
  it("is deterministic for a request, seed and answers", () => {
    expect(run()).toEqual(run());
    expect(run(req(), () => "yes", 7)).toEqual(run(req(), () => "yes", 7));
    expect(textOf(run(req(), () => "yes", 7))).not.toBe(textOf(run(req(), () => "yes", 8)));
  });

  it("runs planner, researcher and writer: started first, usage and completed STOP last, one terminal event", () => {
    const evs = run();
    expect(evs[0]?.event.case).toBe("started");
    expect(evs[0]?.agentId).toBe("");
    expect(evs.filter(isTerminal)).toHaveLength(1);
    expect(kinds(evs).slice(-2)).toEqual(["usage", "completed"]);
    for (const e of [evs[0], ...evs.slice(-2)]) expect(e?.agentId).toBe("");
    const agents = new Set(evs.map((e) => e.agentId).filter((a) => a !== ""));
    expect([...agents].sort()).toEqual(Object.values(simulatorAgents).sort());
    const end = evs.at(-1)!.event;
    expect(end).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    const tokenEvents = evs.filter((e) => e.event.case === "textDelta" || e.event.case === "toolCallDelta").length;
    expect(end.case === "completed" && end.value.usage?.outputTokens).toBe(tokenEvents);
  });

  it("reports status with progress that rises from 0 to 1", () => {
    const progress = run().flatMap((e) =>
      e.event.case === "status" && e.event.value.progress !== undefined ? [e.event.value.progress] : [],
    );
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress[0]).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);
  });

  it("the researcher calls web_search with a JSON query from the prompt, each call followed by its tool_result", () => {
    const evs = of(run(), "researcher");
    const calls = ofKind(evs, "toolCallCompleted");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(calls[0]!.argumentsJson)).toEqual({ query: prompt });
    for (const c of calls) {
      expect(c.name).toBe("web_search");
      expect(c.providerExecuted).toBe(true);
      const deltas = evs.flatMap((e) =>
        e.event.case === "toolCallDelta" && e.event.value.callId === c.callId ? [e.event.value.argumentsDelta] : [],
      );
      expect(deltas.join("")).toBe(c.argumentsJson);
      const done = evs.findIndex((e) => e.event.case === "toolCallCompleted" && e.event.value.callId === c.callId);
      const result = evs.findIndex((e) => e.event.case === "toolResult" && e.event.value.callId === c.callId);
      expect(result).toBeGreaterThan(done);
      const r = evs[result]!.event;
      const parsed = JSON.parse(r.case === "toolResult" ? r.value.result : "null") as { results: { url: string }[] };
      expect(parsed.results.length).toBeGreaterThanOrEqual(1);
      for (const s of parsed.results) expect(s.url).toMatch(/^https:\/\/example\.com\//);
    }
  });

  it("interleaves the planner's plan with the researcher's first search", () => {
    const evs = run();
    const agentsInOrder = evs.map((e) => e.agentId).filter((a) => a === "planner" || a === "researcher");
    const switches = agentsInOrder.filter((a, i) => i > 0 && a !== agentsInOrder[i - 1]).length;
    expect(switches).toBeGreaterThan(4);
    expect(textOf(of(evs, "planner"))).toMatch(/^Plan: 1\. Search the web for .*\. 3\. Write a clear answer/);
  });

  it("asks a confirmation by default, then logs the answer and writes a full answer with sources on yes", () => {
    const evs = run(req(), () => "yes");
    const q = ofKind(evs, "inputRequested")[0]!;
    const sources = (textOf(evs).match(/\[\d+\] https/g) ?? []).length;
    expect(q).toMatchObject({ kind: InputKind.CONFIRM, prompt: `Write the answer from ${sources} sources?` });
    expect(q.inputId).toMatch(/^input_\w{12}$/);
    const qi = evs.findIndex((e) => e.event.case === "inputRequested");
    expect(evs[qi]?.agentId).toBe("planner");
    expect(evs[qi + 1]).toMatchObject({ agentId: "planner", event: { case: "inputAnswered", value: { inputId: q.inputId, text: "yes" } } });
    // Nothing of the writer before the answer.
    expect(evs.slice(0, qi).some((e) => e.agentId === "writer")).toBe(false);
    const written = textOf(of(evs, "writer"));
    expect(written).toMatch(/tidal|power|stations|Brittany/);
    expect(written).toMatch(/\n\nSources: \[1\] https:\/\/example\.com\//);
  });

  it("a confirmation answered no gives a shorter answer without sources", () => {
    const yes = textOf(
      of(
        run(req(), () => "yes"),
        "writer",
      ),
    );
    const no = textOf(
      of(
        run(req(), () => "NO"),
        "writer",
      ),
    );
    expect(no).not.toMatch(/Sources:/);
    expect(no.length).toBeLessThan(yes.length);
  });

  it("a text question uses the answer in the written answer", () => {
    const evs = run(req({ "simulator.input": "text" }), () => "the environmental impact");
    expect(ofKind(evs, "inputRequested")[0]).toMatchObject({ kind: InputKind.TEXT, prompt: "What should the answer focus on?" });
    expect(textOf(of(evs, "writer"))).toMatch(/^You asked me to focus on the environmental impact\. /);
  });

  it("a choice question offers short and detailed; short is the shorter answer", () => {
    const short = run(req({ "simulator.input": "choice" }), () => "short");
    expect(ofKind(short, "inputRequested")[0]).toMatchObject({ kind: InputKind.CHOICE, choices: ["short", "detailed"] });
    const detailed = run(req({ "simulator.input": "choice" }), () => "detailed");
    expect(textOf(of(short, "writer")).length).toBeLessThan(textOf(of(detailed, "writer")).length);
  });

  it("asks nothing with simulator.input none", () => {
    const evs = run(req({ "simulator.input": "none" }), () => {
      throw new Error("asked");
    });
    expect(kinds(evs)).not.toContain("inputRequested");
    expect(kinds(evs)).not.toContain("inputAnswered");
    expect(evs.at(-1)?.event.case).toBe("completed");
  });

  it("ends with failed FAILED_PRECONDITION INPUT_UNAVAILABLE when no answer can come", () => {
    const evs = run(req(), () => undefined);
    expect(kinds(evs).slice(-2)).toEqual(["inputRequested", "failed"]);
    expect(evs.at(-1)?.event).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.FailedPrecondition), reason: "INPUT_UNAVAILABLE", retryable: false },
    });
  });

  it("honours max_output_tokens (LENGTH) and fail_after_tokens", () => {
    const capped = run(req({}, { maxOutputTokens: 5 }));
    expect(capped.filter((e) => e.event.case === "textDelta" || e.event.case === "toolCallDelta")).toHaveLength(5);
    expect(capped.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.LENGTH } });
    const failed = run(req({ "simulator.fail_after_tokens": "3", "simulator.fail_code": "internal" }));
    expect(failed.at(-1)?.event).toMatchObject({
      case: "failed",
      value: { reason: "SIMULATED_FAILURE", code: toProtoCode(Code.Internal) },
    });
  });

  it("refuses a bad simulator.input with InvalidArgument naming the key", () => {
    try {
      run(req({ "simulator.input": "maybe" }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as ConnectError).code).toBe(Code.InvalidArgument);
      expect((e as ConnectError).rawMessage).toContain("simulator.input");
    }
  });
});
