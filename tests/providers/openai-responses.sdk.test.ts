import { FinishReason, type StreamEvent } from "@airwave/proto";
import OpenAI from "openai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAIResponsesSpec } from "../../services/src/providers/openai-responses/openai-responses-spec.js";
import { accumulate, type Accumulated, Code } from "../support/accumulate.js";
import { airwaveEvents, describeSdkComparison } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";

/**
 * Differential test of the `openai-responses` kind against the official
 * `openai` SDK: each Responses-shaped transcript (fixtureKind over every
 * upstream folder) is served by the replay server; the SDK reads it with its
 * own streaming helper (`client.responses.stream`, iterating its events and
 * awaiting `finalResponse()`), Airwave with `openAIResponsesSpec.request` +
 * `fetch` + `decode` + `accumulate`. Both must add up to the same text,
 * reasoning, tool calls (id, name, arguments, who runs them), tool results,
 * reasoning signatures, finish and usage.
 *
 * What the SDK does not expose the same way, and how it is compared:
 * - The finish reason: the SDK has `response.status` and
 *   `incomplete_details.reason`, not a unified reason; it is mapped by the
 *   documented table (completed → STOP, or TOOL_CALLS when the response has
 *   client tool calls; incomplete → LENGTH / CONTENT_FILTER).
 * - Built-in tool arguments and results: the SDK keeps the whole output item;
 *   Airwave's arguments/results are the item fields named in
 *   `toolItemKinds`, so those fields of the SDK's item are compared.
 * - `provider_metadata` (logprobs, phase, annotations, moderation) has no
 *   counterpart in the accumulated comparison beyond the response `id`.
 */

const clientItems = new Set(["function_call", "custom_tool_call", "apply_patch_call", "shell_call", "local_shell_call", "computer_call"]);
const builtinArgs: Record<string, string[]> = {
  web_search_call: ["action"],
  file_search_call: ["queries"],
  code_interpreter_call: ["code", "container_id"],
  image_generation_call: [],
  mcp_list_tools: ["server_label"],
  apply_patch_call: ["operation"],
  shell_call: ["action"],
  local_shell_call: ["action"],
};

type Item = Record<string, unknown>;

/** What the SDK's streaming helper yields, accumulated the way an SDK user would. */
interface SdkResult {
  text: string;
  reasoning: string;
  items: Item[];
  status: string;
  incompleteReason: string | undefined;
  usage: Record<string, unknown> | null | undefined;
  id: string;
  eventText: string;
  /** `encrypted_content` of the reasoning items of the `response.output_item.done` events the SDK yields. */
  doneSignatures: string[];
}

async function readWithSdk(baseURL: string, model: string): Promise<SdkResult> {
  const client = new OpenAI({ apiKey: "test-key", baseURL, maxRetries: 0 });
  const stream = client.responses.stream({ model, input: "hi" });
  let eventText = "";
  let eventReasoning = "";
  const doneSignatures: string[] = [];
  for await (const e of stream) {
    if (e.type === "response.output_item.done" && e.item.type === "reasoning" && e.item.encrypted_content)
      doneSignatures.push(e.item.encrypted_content);
    if (e.type === "response.output_text.delta" || e.type === "response.refusal.delta") eventText += e.delta;
    if (e.type === "response.reasoning_summary_text.delta" || e.type === "response.reasoning_text.delta") eventReasoning += e.delta;
  }
  const final = await stream.finalResponse();
  const items = final.output as unknown as Item[];
  let text = "";
  for (const item of items) {
    if (item["type"] !== "message") continue;
    for (const part of item["content"] as Item[]) text += (part["type"] === "refusal" ? part["refusal"] : part["text"]) as string;
  }
  return {
    text,
    reasoning: eventReasoning,
    items,
    status: final.status ?? "",
    incompleteReason: final.incomplete_details?.reason ?? undefined,
    usage: final.usage as unknown as Record<string, unknown> | null | undefined,
    id: final.id,
    eventText,
    doneSignatures,
  };
}

