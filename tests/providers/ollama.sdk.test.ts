import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ollamaSpec } from "../../services/src/providers/ollama/ollama-spec.js";
import { accumulate, Code, FinishReason } from "../support/accumulate.js";
import { airwaveEvents, describeSdkComparison, plainUsage } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";

/**
 * Differential test: Ollama NDJSON transcripts are read by the official SDK
 * (`ollama`, `new Ollama({host})`, `generate` / `chat` with `stream: true`)
 * and by Airwave's `ollama` spec from the same local replay server (the
 * body's `model` names the file), and both must add up to the same text,
 * reasoning, tool calls, finish reason and usage.
 *
 * The SDK hands out Ollama's objects as they are, so the SDK side
 * accumulates them here: `response` (generate) or `message.content` (chat)
 * as text, `thinking` / `message.thinking` as reasoning,
 * `message.tool_calls` as calls (name, arguments object), the last
 * object's `done_reason`, and `prompt_eval_count` / `eval_count` as input /
 * output tokens. The SDK does not look inside the text for `<think>` tags,
 * so the think-tags transcript is compared with `thinkTags` off (same text)
 * and, with `thinkTags` on, Airwave's reasoning + text must be the SDK's
 * text without the tags. Call ids are not compared: Ollama sends none (the
 * SDK exposes none; Airwave numbers them `call_<n>`).
 *
 * The recorded transcripts are all `/api/generate`; `/api/chat` is covered
 * by transcripts written here from the examples of Ollama's API docs
 * (https://github.com/ollama/ollama/blob/main/docs/api.md) and its tool
 * streaming post (https://ollama.com/blog/streaming-tool), plus an error
 * line as documented at https://docs.ollama.com/api/errors.
 */

interface SdkSide {
  text: string;
  reasoning: string;
  calls: { name: string; args: unknown }[];
  finishRaw: string | undefined;
  usage: Record<string, number> | undefined;
  error: Error | undefined;
}

interface SdkPart {
  response?: string | null;
  thinking?: string | null;
  message?: { content?: string; thinking?: string; tool_calls?: { function: { name: string; arguments: unknown } }[] };
  done?: boolean;
  done_reason?: string | null;
  prompt_eval_count?: number | null;
  eval_count?: number | null;
}

async function readWithSdk(origin: string, file: string, api: "generate" | "chat"): Promise<SdkSide> {
  const ollama = new Ollama({ host: origin });
  const out: SdkSide = { text: "", reasoning: "", calls: [], finishRaw: undefined, usage: undefined, error: undefined };
  try {
    const stream: AsyncIterable<SdkPart> =
      api === "generate"
        ? await ollama.generate({ model: file, prompt: "hi", stream: true })
        : await ollama.chat({ model: file, messages: [{ role: "user", content: "hi" }], stream: true });
    for await (const part of stream) {
      out.text += part.response ?? part.message?.content ?? "";
      out.reasoning += part.thinking ?? part.message?.thinking ?? "";
      for (const c of part.message?.tool_calls ?? []) out.calls.push({ name: c.function.name, args: c.function.arguments });
      if (part.done) {
        out.finishRaw = part.done_reason ?? undefined;
        const usage: Record<string, number> = {};
        if (typeof part.prompt_eval_count === "number") usage["inputTokens"] = part.prompt_eval_count;
        if (typeof part.eval_count === "number") usage["outputTokens"] = part.eval_count;
        out.usage = Object.keys(usage).length > 0 ? usage : undefined;
      }
    }
  } catch (e) {
    out.error = e as Error;
  }
  return out;
}

async function readWithAirwave(origin: string, file: string, options: Record<string, unknown>) {
  const path = `/api/${String(options["api"] ?? "chat")}`;
  const a = accumulate(await airwaveEvents(ollamaSpec, file, { baseUrl: origin, options }, { path }));
  expect(a.terminals).toBe(1);
  return a;
}

/** Compares a completed Airwave stream with the SDK's reading. */
function expectSame(a: ReturnType<typeof accumulate>, sdk: SdkSide) {
  expect(sdk.error).toBeUndefined();
  expect(a.failed).toBeUndefined();
  expect(a.text).toBe(sdk.text);
  expect(a.reasoning).toBe(sdk.reasoning);
  expect(a.toolCalls.map((c) => ({ name: c.name, args: JSON.parse(c.arguments ?? "null") }))).toEqual(sdk.calls);
  for (const c of a.toolCalls) expect(c.streamedArguments).toBe(c.arguments);
  expect(plainUsage(a.usage)).toEqual(sdk.usage);
  expect(a.rawFinishReason).toBe(sdk.finishRaw);
  // Ollama's documented done_reason values, read independently of the mapper's table.
  const want = sdk.finishRaw === "length" ? FinishReason.LENGTH : sdk.calls.length > 0 ? FinishReason.TOOL_CALLS : FinishReason.STOP;
  expect(a.finishReason).toBe(want);
}

