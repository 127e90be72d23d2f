/**
 * OpenAI-compatible egress end to end, with the official `openai` npm SDK
 * (only `baseURL` and `apiKey` changed): text, tools and tool-call deltas,
 * reasoning_content, non-streaming, include_usage, errors as `APIError`s
 * with OpenAI's status and shape (before and during a stream),
 * `stream.controller.abort()` cancelling the generation, and the
 * documented resume (`GET /v1/chat/completions/{id}` with `Last-Event-ID`)
 * giving exactly the chunks that were not read yet.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

const apiKey = "openai-sdk-user-key-0001";
let aw: TestAirwave;
let client: OpenAI;

beforeAll(async () => {
  aw = await startAirwave({ gateway: { apiKeys: [{ name: "sdk", key: apiKey }], authMode: "required" } });
  client = new OpenAI({ baseURL: `${aw.url}/v1`, apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await aw?.close();
});

const weather: OpenAI.Chat.Completions.ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

const user = (text: string): OpenAI.Chat.Completions.ChatCompletionMessageParam[] => [{ role: "user", content: text }];

/** The stream's state as GetStream reports it (a read that attaches no watcher). */
async function streamState(streamId: string): Promise<string> {
  const res = await fetch(`${aw.url}/v1/streams/${streamId}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return ((await res.json()) as { stream: { state: string } }).stream.state;
}

/** An SSE body as (id, data) messages, read with eventsource-parser. */
async function sseMessages(res: Response): Promise<{ id: string | undefined; data: string }[]> {
  expect(res.status).toBe(200);
  const out: { id: string | undefined; data: string }[] = [];
  for await (const m of res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())) {
    out.push({ id: m.id, data: m.data });
  }
  return out;
}

describe("the openai SDK against Airwave", () => {
  it("streams a simulator answer in Chat Completions chunks, every event with a cursor id and the stream id in a header", async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: "simulator", messages: user("How do tides work?"), stream: true })
      .withResponse();
    const streamId = response.headers.get("airwave-stream-id");
    expect(streamId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === `chatcmpl-${streamId}` && c.model === "simulator")).toBe(
      true,
    );
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text.split(" ").length).toBeGreaterThan(10);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.some((c) => "usage" in c)).toBe(false); // without include_usage, no usage field at all
  });

  it("streams a tool call by index with the tools passed, then finishes with tool_calls", async () => {
    const stream = await client.chat.completions.create({
      model: "simulator",
      messages: user("What is the weather in Paris? Use the get_weather tool."),
      tools: [weather],
      tool_choice: "auto",
      stream: true,
    });
    const calls = new Map<number, { id: string; name: string; args: string }>();
    let finish: string | null | undefined;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        const call = calls.get(t.index) ?? { id: "", name: "", args: "" };
        if (t.id) call.id = t.id;
        if (t.function?.name) call.name = t.function.name;
        call.args += t.function?.arguments ?? "";
        calls.set(t.index, call);
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect([...calls.keys()]).toEqual([0]);
    const call = calls.get(0)!;
    expect(call.name).toBe("get_weather");
    expect(call.id).not.toBe("");
    expect(JSON.parse(call.args)).toHaveProperty("city");
    expect(finish).toBe("tool_calls");
  });

  it("answers the tool result: the next turn carries the assistant's tool_calls and the tool message", async () => {
    const first = await client.chat.completions.create({
      model: "simulator",
      messages: user("Call the get_weather tool for Oslo."),
      tools: [weather],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const msg = first.choices[0]!.message;
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(msg.content).toBeNull();
    const call = msg.tool_calls![0]!;
    expect(call.type).toBe("function");
    const second = await client.chat.completions.create({
      model: "simulator",
      messages: [
        ...user("Call the get_weather tool for Oslo."),
        msg,
        { role: "tool", tool_call_id: call.id, content: JSON.stringify({ city: "Oslo", sky: "snow", celsius: -4 }) },
      ],
      tools: [weather],
    });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    expect(second.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it("streams reasoning as reasoning_content deltas before the answer (reasoning_effort)", async () => {
    const stream = await client.chat.completions.create({
      model: "simulator",
      messages: user("Why is the sky blue?"),
      reasoning_effort: "low",
      stream: true,
    });
    const kinds: string[] = [];
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      if (d?.reasoning_content) kinds.push("reasoning");
      if (d?.content) kinds.push("text");
    }
    expect(kinds[0]).toBe("reasoning");
    expect(kinds.at(-1)).toBe("text");
    expect(kinds.indexOf("text")).toBeGreaterThan(kinds.lastIndexOf("reasoning"));
  });

  it("answers a non-streaming chat.completion with usage; retrieve gives the same completion", async () => {
    const r = await client.chat.completions.create({
      model: "simulator/fast",
      messages: user("Name three rivers."),
      max_completion_tokens: 12,
    });
    expect(r.object).toBe("chat.completion");
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0]?.message.role).toBe("assistant");
    expect(r.choices[0]?.finish_reason).toBe("length");
    expect(r.usage?.completion_tokens).toBe(12);
    expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + 12);
    expect(await client.chat.completions.retrieve(r.id)).toEqual(r);
  });

  it("with stream_options.include_usage sends usage: null on every chunk and a last chunk with the usage and no choices", async () => {
    const stream = await client.chat.completions.create({
      model: "simulator",
      messages: user("How do tides work?"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").filter((t) => t !== "");
    expect(last.usage?.completion_tokens).toBe(text.length);
  });

  it("raises OpenAI's errors with their status: unknown model 404, a setting the contract lacks 400, a wrong key 401", async () => {
    const unknown = await client.chat.completions.create({ model: "no-such-provider/x", messages: user("hi") }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: "model_not_found", param: "model", type: "invalid_request_error" });

    const n = await client.chat.completions
      .create({ model: "simulator", messages: user("hi"), n: 2, stream: true })
      .catch((e: unknown) => e);
    expect(n).toBeInstanceOf(OpenAI.BadRequestError);
    expect(n).toMatchObject({ status: 400, param: "n", code: "unsupported_value" });

    const image = await client.chat.completions
      .create({
        model: "simulator",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }],
      })
      .catch((e: unknown) => e);
    expect(image).toMatchObject({ status: 400, param: "messages[0].content[0].type" });

    const range = await client.chat.completions
      .create({ model: "simulator", messages: user("hi"), temperature: 3 })
      .catch((e: unknown) => e);
    expect(range).toMatchObject({ status: 400, param: "temperature" });

    const stranger = new OpenAI({ baseURL: `${aw.url}/v1`, apiKey: "not-a-configured-key-000", maxRetries: 0 });
    const denied = await stranger.chat.completions.create({ model: "simulator", messages: user("hi") }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(denied).toMatchObject({ status: 401, code: "invalid_api_key" });
  });

  it("raises a failure after the stream started as an APIError from the stream (data: {error})", async () => {
    const stream = await client.chat.completions.create({
      model: "simulator",
      messages: user("How do tides work?"),
      metadata: { "simulator.fail_after_tokens": "3", "simulator.fail_code": "resource_exhausted" },
      stream: true,
    });
    const text: string[] = [];
    const err = await (async () => {
      for await (const c of stream) text.push(c.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
    expect((err as Error).message).toContain("simulated failure after 3 tokens");
    expect(text.filter((t) => t !== "")).toHaveLength(3);
  });

  it("stream.controller.abort() cancels the generation upstream (the default detach policy of OpenAI clients)", async () => {
    const { data: stream, response } = await client.chat.completions
      .create({
        model: "simulator",
        messages: user("Write a very long essay about rivers."),
        metadata: { "simulator.tokens_per_s": "20", "simulator.output_tokens": "5000" },
        stream: true,
      })
      .withResponse();
    const streamId = response.headers.get("airwave-stream-id")!;
    for await (const c of stream) {
      if (c.choices[0]?.delta.content) break; // `break` is `controller.abort()` in the SDK's iterator
    }
    expect(stream.controller.signal.aborted).toBe(true);
    await vi.waitFor(async () => expect(await streamState(streamId)).toBe("STREAM_STATE_CANCELLED"), { timeout: 5_000, interval: 20 });
    expect(aw.gateway.hub.stats.running).toBe(0);
  });

  it("resumes with GET /v1/chat/completions/{id} and Last-Event-ID: exactly the chunks not yet read, byte for byte", async () => {
    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
    const cut = new AbortController();
    const res = await fetch(`${aw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...headers, "airwave-on-detach": "continue" },
      body: JSON.stringify({
        model: "simulator",
        messages: user("How do glaciers move?"),
        stream: true,
        stream_options: { include_usage: true },
        metadata: { "simulator.tokens_per_s": "200", "simulator.output_tokens": "60" },
      }),
      signal: cut.signal,
    });
    const streamId = res.headers.get("airwave-stream-id")!;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
    const seen: { id: string | undefined; data: string }[] = [];
    while (seen.length < 8) {
      const r = await reader.read();
      if (r.done) throw new Error("the stream ended before the cut");
      seen.push({ id: r.value.id, data: r.value.data });
    }
    cut.abort(); // the network drops; on_detach continue keeps generating
    const resume = await fetch(`${aw.url}/v1/chat/completions/chatcmpl-${streamId}?include_usage=true`, {
      headers: { authorization: headers.authorization, accept: "text/event-stream", "last-event-id": seen.at(-1)!.id! },
    });
    expect(resume.headers.get("airwave-stream-id")).toBe(streamId);
    const rest = await sseMessages(resume);
    expect(rest.at(-1)?.data).toBe("[DONE]");
    // The whole stream, replayed from its start once it ended: what one uncut response would have written.
    const whole = await sseMessages(
      await fetch(`${aw.url}/v1/chat/completions/${streamId}?stream=true&include_usage=true`, {
        headers: { authorization: headers.authorization },
      }),
    );
    expect([...seen, ...rest]).toEqual(whole);
    expect(whole.every((m) => m.id !== undefined)).toBe(true);
    // After the end nothing follows: 204.
    const after = await fetch(`${aw.url}/v1/chat/completions/${streamId}`, {
      headers: { authorization: headers.authorization, accept: "text/event-stream", "last-event-id": whole.at(-1)!.id! },
    });
    expect(after.status).toBe(204);
  });

  it("cancels with POST /v1/chat/completions/{id}/cancel and answers the completion as it ended", async () => {
    const { data: stream, response } = await client.chat.completions
      .create({
        model: "simulator",
        messages: user("Write a very long essay about rivers."),
        metadata: { "simulator.tokens_per_s": "20", "simulator.output_tokens": "5000" },
        stream: true,
      })
      .withResponse();
    const id = `chatcmpl-${response.headers.get("airwave-stream-id")}`;
    const iter = stream[Symbol.asyncIterator]();
    let first = await iter.next();
    while (!first.value?.choices[0]?.delta.content) first = await iter.next();
    const cancel = await fetch(`${aw.url}/v1/chat/completions/${id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(cancel.status).toBe(200);
    const done = (await cancel.json()) as OpenAI.Chat.Completions.ChatCompletion;
    expect(done).toMatchObject({ id, object: "chat.completion", choices: [{ finish_reason: "stop" }] });
    const rest: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for (let r = await iter.next(); !r.done; r = await iter.next()) rest.push(r.value);
    expect(rest.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(await streamState(id.slice("chatcmpl-".length))).toBe("STREAM_STATE_CANCELLED");
  });

  it("lists the simulator's models and retrieves one", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["simulator", "simulator/fast"]));
    expect(await client.models.retrieve("simulator/fast")).toMatchObject({ id: "simulator/fast", object: "model", owned_by: "simulator" });
    await expect(client.models.retrieve("nope")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // A malformed path is the client's error (400), not an internal one.
    const bad = await fetch(`${aw.url}/v1/models/%E0%A4%A`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });
});

describe("the openai SDK against the embedded default (no keys configured)", () => {
  let open: TestAirwave;
  beforeAll(async () => {
    open = await startAirwave();
  });
  afterAll(async () => {
    await open?.close();
  });

  it("a program that changes only baseURL (its usual key kept) streams text and a tool call; another key does not see its stream", async () => {
    const usual = new OpenAI({ baseURL: `${open.url}/v1`, apiKey: "sk-proj-usual-openai-key-0123456789abcdef", maxRetries: 0 });
    const { data: stream, response } = await usual.chat.completions
      .create({ model: "simulator", messages: user("How do tides work?"), stream: true })
      .withResponse();
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text.split(" ").length).toBeGreaterThan(10);

    const tools = await usual.chat.completions.create({
      model: "simulator",
      messages: user("What is the weather in Paris? Use the get_weather tool."),
      tools: [weather],
      stream: true,
    });
    const names: string[] = [];
    let finish: string | null | undefined;
    for await (const c of tools) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) if (t.function?.name) names.push(t.function.name);
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(names).toEqual(["get_weather"]);
    expect(finish).toBe("tool_calls");

    // The token is its own owner: another key, and no key, get the NOT_FOUND of an unknown id.
    const id = response.headers.get("airwave-stream-id") as string;
    for (const headers of [{ authorization: "Bearer sk-someone-else-0123456789" }, {}]) {
      expect((await fetch(`${open.url}/v1/streams/${id}`, { headers })).status).toBe(404);
    }
    const mine = await fetch(`${open.url}/v1/streams/${id}`, {
      headers: { authorization: "Bearer sk-proj-usual-openai-key-0123456789abcdef" },
    });
    expect(mine.status).toBe(200);
  });
});