/**
 * Files the SDK's `ResponseStream` helper rejects although the stream is
 * valid, with the error it raises: its accumulator throws on event types it
 * does not know (`response.apply_patch_call_operation_diff.delta`), and
 * requires `response.created` first (a resumed background stream begins with
 * `response.queued`). For these, the SDK's plain event stream
 * (`client.responses.create({stream: true})`) is read instead, accumulated
 * from its events and its terminal response.
 */
const helperRejects: Record<string, RegExp> = {
  "openai-responses/apply-patch-diff-delta.sse": /Unhandled response stream event/,
  "openai-responses/background-resume-starting-after.sse": /expected 'response.created'/,
};

async function readWithSdkEvents(baseURL: string, model: string): Promise<SdkResult> {
  const client = new OpenAI({ apiKey: "test-key", baseURL, maxRetries: 0 });
  const stream = await client.responses.create({ model, input: "hi", stream: true });
  const r: SdkResult = {
    text: "",
    reasoning: "",
    items: [],
    status: "",
    incompleteReason: undefined,
    usage: undefined,
    id: "",
    eventText: "",
    doneSignatures: [],
  };
  for await (const e of stream) {
    if (e.type === "response.output_text.delta" || e.type === "response.refusal.delta") r.eventText += e.delta;
    if (e.type === "response.reasoning_summary_text.delta" || e.type === "response.reasoning_text.delta") r.reasoning += e.delta;
    if (e.type === "response.output_item.done") {
      r.items.push(e.item as unknown as Item);
      if (e.item.type === "reasoning" && e.item.encrypted_content) r.doneSignatures.push(e.item.encrypted_content);
    }
    if (e.type === "response.completed" || e.type === "response.incomplete") {
      r.status = e.response.status ?? "";
      r.incompleteReason = e.response.incomplete_details?.reason ?? undefined;
      r.usage = e.response.usage as unknown as Record<string, unknown> | null | undefined;
      r.id = e.response.id;
    }
  }
  for (const item of r.items) {
    if (item["type"] !== "message") continue;
    for (const part of item["content"] as Item[]) r.text += (part["type"] === "refusal" ? part["refusal"] : part["text"]) as string;
  }
  return r;
}

async function readWithAirwave(baseUrl: string, model: string): Promise<{ events: StreamEvent[]; acc: Accumulated }> {
  const events = await airwaveEvents(openAIResponsesSpec, model, { baseUrl, apiKey: "test-key" });
  return { events, acc: accumulate(events) };
}

/** The reasoning text an SDK user reads from the final response's reasoning items. */
function reasoningOfItems(items: Item[]): string {
  return items
    .filter((i) => i["type"] === "reasoning")
    .map((i) =>
      [...((i["summary"] as Item[] | undefined) ?? []), ...((i["content"] as Item[] | undefined) ?? [])]
        .map((p) => p["text"] as string)
        .join(""),
    )
    .join("");
}

function pick(item: Item, fields: string[]): Item {
  return Object.fromEntries(fields.filter((f) => item[f] !== undefined).map((f) => [f, item[f]]));
}

