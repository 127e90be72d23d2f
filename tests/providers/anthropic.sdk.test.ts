import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StreamEvent } from "@airwave/proto";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { anthropicSpec } from "../../services/src/providers/anthropic/anthropic-spec.js";
import { mapAnthropicStopReason } from "../../services/src/providers/anthropic/map-anthropic-stop-reason.js";
import { accumulate, Code } from "../support/accumulate.js";
import { airwaveEvents, describeSdkComparison, plainUsage } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";

/**
 * Differential test: every `anthropic` transcript is read by the official
 * SDK (`@anthropic-ai/sdk`, `client.beta.messages.stream(…).finalMessage()`)
 * and by Airwave's `anthropic` spec from the same local replay server (the
 * body's `model` names the file); both must add up to the same text (all
 * text blocks), thinking, signatures, tool calls (client, server and MCP)
 * with their input, server tool results, stop reason and usage.
 *
 * The beta stream helper is used because it is the SDK's accumulator that
 * knows every block type in these recordings: the non-beta one does not
 * collect `mcp_tool_use` input nor `compaction` deltas. The SDK's usage is
 * counted as Airwave documents it (input = `input_tokens` +
 * `cache_read_input_tokens` + `cache_creation_input_tokens`, reasoning =
 * `output_tokens_details.thinking_tokens`). Fields the SDK does not expose
 * are not compared: the block index of each delta (the SDK only keeps the
 * final blocks), provider metadata such as citations (Airwave keeps them as
 * metadata, which the decode tests check) and `incomplete` (the SDK parses
 * partial input leniently).
 *
 * Where the SDK throws (an `error` event, a stream cut before
 * `message_stop`), Airwave must end with the matching `failed`; those two
 * bodies are written here from the documentation's examples.
 */

/** What the SDK's final message adds up to. */
interface Side {
  text: string;
  reasoning: string;
  signatures: string[];
  calls: { id: string; name: string; input: unknown; providerExecuted: boolean }[];
  results: Map<string, unknown>;
  stopReason: string | null | undefined;
  usage: Record<string, number> | undefined;
  error: unknown;
}

