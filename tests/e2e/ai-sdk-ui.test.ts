/**
 * The AI SDK UI against Airwave's UI message stream egress
 * (`/v1/ai-sdk/chat`), with the real `ai` package and nothing changed but
 * `api` (and the API key header): `DefaultChatTransport.sendMessages` and
 * `readUIMessageStream` give the assistant message with text, reasoning and
 * tool parts (a client tool and its follow-up turn, tools the agent ran
 * itself); a connection cut mid-answer and `reconnectToStream` give the
 * same final message as an uncut one, and so does `AbstractChat` (what
 * `useChat` is) with `stop()` and `resumeStream()`; 204 once nothing runs,
 * `?include_ended=true` replays; the stop route cancels the generation;
 * another owner's chat is never readable; errors before and after the start
 * arrive as the AI SDK raises them.
 */
import {
  AbstractChat,
  APICallError,
  type ChatInit,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
} from "ai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

const aliceKey = "ai-sdk-ui-alice-key-0001";
const bobKey = "ai-sdk-ui-bob-key-000001";
let aw: TestAirwave;
let api: string;

beforeAll(async () => {
  aw = await startAirwave({
    gateway: {
      apiKeys: [
        { name: "alice", key: aliceKey },
        { name: "bob", key: bobKey },
      ],
      authMode: "required",
    },
  });
  api = `${aw.url}/v1/ai-sdk/chat`;
});
afterAll(async () => {
  await aw?.close();
});

/** A transport as an application makes it: `api`, its key, and the request options in `body`. */
function transport(body: Record<string, unknown> = { model: "simulator" }, key = aliceKey, o: { includeEnded?: boolean } = {}) {
  return new DefaultChatTransport<UIMessage>({
    api,
    headers: { authorization: `Bearer ${key}` },
    body,
    ...(o.includeEnded
      ? { prepareReconnectToStreamRequest: ({ id }) => ({ api: `${api}/${encodeURIComponent(id)}/stream?include_ended=true` }) }
      : {}),
  });
}

let chats = 0;
/** A fresh chat id. */
const chatId = () => `chat-${process.pid}-${++chats}`;

const userMessage = (text: string): UIMessage => ({ id: `u-${++chats}`, role: "user", parts: [{ type: "text", text }] });

/** `sendMessages` as `Chat` calls it for a new user message. */
function send(t: DefaultChatTransport<UIMessage>, id: string, messages: UIMessage[], abortSignal?: AbortSignal) {
  return t.sendMessages({ chatId: id, messages, trigger: "submit-message", messageId: undefined, abortSignal });
}

/** The last state of the message `readUIMessageStream` builds from `stream`, and the errors it reported. */
async function finalMessage(stream: ReadableStream<UIMessageChunk>, message?: UIMessage) {
  let last: UIMessage | undefined;
  const errors: Error[] = [];
  for await (const m of readUIMessageStream({ stream, ...(message ? { message } : {}), onError: (e) => errors.push(e as Error) })) last = m;
  return { message: last, errors };
}