describeSdkComparison(
  "openai-responses against the official openai SDK",
  "openai-responses",
  "every",
  { project: 4, shared: 17 },
  async (server, file, name) => {
    const airwave = await readWithAirwave(server.url, file);
    const a = airwave.acc;
    expect(a.terminals).toBe(1);
    let sdk: SdkResult;
    try {
      sdk = await readWithSdk(server.url, file);
      expect(helperRejects[name], "the helper now reads this file: drop it from helperRejects").toBeUndefined();
    } catch (err) {
      const rejected = helperRejects[name];
      if (!rejected) {
        // Where the SDK throws, Airwave must have failed too.
        expect(a.failed, String(err)).toBeDefined();
        return;
      }
      expect(String(err)).toMatch(rejected);
      sdk = await readWithSdkEvents(server.url, file);
    }
    expect(a.text).toBe(sdk.eventText);
    expect(a.text).toBe(sdk.text);
    expect(a.reasoning).toBe(sdk.reasoning);
    expect(a.reasoning).toBe(reasoningOfItems(sdk.items));

    // Tool calls: one per call item, in order, never merged.
    const callItems = sdk.items.filter(
      (i) => clientItems.has(i["type"] as string) || (i["type"] as string) in builtinArgs || i["type"] === "mcp_call",
    );
    expect(a.toolCalls.map((c) => c.id)).toEqual(callItems.map((i) => (i["call_id"] ?? i["id"]) as string));
    callItems.forEach((item, n) => {
      const c = a.toolCalls[n]!;
      const type = item["type"] as string;
      expect(c.providerExecuted).toBe(!clientItems.has(type));
      expect(c.incomplete).toBe(false);
      expect(c.arguments).toBe(c.streamedArguments);
      const args = JSON.parse(c.arguments!) as unknown;
      if (type === "function_call" || type === "mcp_call") {
        expect(c.name).toBe(item["name"]);
        expect(args).toEqual(JSON.parse(item["arguments"] as string));
      } else if (type === "custom_tool_call") {
        expect(args).toEqual({ input: item["input"] });
      } else {
        expect(args).toEqual(pick(item, builtinArgs[type]!));
      }
      if (type === "mcp_call") expect(a.toolResults.get(c.id)).toBe(item["output"]);
      if (type === "mcp_list_tools") expect(JSON.parse(a.toolResults.get(c.id)!)).toEqual({ tools: item["tools"] });
      if (type === "code_interpreter_call")
        expect(JSON.parse(a.toolResults.get(c.id)!)).toEqual({ status: item["status"], outputs: item["outputs"] });
    });

    // Reasoning signatures are the reasoning items' encrypted content as each item finished. (The copy in
    // the final response is a fresh encryption of the same state: Fernet tokens differ per serialization.)
    const signatures = airwave.events.flatMap((e) =>
      e.event.case === "reasoningDelta" && e.event.value.signature ? [e.event.value.signature] : [],
    );
    expect(signatures).toEqual(sdk.doneSignatures);
    expect(signatures).toHaveLength(sdk.items.filter((i) => i["type"] === "reasoning" && i["encrypted_content"]).length);

    // Finish reason and usage.
    expect(["completed", "incomplete"]).toContain(sdk.status);
    const terminal = airwave.events.at(-1)!;
    expect(terminal.providerMetadata?.["id"]).toBe(sdk.id);
    if (sdk.status === "completed") {
      const hasClientCalls = callItems.some((i) => clientItems.has(i["type"] as string));
      expect(a.finishReason).toBe(hasClientCalls ? FinishReason.TOOL_CALLS : FinishReason.STOP);
      expect(a.rawFinishReason).toBe("completed");
    } else {
      expect(a.rawFinishReason).toBe(sdk.incompleteReason);
      expect(a.finishReason).toBe(sdk.incompleteReason === "max_output_tokens" ? FinishReason.LENGTH : FinishReason.CONTENT_FILTER);
    }
    if (!sdk.usage) {
      expect(a.usage).toBeUndefined();
    } else {
      const inDetails = (sdk.usage["input_tokens_details"] ?? {}) as Record<string, unknown>;
      const outDetails = (sdk.usage["output_tokens_details"] ?? {}) as Record<string, unknown>;
      const want = Object.fromEntries(
        Object.entries({
          inputTokens: sdk.usage["input_tokens"],
          outputTokens: sdk.usage["output_tokens"],
          reasoningTokens: outDetails["reasoning_tokens"],
          cachedInputTokens: inDetails["cached_tokens"],
          cacheWriteInputTokens: inDetails["cache_write_tokens"],
        }).filter(([, v]) => typeof v === "number"),
      );
      const { $typeName: _, ...usage } = (a.usage ?? {}) as Record<string, unknown>;
      expect(usage).toEqual(want);
    }
  },
  (fixtures, source) => {
    it("has Responses fixtures (the shared recordings: in more than one folder)", () => {
      const dirs = new Set(fixtures.map((f) => f.name.split("/")[0]));
      expect(dirs.size).toBeGreaterThan(source.name === "shared" ? 1 : 0);
    });
  },
);