describeSdkComparison(
  "ollama: the ollama SDK and Airwave read the same /api/generate streams alike",
  "ollama",
  ["ollama"],
  { project: 4, shared: 5 },
  async (replay, file) => {
    const sdk = await readWithSdk(replay.origin, file, "generate");
    // What the notable recordings exercise, on the SDK side (so neither side can pass by reading nothing).
    expect(sdk.text.length).toBeGreaterThan(0);
    if (file.includes("thinking-field")) expect(sdk.reasoning.length).toBeGreaterThan(0);
    if (file.includes("think-tags")) expect(sdk.text.startsWith("<think>")).toBe(true);
    expect(sdk.finishRaw).toBe(file.endsWith("-length.ndjson") ? "length" : "stop");

    expectSame(await readWithAirwave(replay.origin, file, { api: "generate" }), sdk);
    if (file.includes("think-tags")) {
      const a = await readWithAirwave(replay.origin, file, { api: "generate", thinkTags: true });
      expect(a.reasoning.length).toBeGreaterThan(0);
      expect(a.reasoning + a.text).toBe(sdk.text.replace("<think>", "").replace("</think>", ""));
      expect(a.rawFinishReason).toBe(sdk.finishRaw);
    }
  },
);

describe("ollama: the ollama SDK and Airwave read the same /api/chat streams alike (transcripts from Ollama's docs)", () => {
  const at = "2023-08-04T08:52:19.385406455-07:00";
  const line = (o: object) => `${JSON.stringify({ model: "qwen3", created_at: at, ...o })}\n`;
  const msg = (m: object, done = false) => ({ message: { role: "assistant", content: "", ...m }, done });
  const final = {
    done_reason: "stop",
    total_duration: 4883583458,
    load_duration: 1334875,
    prompt_eval_count: 26,
    prompt_eval_duration: 342546000,
    eval_count: 282,
    eval_duration: 4535599000,
  };
  const transcripts: Record<string, string> = {
    "chat-text.ndjson": [msg({ content: "The" }), msg({ content: " sky is" }), msg({ content: " blue." }), { ...msg({}, true), ...final }]
      .map(line)
      .join(""),
    "chat-thinking.ndjson": [
      msg({ thinking: "The user asks" }),
      msg({ thinking: " about colour." }),
      msg({ content: "Blue." }),
      { ...msg({}, true), ...final },
    ]
      .map(line)
      .join(""),
    "chat-tool-calls.ndjson": [
      msg({ thinking: "Need the weather." }),
      msg({ tool_calls: [{ function: { name: "get_current_weather", arguments: { format: "celsius", location: "Toronto" } } }] }),
      msg({
        tool_calls: [
          { function: { name: "get_current_weather", arguments: { format: "celsius", location: "Paris" } } },
          { function: { name: "get_time", arguments: {} } },
        ],
      }),
      { ...msg({}, true), ...final },
    ]
      .map(line)
      .join(""),
    "chat-length.ndjson": [msg({ content: "Once upon" }), { ...msg({}, true), done_reason: "length", eval_count: 2 }].map(line).join(""),
    "chat-error.ndjson": `${line(msg({ content: " Yes" }))}${JSON.stringify({ error: "an error was encountered while running the model" })}\n`,
    "chat-cut.ndjson": [msg({ content: "The" }), msg({ content: " sky" })].map(line).join(""),
  };
  let dir: string;
  let replay: Awaited<ReturnType<typeof startReplayServer>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "airwave-ollama-chat-"));
    for (const [f, text] of Object.entries(transcripts)) writeFileSync(join(dir, f), text);
    replay = await startReplayServer(dir, { paceMs: 0 });
  });
  afterAll(async () => {
    await replay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(["chat-text.ndjson", "chat-thinking.ndjson", "chat-tool-calls.ndjson", "chat-length.ndjson"])(
    "%s accumulates to what the SDK reads",
    async (file) => {
      const sdk = await readWithSdk(replay.origin, file, "chat");
      expect(sdk.text.length + sdk.calls.length).toBeGreaterThan(0);
      if (file === "chat-tool-calls.ndjson") expect(sdk.calls).toHaveLength(3);
      const a = await readWithAirwave(replay.origin, file, {});
      expectSame(a, sdk);
      if (file === "chat-tool-calls.ndjson") expect(new Set(a.toolCalls.map((c) => c.id)).size).toBe(3);
    },
  );

  it("the SDK throws on an error line; Airwave ends with failed UNAVAILABLE (retryable) after the same text", async () => {
    const sdk = await readWithSdk(replay.origin, "chat-error.ndjson", "chat");
    expect(sdk.error?.message).toBe("an error was encountered while running the model");
    const a = await readWithAirwave(replay.origin, "chat-error.ndjson", {});
    expect(a.text).toBe(sdk.text);
    expect(a.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_ERROR", retryable: true });
  });

  it("the SDK throws on a stream without done: true; Airwave ends with failed UPSTREAM_TRUNCATED", async () => {
    const sdk = await readWithSdk(replay.origin, "chat-cut.ndjson", "chat");
    expect(sdk.error?.message).toMatch(/Did not receive done/);
    const a = await readWithAirwave(replay.origin, "chat-cut.ndjson", {});
    expect(a.text).toBe(sdk.text);
    expect(a.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_TRUNCATED", retryable: true });
  });
});
