// @vitest-environment jsdom
import { ev, FinishReason, InputKind, ResumeOutcome, Role, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { type ReactNode, StrictMode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createChat } from "./chat.js";
import type { ChatPart, InputRequestPart, TextPart, ToolPart } from "./chat-message.js";
import { createFakeClient, type FakeClient, type FakeStream } from "./testing/fake-client.js";
import { type UseChatHelpers, type UseChatOptions, useChat } from "./use-chat.js";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/** Session storage in memory. */
function memoryStorage() {
  const m = new Map<string, string>();
  return {
    map: m,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

/**
 * Renders `useChat` over a fake client, with animation frames run by hand
 * (`frame()`): the batcher's and the storage writes'.
 */
function setup(o: Partial<UseChatOptions> & { fake?: FakeClient; storage?: ReturnType<typeof memoryStorage>; strict?: boolean } = {}) {
  const fake = o.fake ?? createFakeClient();
  const storage = o.storage ?? memoryStorage();
  const frames: (() => void)[] = [];
  const requestFrame = (cb: () => void) => frames.push(cb);
  const win = { addEventListener() {}, removeEventListener() {}, requestAnimationFrame: requestFrame };
  let renders = 0;
  const { fake: _f, storage: _s, strict, ...rest } = o;
  const hook = renderHook(
    () => {
      renders++;
      return useChat({ client: fake.client, storage, window: win, batch: { requestFrame, cancelFrame() {}, policy: false }, ...rest });
    },
    strict ? { wrapper: ({ children }: { children: ReactNode }) => <StrictMode>{children}</StrictMode> } : {},
  );
  return {
    fake,
    storage,
    hook,
    get chat(): UseChatHelpers {
      return hook.result.current;
    },
    get renders() {
      return renders;
    },
    /** Runs the animation frames due. */
    frame: () =>
      act(() => {
        for (const f of frames.splice(0)) f();
      }),
  };
}

/** Delivers `events` on `s` and waits until the chat has taken them all (they then wait for the next frame). */
async function deliver(s: FakeStream, ...events: StreamEvent[]): Promise<void> {
  await act(async () => s.push(...events));
  await waitFor(() => expect(s.drained).toBe(true));
}

/** Starts `sendMessage` inside `act`; returns its promise. */
function send(c: { chat: UseChatHelpers }, text: string): Promise<void> {
  let p: Promise<void> | undefined;
  act(() => {
    p = c.chat.sendMessage({ text });
  });
  return p as Promise<void>;
}

const textOfParts = (parts: readonly ChatPart[]) =>
  parts
    .filter((p): p is TextPart => p.type === "text")
    .map((p) => p.text)
    .join("");

describe("useChat", () => {
  it("goes ready → submitted → streaming → ready, with the user's message and the answer's parts", async () => {
    const onFinish = vi.fn();
    const t = setup({ model: "simulator/fast", onFinish });
    expect(t.chat.status).toBe("ready");
    expect(t.chat.messages).toEqual([]);

    const sent = send(t, "How do lighthouses work?");
    expect(t.chat.status).toBe("submitted");
    expect(t.chat.messages).toMatchObject([{ role: "user", parts: [{ type: "text", text: "How do lighthouses work?" }] }]);
    const s = t.fake.streams[0]!;
    expect(s.kind).toBe("stream");
    expect(s.request).toEqual({
      request: {
        model: "simulator/fast",
        messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "How do lighthouses work?" } }] }],
      },
    });
    expect(t.chat.connection).toMatchObject({ state: "connecting", transport: "connect" });

    await deliver(s, ev.started("fast", "simulator"), ev.textDelta("A lens "), ev.textDelta("bends light"));
    expect(t.chat.status).toBe("submitted"); // nothing rendered before the frame
    t.frame();
    expect(t.chat.status).toBe("streaming");
    expect(t.chat.connection.state).toBe("live");
    const answer = t.chat.messages[1]!;
    expect(answer).toMatchObject({ id: s.streamId, role: "assistant", metadata: { streamId: s.streamId, cursor: "e1:3", model: "fast" } });
    expect(answer.parts).toMatchObject([{ type: "text", text: "A lens bends light", state: "streaming", agentId: "" }]);

    await deliver(s, ev.textDelta("."), ev.completed(FinishReason.STOP, { inputTokens: 5, outputTokens: 4 }));
    await act(() => sent);
    expect(t.chat.status).toBe("ready");
    expect(t.chat.error).toBeUndefined();
    expect(t.chat.connection.state).toBe("closed");
    expect(t.chat.messages[1]!.parts).toMatchObject([{ type: "text", text: "A lens bends light.", state: "done" }]);
    expect(t.chat.messages[1]!.metadata).toMatchObject({
      finish: { type: "completed", reason: FinishReason.STOP },
      usage: { outputTokens: 4 },
    });
    expect(onFinish).toHaveBeenCalledTimes(1);
    expect(onFinish.mock.calls[0]![0]).toMatchObject({
      message: { id: s.streamId },
      isAbort: false,
      isError: false,
      isDisconnect: false,
      finishReason: FinishReason.STOP,
    });
    expect(onFinish.mock.calls[0]![0].messages).toHaveLength(2);
  });

  it("renders once per animation frame, not once per token", async () => {
    const t = setup();
    void send(t, "count");
    const s = t.fake.streams[0]!;
    const before = t.renders;
    await deliver(s, ...Array.from({ length: 200 }, (_, i) => ev.textDelta(`${i} `)));
    expect(t.renders).toBe(before); // 200 events, no render yet
    t.frame();
    expect(t.renders).toBe(before + 1);
    expect(textOfParts(t.chat.messages[1]!.parts).split(" ")).toHaveLength(201);
  });

  it("sends the conversation so far with the next message, and refuses a second one while streaming", async () => {
    const t = setup();
    const first = send(t, "one");
    const s1 = t.fake.streams[0]!;
    await expect(t.chat.sendMessage({ text: "too early" })).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await deliver(s1, ev.textDelta("uno"), ev.completed(FinishReason.STOP));
    await act(() => first);
    const second = send(t, "two");
    expect(t.fake.streams[1]!.request?.request?.messages).toEqual([
      { role: Role.USER, parts: [{ part: { case: "text", value: "one" } }] },
      { role: Role.ASSISTANT, parts: [{ part: { case: "text", value: "uno" } }] },
      { role: Role.USER, parts: [{ part: { case: "text", value: "two" } }] },
    ]);
    await deliver(t.fake.streams[1]!, ev.completed(FinishReason.STOP));
    await act(() => second);
  });

  it("stop() cancels the generation; the gateway's completed(cancelled) ends it with the text kept", async () => {
    const onFinish = vi.fn();
    const t = setup({ onFinish });
    const sent = send(t, "a long essay");
    const s = t.fake.streams[0]!;
    await deliver(s, ev.textDelta("The sea"));
    t.frame();
    await act(() => t.chat.stop());
    await act(() => sent);
    expect(t.fake.cancels).toEqual([{ streamId: s.streamId, reason: "stopped by the user" }]);
    expect(t.chat.status).toBe("ready");
    expect(t.chat.messages[1]!.parts).toMatchObject([{ type: "text", text: "The sea", state: "done" }]);
    expect(t.chat.messages[1]!.metadata?.finish).toMatchObject({ type: "completed", reason: FinishReason.CANCELLED });
    expect(onFinish).toHaveBeenCalledWith(expect.objectContaining({ isAbort: true, isError: false, finishReason: FinishReason.CANCELLED }));
  });

  it("stop() ends the stream locally when cancel fails, and when the gateway does not confirm in time", async () => {
    const t = setup({ stopGraceMs: 2_000 });
    t.fake.onCancel = async () => {
      throw new ConnectError("offline", Code.Unavailable);
    };
    void send(t, "first");
    await deliver(t.fake.streams[0]!, ev.textDelta("partial"));
    await act(() => t.chat.stop());
    expect(t.chat.status).toBe("ready");
    expect(t.chat.error).toBeUndefined();
    expect(t.fake.streams[0]!.ended).toBe(true);
    expect(t.chat.messages[1]!.parts).toMatchObject([{ text: "partial", state: "done" }]);

    // The cancel is accepted but completed(cancelled) never comes: the grace timer ends it.
    t.fake.onCancel = async () => {};
    void send(t, "second");
    await deliver(t.fake.streams[1]!, ev.textDelta("more"));
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let stopped = false;
    const stop = t.chat.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stopped).toBe(false);
    await act(() => vi.advanceTimersByTimeAsync(1));
    await act(() => stop);
    expect(t.chat.status).toBe("ready");
    expect(t.fake.streams[1]!.ended).toBe(true);
  });

  it("regenerate() replaces the last answer with a new stream of the same conversation", async () => {
    const t = setup();
    const first = send(t, "Name a colour");
    await deliver(t.fake.streams[0]!, ev.textDelta("red"), ev.completed(FinishReason.STOP));
    await act(() => first);
    const old = t.chat.messages[1]!.id;

    let again: Promise<void> | undefined;
    act(() => {
      again = t.chat.regenerate();
    });
    await waitFor(() => expect(t.fake.streams).toHaveLength(2));
    expect(t.chat.status).toBe("submitted");
    expect(t.chat.messages.map((m) => m.role)).toEqual(["user"]);
    const s2 = t.fake.streams[1]!;
    expect(s2.request?.request?.messages).toEqual([{ role: Role.USER, parts: [{ part: { case: "text", value: "Name a colour" } }] }]);
    await deliver(s2, ev.textDelta("blue"), ev.completed(FinishReason.STOP));
    await act(() => again!);
    expect(t.chat.messages.map((m) => [m.role, textOfParts(m.parts)])).toEqual([
      ["user", "Name a colour"],
      ["assistant", "blue"],
    ]);
    expect(t.chat.messages[1]!.id).not.toBe(old);
    await expect(t.chat.regenerate({ messageId: t.chat.messages[0]!.id })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("regenerate() while streaming stops the stream first", async () => {
    const t = setup();
    void send(t, "q");
    await deliver(t.fake.streams[0]!, ev.textDelta("half"));
    t.frame();
    let again: Promise<void> | undefined;
    await act(async () => {
      again = t.chat.regenerate();
    });
    await waitFor(() => expect(t.fake.streams).toHaveLength(2));
    expect(t.fake.cancels).toHaveLength(1);
    await deliver(t.fake.streams[1]!, ev.textDelta("whole"), ev.completed(FinishReason.STOP));
    await act(() => again!);
    expect(t.chat.messages.map((m) => textOfParts(m.parts))).toEqual(["q", "whole"]);
  });

  it("resumes on mount the stream saved before a reload: storage holds its id and cursor, never the text", async () => {
    const storage = memoryStorage();
    const first = setup({ storage, resume: true });
    expect(first.fake.streams).toHaveLength(0); // nothing saved: nothing to resume
    void send(first, "Tell me a secret");
    const s = first.fake.streams[0]!;
    await deliver(s, ev.started("default", "simulator"), ev.textDelta("The secret answer"), ev.textDelta(" goes on"));
    first.frame(); // renders, and writes the storage
    const saved = storage.map.get("airwave.chat.default")!;
    expect(JSON.parse(saved)).toEqual([{ streamId: s.streamId, cursor: "e1:3" }]);
    expect(saved).not.toMatch(/secret/);

    first.hook.unmount(); // a reload: the stream is left, never cancelled
    await waitFor(() => expect(s.ended).toBe(true));
    expect(first.fake.cancels).toEqual([]);

    const onFinish = vi.fn();
    const second = setup({ storage, resume: true, onFinish });
    const w = second.fake.streams[0]!;
    expect(w).toMatchObject({ kind: "watch", streamId: s.streamId, cursor: undefined }); // replayed from its start
    expect(second.chat.status).toBe("submitted");
    await deliver(
      w,
      ev.started("default", "simulator"),
      ev.textDelta("The secret answer"),
      ev.textDelta(" goes on"),
      ev.textDelta(" to the end."),
      ev.completed(FinishReason.STOP),
    );
    await waitFor(() => expect(second.chat.status).toBe("ready"));
    expect(second.chat.messages).toHaveLength(1);
    expect(second.chat.messages[0]).toMatchObject({ id: s.streamId, role: "assistant" });
    expect(textOfParts(second.chat.messages[0]!.parts)).toBe("The secret answer goes on to the end.");
    expect(onFinish).toHaveBeenCalledTimes(1);
    second.frame();
    expect(storage.map.has("airwave.chat.default")).toBe(false); // ended: nothing left to resume
  });

  it("does not resume on mount without `resume`, and resumeStream() does it on demand", async () => {
    const storage = memoryStorage();
    storage.setItem("airwave.chat.c1", JSON.stringify([{ streamId: "saved-stream", cursor: "e1:9" }]));
    const t = setup({ storage, id: "c1" });
    expect(t.fake.streams).toHaveLength(0);
    let resumed: Promise<void> | undefined;
    act(() => {
      resumed = t.chat.resumeStream();
    });
    expect(t.fake.streams[0]).toMatchObject({ kind: "watch", streamId: "saved-stream" });
    await deliver(t.fake.streams[0]!, ev.textDelta("all of it"), ev.completed(FinishReason.STOP));
    await act(() => resumed!);
    expect(t.chat.messages.map((m) => textOfParts(m.parts))).toEqual(["all of it"]);
  });

  it("under StrictMode the double mount leaves one live watch", async () => {
    const storage = memoryStorage();
    storage.setItem("airwave.chat.default", JSON.stringify([{ streamId: "s-strict", cursor: "e1:2" }]));
    const t = setup({ storage, resume: true, strict: true });
    const live = t.fake.streams.filter((s) => !s.ended);
    expect(t.fake.streams.length).toBeGreaterThanOrEqual(1);
    expect(live).toHaveLength(1);
    await deliver(live[0]!, ev.textDelta("once"), ev.completed(FinishReason.STOP));
    await waitFor(() => expect(t.chat.status).toBe("ready"));
    expect(t.chat.messages.map((m) => textOfParts(m.parts))).toEqual(["once"]);
  });

  it("a chat shared between components: a remount resumes the stream in flight after its cursor", async () => {
    const fake = createFakeClient();
    const frames: (() => void)[] = [];
    const requestFrame = (cb: () => void) => frames.push(cb);
    const frame = () =>
      act(() => {
        for (const f of frames.splice(0)) f();
      });
    const chat = createChat({ client: fake.client, storage: null, batch: { requestFrame, cancelFrame() {}, policy: false } });
    const a = renderHook(() => useChat({ client: fake.client, chat }));
    act(() => void a.result.current.sendMessage({ text: "q" }));
    const s = fake.streams[0]!;
    await deliver(s, ev.textDelta("one "), ev.textDelta("two "));
    frame();
    a.unmount(); // e.g. a route change: the stream is left, not cancelled
    await waitFor(() => expect(s.ended).toBe(true));
    expect(fake.cancels).toEqual([]);

    const b = renderHook(() => useChat({ client: fake.client, chat }));
    const w = fake.streams[1]!;
    expect(w).toMatchObject({ kind: "watch", streamId: s.streamId, cursor: "e1:2" });
    await deliver(w, ev.textDelta("three"), ev.completed(FinishReason.STOP));
    await waitFor(() => expect(b.result.current.status).toBe("ready"));
    expect(b.result.current.messages.map((m) => textOfParts(m.parts))).toEqual(["q", "one two three"]);
  });

  it("a chat left before its first event repeats the create with the same stream id (idempotent) on the next mount", async () => {
    const fake = createFakeClient();
    const chat = createChat({ client: fake.client, storage: null });
    const a = renderHook(() => useChat({ client: fake.client, chat }));
    act(() => void a.result.current.sendMessage({ text: "q" }));
    const s = fake.streams[0]!;
    a.unmount();
    await waitFor(() => expect(s.ended).toBe(true));
    renderHook(() => useChat({ client: fake.client, chat }));
    expect(fake.streams[1]).toMatchObject({ kind: "stream", request: { streamId: s.streamId, request: { model: "simulator" } } });
  });

  it("follows the latest render's model, request and callbacks", async () => {
    const fake = createFakeClient();
    const onFinish = vi.fn();
    const { result, rerender } = renderHook(
      (p: { model: string }) => useChat({ client: fake.client, storage: null, model: p.model, onFinish }),
      {
        initialProps: { model: "simulator/fast" },
      },
    );
    rerender({ model: "simulator/slow" });
    let sent: Promise<void> | undefined;
    act(() => {
      sent = result.current.sendMessage({ text: "q" });
    });
    expect(fake.streams[0]!.request?.request?.model).toBe("simulator/slow");
    await deliver(fake.streams[0]!, ev.completed(FinishReason.STOP));
    await act(() => sent!);
    expect(onFinish).toHaveBeenCalledTimes(1);
  });

  it("a failed event ends with status error: its code, message and reason; onError, then clearError()", async () => {
    const onError = vi.fn();
    const onFinish = vi.fn();
    const t = setup({ onError, onFinish });
    const sent = send(t, "q");
    await deliver(
      t.fake.streams[0]!,
      ev.textDelta("partial "),
      ev.failed(Code.ResourceExhausted, "the model is busy", "UPSTREAM_RATE_LIMITED", { retryAfterMs: 1500 }),
    );
    await act(() => sent);
    expect(t.chat.status).toBe("error");
    expect(t.chat.error).toBeInstanceOf(ConnectError);
    expect(t.chat.error?.code).toBe(Code.ResourceExhausted);
    expect(t.chat.error?.rawMessage).toBe("the model is busy");
    expect(t.chat.error?.metadata.get("airwave-reason")).toBe("UPSTREAM_RATE_LIMITED");
    expect(t.chat.error?.metadata.get("retry-after-ms")).toBe("1500");
    expect(t.chat.messages[1]!.parts).toMatchObject([{ text: "partial ", state: "done" }]);
    expect(t.chat.messages[1]!.metadata?.finish).toMatchObject({ type: "failed", reason: "UPSTREAM_RATE_LIMITED" });
    expect(onError).toHaveBeenCalledWith(t.chat.error);
    expect(onFinish).toHaveBeenCalledWith(expect.objectContaining({ isError: true, isDisconnect: false, isAbort: false }));
    act(() => t.chat.clearError());
    expect(t.chat.status).toBe("ready");
    expect(t.chat.error).toBeUndefined();
  });

  it("an error the client raises ends with status error; a retryable one is a disconnect, and resumeStream() continues after the cursor", async () => {
    const onFinish = vi.fn();
    const t = setup({ onFinish });
    const sent = send(t, "q");
    const s = t.fake.streams[0]!;
    await deliver(s, ev.textDelta("before the cut "));
    await act(async () => s.fail(new ConnectError("network down", Code.Unavailable)));
    await act(() => sent);
    expect(t.chat.status).toBe("error");
    expect(t.chat.error?.code).toBe(Code.Unavailable);
    expect(onFinish).toHaveBeenCalledWith(expect.objectContaining({ isError: true, isDisconnect: true }));

    let resumed: Promise<void> | undefined;
    act(() => {
      resumed = t.chat.resumeStream();
    });
    const w = t.fake.streams[1]!;
    expect(w).toMatchObject({ kind: "watch", streamId: s.streamId, cursor: "e1:1" });
    expect(t.chat.status).toBe("submitted");
    expect(t.chat.error).toBeUndefined();
    const recovered = create(StreamEventSchema, {
      event: { case: "resumed", value: { outcome: ResumeOutcome.RECOVERED, cursor: "e1:1" } },
    });
    await deliver(w, recovered, ev.textDelta("and after"), ev.completed(FinishReason.STOP));
    await act(() => resumed!);
    expect(t.chat.status).toBe("ready");
    expect(textOfParts(t.chat.messages[1]!.parts)).toBe("before the cut and after");

    const missing = setup();
    const p = send(missing, "q");
    await act(async () => missing.fake.streams[0]!.fail(new ConnectError("no such model", Code.NotFound)));
    await act(() => p);
    expect(missing.chat.status).toBe("error");
    expect(missing.chat.error?.code).toBe(Code.NotFound);
    expect(missing.chat.messages).toHaveLength(1); // no assistant message without an event
  });

  it("shows reconnecting while the resume loop retries, with the attempt and the transport after a fallback", async () => {
    const t = setup({ streamOptions: { transport: "websocket" } });
    void send(t, "q");
    const s = t.fake.streams[0]!;
    await deliver(s, ev.textDelta("a"));
    t.frame();
    const error = new ConnectError("socket closed", Code.Unavailable);
    act(() => s.options.onRetry?.({ attempt: 2, delayMs: 500, error, cursor: { epoch: "e1", seq: 1 } }));
    expect(t.chat.connection).toEqual({ state: "reconnecting", transport: "websocket", attempt: 2, retryInMs: 500, error });
    act(() => s.options.onFallback?.({ from: "websocket", to: "sse", error, cursor: undefined }));
    expect(t.chat.connection).toMatchObject({ state: "reconnecting", transport: "sse" });
    await deliver(s, ev.textDelta("b"));
    t.frame();
    expect(t.chat.connection).toEqual({ state: "live", transport: "sse" });
  });

  it("answers an input request on its stream; the part turns answered when the stream logs the answer", async () => {
    const t = setup();
    void send(t, "book a table");
    const s = t.fake.streams[0]!;
    await deliver(
      s,
      ev.byAgent("planner", ev.status("planning", 0.5)),
      ev.byAgent("planner", ev.inputRequested("in-1", "Book for 7 pm?", InputKind.CONFIRM)),
      ev.byAgent("planner", ev.inputRequested("in-2", "Which room?", InputKind.CHOICE, ["garden", "hall"])),
    );
    t.frame();
    const parts = t.chat.messages[1]!.parts;
    expect(parts[0]).toEqual({ type: "data-status", id: "planner", data: { text: "planning", progress: 0.5 }, agentId: "planner" });
    expect(parts.filter((p): p is InputRequestPart => p.type === "input-request")).toEqual([
      {
        type: "input-request",
        inputId: "in-1",
        prompt: "Book for 7 pm?",
        kind: "confirm",
        choices: [],
        state: "waiting",
        agentId: "planner",
      },
      {
        type: "input-request",
        inputId: "in-2",
        prompt: "Which room?",
        kind: "choice",
        choices: ["garden", "hall"],
        state: "waiting",
        agentId: "planner",
      },
    ]);

    await act(() => t.chat.answerInput({ inputId: "in-1", text: "yes" }));
    expect(t.fake.inputs).toEqual([{ streamId: s.streamId, inputId: "in-1", text: "yes" }]);
    await deliver(s, ev.byAgent("planner", ev.inputAnswered("in-1", "yes")));
    t.frame();
    expect(t.chat.messages[1]!.parts.find((p) => p.type === "input-request" && p.inputId === "in-1")).toMatchObject({
      state: "answered",
      answer: "yes",
    });

    t.fake.onInput = async () => {
      throw new ConnectError("input in-2 is not pending", Code.FailedPrecondition);
    };
    await expect(t.chat.answerInput({ inputId: "in-2", text: "garden" })).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await expect(t.chat.answerInput({ inputId: "nope", text: "x" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("maps reasoning and tool calls to the AI SDK's reasoning and dynamic-tool parts", async () => {
    const t = setup();
    void send(t, "weather?");
    const s = t.fake.streams[0]!;
    await deliver(
      s,
      ev.reasoningDelta("Think", 0, "sig-1"),
      ev.toolCallStarted("call-1", "get_weather", 0),
      ev.toolCallDelta("call-1", '{"city":'),
    );
    t.frame();
    const tool = (i: number) => t.chat.messages[1]!.parts[i] as ToolPart;
    expect(t.chat.messages[1]!.parts[0]).toMatchObject({ type: "reasoning", text: "Think", state: "done", signature: "sig-1" });
    expect(tool(1)).toMatchObject({
      type: "dynamic-tool",
      toolName: "get_weather",
      toolCallId: "call-1",
      state: "input-streaming",
      rawInput: '{"city":',
    });
    await deliver(s, ev.toolCallDelta("call-1", '"Oslo"}'), ev.toolCallCompleted("call-1", "get_weather", '{"city":"Oslo"}'));
    t.frame();
    expect(tool(1)).toMatchObject({ state: "input-available", input: { city: "Oslo" } });
    await deliver(s, ev.toolResult("call-1", '{"celsius":4}'), ev.toolCallStarted("call-2", "broken", 1));
    t.frame();
    expect(tool(1)).toMatchObject({ state: "output-available", input: { city: "Oslo" }, output: { celsius: 4 } });
    await deliver(s, ev.toolResult("call-2", "timeout", { isError: true }), ev.completed(FinishReason.TOOL_CALLS));
    await waitFor(() => expect(t.chat.status).toBe("ready"));
    expect(tool(2)).toMatchObject({ state: "output-error", errorText: "timeout" });
  });
});