/**
 * Hand-written streams (shapes from
 * https://platform.openai.com/docs/api-reference/responses-streaming) for
 * the endings the recordings lack: an `error` event, `response.incomplete`
 * inside a function call, and a stream cut before its terminal event.
 */
describe("openai-responses against the official openai SDK: endings the recordings lack", () => {
  const sse = (...events: object[]) =>
    events.map((e, i) => `event: ${(e as { type: string }).type}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}\n\n`).join("");
  const response = (status: string, extra: object = {}) => ({
    id: "resp_hand",
    object: "response",
    created_at: 1,
    status,
    model: "m",
    output: [],
    ...extra,
  });
  const fc = { id: "fc_1", type: "function_call", status: "in_progress", call_id: "call_1", name: "get_weather", arguments: "" };
  const head = [
    { type: "response.created", response: response("in_progress") },
    { type: "response.output_item.added", output_index: 0, item: fc },
    { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 0, delta: '{"city":"Os' },
  ];
  const files: Record<string, string> = {
    "error-event.sse": sse(
      ...head,
      { type: "error", code: "rate_limit_exceeded", message: "Rate limit reached", param: null },
      {
        type: "response.failed",
        response: response("failed", { error: { code: "rate_limit_exceeded", message: "Rate limit reached" } }),
      },
    ),
    "incomplete-in-call.sse": sse(...head, {
      type: "response.incomplete",
      response: response("incomplete", {
        incomplete_details: { reason: "max_output_tokens" },
        output: [{ ...fc, status: "incomplete", arguments: '{"city":"Os' }],
        usage: {
          input_tokens: 5,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 9,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 14,
        },
      }),
    }),
    "cut.sse": sse(...head),
  };
  let server: Awaited<ReturnType<typeof startReplayServer>>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "airwave-responses-"));
    for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
    server = await startReplayServer(dir, { paceMs: 0 });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("error event: the SDK throws its APIError, Airwave fails RESOURCE_EXHAUSTED", async () => {
    await expect(readWithSdk(server.url, "error-event.sse")).rejects.toThrow(OpenAI.APIError);
    const { acc } = await readWithAirwave(server.url, "error-event.sse");
    expect(acc.terminals).toBe(1);
    expect(acc.failed).toMatchObject({ code: Code.ResourceExhausted, reason: "UPSTREAM_RATE_LIMITED", retryable: true });
  });

  it("incomplete inside a call: the SDK's response is incomplete with the partial arguments, Airwave completes LENGTH with an incomplete call", async () => {
    const sdk = await readWithSdk(server.url, "incomplete-in-call.sse");
    expect(sdk.status).toBe("incomplete");
    const { acc } = await readWithAirwave(server.url, "incomplete-in-call.sse");
    expect(acc.finishReason).toBe(FinishReason.LENGTH);
    expect(acc.rawFinishReason).toBe(sdk.incompleteReason);
    const item = sdk.items.find((i) => i["type"] === "function_call")!;
    expect(acc.toolCalls).toMatchObject([{ id: item["call_id"], name: item["name"], arguments: item["arguments"], incomplete: true }]);
    expect(acc.usage).toMatchObject({ inputTokens: sdk.usage?.["input_tokens"], outputTokens: sdk.usage?.["output_tokens"] });
  });

  it("cut before the terminal event: the SDK's response never finished, Airwave fails UPSTREAM_TRUNCATED", async () => {
    const sdk = await readWithSdk(server.url, "cut.sse");
    expect(sdk.status).toBe("in_progress");
    const { acc } = await readWithAirwave(server.url, "cut.sse");
    expect(acc.terminals).toBe(1);
    expect(acc.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_TRUNCATED", retryable: true });
    expect(acc.toolCalls).toMatchObject([{ id: "call_1", streamedArguments: '{"city":"Os' }]);
    expect(acc.toolCalls[0]?.arguments).toBeUndefined();
  });
});