async function readWithSdk(origin: string, file: string): Promise<Side> {
  const client = new Anthropic({ baseURL: origin, apiKey: "test", maxRetries: 0 });
  const side: Side = {
    text: "",
    reasoning: "",
    signatures: [],
    calls: [],
    results: new Map(),
    stopReason: undefined,
    usage: undefined,
    error: undefined,
  };
  try {
    const stream = client.beta.messages.stream({ model: file, max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
    const m = await stream.finalMessage();
    for (const b of m.content) {
      if (b.type === "text") side.text += b.text;
      if (b.type === "thinking") {
        side.reasoning += b.thinking;
        if (b.signature) side.signatures.push(b.signature);
      }
      if (b.type === "redacted_thinking") side.signatures.push(b.data);
      if (b.type === "tool_use" || b.type === "server_tool_use" || b.type === "mcp_tool_use") {
        side.calls.push({ id: b.id, name: b.name, input: b.input, providerExecuted: b.type !== "tool_use" });
      }
      if (b.type.endsWith("_tool_result") && "tool_use_id" in b && "content" in b) side.results.set(b.tool_use_id, b.content);
    }
    side.stopReason = m.stop_reason;
    const u = m.usage;
    const usage: Record<string, number> = {};
    if (typeof u.input_tokens === "number")
      usage["inputTokens"] = u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);
    if (typeof u.output_tokens === "number") usage["outputTokens"] = u.output_tokens;
    const thinking = (u as { output_tokens_details?: { thinking_tokens?: number } | null }).output_tokens_details?.thinking_tokens;
    if (typeof thinking === "number") usage["reasoningTokens"] = thinking;
    if (typeof u.cache_read_input_tokens === "number") usage["cachedInputTokens"] = u.cache_read_input_tokens;
    if (typeof u.cache_creation_input_tokens === "number") usage["cacheWriteInputTokens"] = u.cache_creation_input_tokens;
    side.usage = usage;
  } catch (e) {
    side.error = e;
  }
  return side;
}

const readWithAirwave = (origin: string, file: string) => airwaveEvents(anthropicSpec, file, { baseUrl: origin, apiKey: "test" });

function compare(sdk: Side, events: StreamEvent[]): void {
  const a = accumulate(events);
  expect(a.terminals).toBe(1);
  expect(sdk.error).toBeUndefined();
  expect(a.failed).toBeUndefined();
  expect(a.text).toBe(sdk.text);
  expect(a.reasoning).toBe(sdk.reasoning);
  const signatures = events.flatMap((e) =>
    e.event.case === "reasoningDelta" && e.event.value.signature !== "" ? [e.event.value.signature] : [],
  );
  expect(signatures).toEqual(sdk.signatures);
  expect(
    a.toolCalls.map((c) => ({ id: c.id, name: c.name, input: JSON.parse(c.arguments ?? "null"), providerExecuted: c.providerExecuted })),
  ).toEqual(sdk.calls);
  expect(a.toolCalls.every((c) => !c.incomplete && c.arguments === (c.streamedArguments === "" ? "{}" : c.streamedArguments))).toBe(true);
  expect(new Map([...a.toolResults].map(([id, r]) => [id, JSON.parse(r)]))).toEqual(sdk.results);
  expect(a.rawFinishReason).toBe(sdk.stopReason);
  expect(a.finishReason).toBe(mapAnthropicStopReason(sdk.stopReason ?? ""));
  expect(plainUsage(a.usage)).toEqual(sdk.usage);
}

describeSdkComparison(
  "anthropic: official SDK vs Airwave on every transcript (text, thinking, tool calls, results, stop reason, usage)",
  "anthropic",
  "every",
  { project: 4, shared: 15 },
  async (server, file) => {
    const [sdk, events] = await Promise.all([readWithSdk(server.origin, file), readWithAirwave(server.origin, file)]);
    compare(sdk, events);
  },
);

describe("anthropic: where the SDK throws, Airwave fails the same way", () => {
  // Bodies from https://docs.anthropic.com/en/docs/build-with-claude/streaming (basic example, error event example).
  const dir = mkdtempSync(join(tmpdir(), "airwave-anthropic-"));
  const start =
    'event: message_start\ndata: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-20250514", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}\n\n' +
    'event: content_block_start\ndata: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}\n\n' +
    'event: ping\ndata: {"type": "ping"}\n\n' +
    'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}\n\n';
  writeFileSync(
    join(dir, "overloaded.sse"),
    `${start}event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n`,
  );
  writeFileSync(
    join(dir, "truncated.sse"),
    `${start}event: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\n` +
      'event: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}\n\n',
  );
  let server: Awaited<ReturnType<typeof startReplayServer>> | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an overloaded_error event: the SDK throws an APIError of that type; Airwave fails UNAVAILABLE, retryable", async () => {
    server ??= await startReplayServer(dir, { paceMs: 0 });
    const [sdk, events] = await Promise.all([
      readWithSdk(server.origin, "overloaded.sse"),
      readWithAirwave(server.origin, "overloaded.sse"),
    ]);
    expect(sdk.error).toBeInstanceOf(Anthropic.APIError);
    expect((sdk.error as InstanceType<typeof Anthropic.APIError>).type).toBe("overloaded_error");
    const a = accumulate(events);
    expect(a.terminals).toBe(1);
    expect(a.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_OVERLOADED", retryable: true });
    expect(a.text).toBe("Hello");
  });

  it("a stream cut before message_stop: the SDK throws; Airwave fails UNAVAILABLE UPSTREAM_TRUNCATED", async () => {
    server ??= await startReplayServer(dir, { paceMs: 0 });
    const [sdk, events] = await Promise.all([readWithSdk(server.origin, "truncated.sse"), readWithAirwave(server.origin, "truncated.sse")]);
    expect(sdk.error).toBeInstanceOf(Error);
    const a = accumulate(events);
    expect(a.terminals).toBe(1);
    expect(a.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_TRUNCATED", retryable: true });
    expect(plainUsage(a.usage)).toEqual({ inputTokens: 25, outputTokens: 15 });
  });
});