/** All chunks of a stream. */
async function chunksOf(stream: ReadableStream<UIMessageChunk>): Promise<UIMessageChunk[]> {
  const out: UIMessageChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

const textOf = (m: UIMessage | undefined) => (m?.parts ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");

/** A paced answer long enough that a reconnect right after a cut finds it running: 120 tokens at 40/s, about 3 s. */
const paced = { model: "simulator", metadata: { "simulator.tokens_per_s": "40", "simulator.output_tokens": "120" } };

/** The stream's state as GetStream reports it. */
async function streamInfo(streamId: string, key = aliceKey): Promise<{ state: string; watchers?: number }> {
  const res = await fetch(`${aw.url}/v1/streams/${streamId}`, { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as { stream: { state: string; watchers?: number } }).stream;
}

/** Posts the transport's body directly, for what the transport does not show (headers, status). */
function post(body: unknown, key = aliceKey, headers: Record<string, string> = {}) {
  return fetch(api, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
}

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

/** A ChatState without a UI framework, as `@ai-sdk/react` keeps one (messages replaced, never mutated). */
class PlainChatState implements ChatState<UIMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  messages: UIMessage[] = [];
  pushMessage = (m: UIMessage) => {
    this.messages = [...this.messages, m];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (i: number, m: UIMessage) => {
    this.messages = this.messages.map((x, j) => (j === i ? m : x));
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

/** `useChat`'s chat without React: the AI SDK's own AbstractChat over a {@link PlainChatState}. */
class NodeChat extends AbstractChat<UIMessage> {
  readonly view: PlainChatState;
  constructor(init: Omit<ChatInit<UIMessage>, "messages">) {
    const state = new PlainChatState();
    super({ ...init, state });
    this.view = state;
  }
}

describe("DefaultChatTransport against Airwave's UI message stream", () => {
  it("streams a simulator answer: start with a message id, a step, one finished text part", async () => {
    const stream = await send(transport(), chatId(), [userMessage("How do tides work?")]);
    const chunks = await chunksOf(stream);
    expect(chunks[0]).toMatchObject({ type: "start", messageId: expect.stringMatching(/^msg-/) });
    expect(chunks.map((c) => c.type).filter((t) => t !== "text-delta")).toEqual([
      "start",
      "start-step",
      "text-start",
      "text-end",
      "finish-step",
      "finish",
    ]);
    expect(chunks.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
    const { message, errors } = await finalMessage(await send(transport(), chatId(), [userMessage("How do tides work?")]));
    expect(errors).toEqual([]);
    expect(message?.role).toBe("assistant");
    expect(message?.parts.map((p) => p.type)).toEqual(["step-start", "text"]);
    expect(message?.parts[1]).toMatchObject({ type: "text", state: "done" });
    expect(textOf(message).split(" ").length).toBeGreaterThan(10);
  });

  it("answers with the protocol's header, SSE framing ending in [DONE], and the stream id", async () => {
    const res = await post({ id: chatId(), messages: [userMessage("Hello")], trigger: "submit-message", model: "simulator" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("airwave-stream-id")).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const text = await res.text();
    expect(text.startsWith('data: {"type":"start"')).toBe(true);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("streams reasoning before the text with reasoning_effort", async () => {
    const { message } = await finalMessage(
      await send(transport({ model: "simulator", reasoning_effort: "low" }), chatId(), [userMessage("Why is the sky blue?")]),
    );
    expect(message?.parts.map((p) => p.type)).toEqual(["step-start", "reasoning", "text"]);
    expect(message?.parts[1]).toMatchObject({ type: "reasoning", state: "done", text: expect.stringMatching(/\w+/) });
  });

  it("streams a client tool call as a tool part; its output in the next request continues the same message", async () => {
    const t = transport({ model: "simulator", tools: [weather] });
    const id = chatId();
    const question = userMessage("What is the weather in Paris? Use the get_weather tool.");
    const first = await finalMessage(await send(t, id, [question]));
    const call = first.message?.parts.find((p) => p.type === "tool-get_weather");
    expect(call).toMatchObject({ type: "tool-get_weather", state: "input-available", input: { city: expect.any(String) } });
    // The application runs the tool (addToolOutput) and sends the conversation again.
    const answered: UIMessage = {
      ...first.message!,
      parts: first.message!.parts.map((p) =>
        p.type === "tool-get_weather" ? { ...p, state: "output-available", output: { sky: "sunny", celsius: 21 } } : p,
      ) as UIMessage["parts"],
    };
    const chunks = await chunksOf(await send(t, id, [question, answered]));
    expect(chunks[0]).toEqual({ type: "start", messageId: answered.id });
    const second = await finalMessage(
      new ReadableStream({
        start(c) {
          for (const x of chunks) c.enqueue(x);
          c.close();
        },
      }),
      answered,
    );
    expect(second.message?.id).toBe(answered.id);
    expect(second.message?.parts.map((p) => p.type)).toEqual(["step-start", "tool-get_weather", "step-start", "text"]);
    expect(textOf(second.message).length).toBeGreaterThan(10);
  });

  it("streams the tools an agent ran itself with their outputs, marked providerExecuted", async () => {
    const { message } = await finalMessage(
      await send(transport({ model: "simulator/agent", metadata: { "simulator.input": "none" } }), chatId(), [
        userMessage("Research how lighthouses work"),
      ]),
    );
    const searches = message?.parts.filter((p) => p.type === "tool-web_search") ?? [];
    expect(searches.length).toBeGreaterThanOrEqual(2);
    for (const s of searches) {
      expect(s).toMatchObject({ state: "output-available", providerExecuted: true, input: { query: expect.any(String) } });
      expect((s as { output: { results: unknown[] } }).output.results.length).toBeGreaterThan(0);
    }
    expect(textOf(message)).toMatch(/Sources:/);
  });

  it("resumes after a cut: reconnectToStream replays the turn from its start and goes on live, the same message as an uncut one", async () => {
    const prompt = "Tell me about the tides of the North Sea";
    const [reference, cut] = [chatId(), chatId()];
    const uncut = finalMessage(await send(transport(paced), reference, [userMessage(prompt)]));
    const abort = new AbortController();
    const stream = await send(transport(paced), cut, [userMessage(prompt)], abort.signal);
    const reader = stream.getReader();
    const before: UIMessageChunk[] = [];
    while (before.filter((c) => c.type === "text-delta").length < 5) {
      const r = await reader.read();
      if (r.done) throw new Error("ended before the cut");
      before.push(r.value);
    }
    abort.abort(); // the connection closes, as on a reload or a lost network
    await reader.cancel().catch(() => {});
    const resumed = await transport(paced).reconnectToStream({ chatId: cut });
    expect(resumed).not.toBeNull();
    const replay = await chunksOf(resumed!);
    expect(replay[0]).toEqual(before[0]); // the same start, the same message id
    expect(replay.at(-1)).toEqual({ type: "finish", finishReason: "stop" });
    const rebuilt = await finalMessage(
      new ReadableStream({
        start(c) {
          for (const x of replay) c.enqueue(x);
          c.close();
        },
      }),
    );
    const ref = await uncut;
    expect(rebuilt.message?.parts).toEqual(ref.message?.parts);
    expect(textOf(rebuilt.message)).toBe(textOf(ref.message));
    // The turn ended: nothing to resume (204), unless the ended turn is asked for.
    expect(await transport(paced).reconnectToStream({ chatId: cut })).toBeNull();
    const again = await transport(paced, aliceKey, { includeEnded: true }).reconnectToStream({ chatId: cut });
    expect((await finalMessage(again!)).message?.parts).toEqual(ref.message?.parts);
  });

  it("closing the connection leaves the generation running (cancel_after_grace), so a reconnect finds it", async () => {
    const id = chatId();
    const res = await post({ id, messages: [userMessage("A long story")], trigger: "submit-message", ...paced });
    const streamId = res.headers.get("airwave-stream-id")!;
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await vi.waitFor(async () => expect((await streamInfo(streamId)).watchers ?? 0).toBe(0), { timeout: 10_000 });
    expect((await streamInfo(streamId)).state).toBe("STREAM_STATE_RUNNING");
    const resumed = await transport(paced).reconnectToStream({ chatId: id });
    expect((await chunksOf(resumed!)).at(-1)).toEqual({ type: "finish", finishReason: "stop" });
  });

  it("stop route: cancels the chat's generation at once; the open response ends with abort; nothing is left to resume", async () => {
    const id = chatId();
    const long = { model: "simulator", metadata: { "simulator.tokens_per_s": "20", "simulator.output_tokens": "5000" } };
    const reader = (await send(transport(long), id, [userMessage("Never stop talking")])).getReader();
    const chunks: UIMessageChunk[] = [];
    while (!chunks.some((c) => c.type === "text-delta")) chunks.push((await reader.read()).value!);
    const stop = await fetch(`${api}/${id}/stop`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${aliceKey}` },
      body: JSON.stringify({ assistantMessage: null }),
    });
    expect(stop.status).toBe(200);
    expect(((await stop.json()) as { stream: { state: string } }).stream.state).toBe("STREAM_STATE_CANCELLED");
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(chunks.slice(-2)).toEqual([{ type: "finish-step" }, { type: "abort", reason: "cancelled" }]);
    expect(await transport(long).reconnectToStream({ chatId: id })).toBeNull();
    const none = await fetch(`${api}/chat-never-used/stop`, { method: "POST", headers: { authorization: `Bearer ${aliceKey}` } });
    expect(await none.json()).toEqual({});
  });

  it("another owner's chat id is never readable nor stoppable: 204 and {}, as an unknown chat", async () => {
    const id = chatId();
    const res = await post({ id, messages: [userMessage("Private")], trigger: "submit-message", ...paced });
    const streamId = res.headers.get("airwave-stream-id")!;
    expect(await transport(paced, bobKey).reconnectToStream({ chatId: id })).toBeNull();
    const stop = await fetch(`${api}/${id}/stop`, { method: "POST", headers: { authorization: `Bearer ${bobKey}` } });
    expect(await stop.json()).toEqual({});
    expect((await streamInfo(streamId)).state).toBe("STREAM_STATE_RUNNING");
    expect(await transport(paced).reconnectToStream({ chatId: "chat-never-used" })).toBeNull();
    await fetch(`${api}/${id}/stop`, { method: "POST", headers: { authorization: `Bearer ${aliceKey}` } });
    await res.body?.cancel();
  });

  it("an unknown model is an APICallError with status 404 and the Connect JSON error before any chunk", async () => {
    const err = await send(transport({ model: "no-such-model" }), chatId(), [userMessage("Hi")]).catch((e: unknown) => e);
    expect(APICallError.isInstance(err)).toBe(true);
    const e = err as APICallError;
    expect(e.statusCode).toBe(404);
    expect(JSON.parse(e.message)).toMatchObject({ code: "not_found", message: expect.stringContaining("no-such-model") });
    const missing = await send(transport({}), chatId(), [userMessage("Hi")]).catch((x: unknown) => x);
    expect((missing as APICallError).statusCode).toBe(400);
    expect(JSON.parse((missing as APICallError).message)).toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/model/),
    });
  });

  it("a failure after the start is an error chunk, which readUIMessageStream reports, then finish with error", async () => {
    const failing = { model: "simulator", metadata: { "simulator.fail_after_tokens": "3" } };
    const chunks = await chunksOf(await send(transport(failing), chatId(), [userMessage("Fail soon")]));
    const error = chunks.find((c) => c.type === "error") as { errorText: string } | undefined;
    expect(JSON.parse(error!.errorText)).toEqual({ code: "unavailable", message: "simulated failure after 3 tokens" });
    expect(chunks.at(-1)).toEqual({ type: "finish", finishReason: "error" });
    const { message, errors } = await finalMessage(await send(transport(failing), chatId(), [userMessage("Fail soon")]));
    expect(errors.map((e) => JSON.parse(e.message).code)).toEqual(["unavailable"]);
    expect(textOf(message).trim().split(" ").length).toBe(3);
  });
});

describe("AbstractChat (what useChat runs) against Airwave", () => {
  it("sends a message and keeps the assistant's answer", async () => {
    const chat = new NodeChat({ id: chatId(), transport: transport() });
    await chat.sendMessage({ text: "How do tides work?" });
    expect(chat.view.status).toBe("ready");
    expect(chat.view.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(textOf(chat.view.messages[1]).split(" ").length).toBeGreaterThan(10);
  });

  it("stop() only closes the connection; resumeStream() rebuilds the same answer from Airwave's replay", async () => {
    const prompt = "Explain the moon's pull on the oceans";
    const reference = new NodeChat({ id: chatId(), transport: transport(paced) });
    const uncut = reference.sendMessage({ text: prompt });
    const chat = new NodeChat({ id: chatId(), transport: transport(paced) });
    const sending = chat.sendMessage({ text: prompt });
    await vi.waitFor(() => expect(textOf(chat.view.messages[1]).split(" ").length).toBeGreaterThan(5), { timeout: 10_000 });
    await chat.stop();
    await sending;
    const partial = chat.view.messages[1]!;
    await chat.resumeStream();
    await uncut;
    expect(chat.view.status).toBe("ready");
    expect(chat.view.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(chat.view.messages[1]?.id).toBe(partial.id);
    expect(chat.view.messages[1]?.parts).toEqual(reference.view.messages[1]?.parts);
  });
});
