/**
 * The chat store behind {@link useChat}, free of React: the messages, the
 * status, the one stream in flight. The AI SDK splits its `useChat` the same
 * way (vercel/ai `packages/ai/src/ui/chat.ts` `AbstractChat`, read by
 * `packages/react/src/use-chat.ts` through `useSyncExternalStore`).
 */
import {
  type CreateStreamRequestSchema,
  FinishReason,
  formatCursor,
  type Message as ProtoMessage,
  type MessageSchema as ProtoMessageSchema,
  newStreamId,
  type PartSchema,
  Role,
  retryableCodes,
  type StreamEvent,
} from "@airwave/proto";
import {
  type AirwaveClient,
  createFrameBatcher,
  createMessageState,
  createPageStreams,
  type FrameBatcherOptions,
  type MessageState,
  type PageHidePolicy,
  type PageStreams,
  type PageWindow,
  type ResumableStream,
  reduceMessages,
  type StreamOptions,
  type TransportName,
  toConnectError,
} from "@airwave/web";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { assistantMessage, type ChatMessage, type ChatRole, textMessage } from "./chat-message.js";

/**
 * Where the chat is, with the AI SDK's four values (`ChatStatus` in
 * vercel/ai `packages/ai/src/ui/chat.ts`):
 * - `"submitted"`: a stream was started (or resumed) and no event has arrived yet;
 * - `"streaming"`: events are arriving;
 * - `"ready"`: no stream in flight: the last one completed (or was stopped); a new message can be sent;
 * - `"error"`: the last stream ended with a `failed` event or a raised error ({@link ChatSnapshot.error}).
 */
export type ChatStatus = "submitted" | "streaming" | "ready" | "error";

/**
 * The connection of the stream in flight, as the resume loop reports it
 * (Airwave's own; the AI SDK has none): what a "reconnecting…" indicator shows.
 */
export interface ChatConnection {
  /**
   * `"idle"` (no stream yet), `"connecting"` (before the first event),
   * `"live"`, `"reconnecting"` (the connection broke; the loop waits, then
   * retries), `"closed"` (the stream ended, or was left).
   */
  readonly state: "idle" | "connecting" | "live" | "reconnecting" | "closed";
  /** The transport in use; changes when the loop falls back to the next one. */
  readonly transport: TransportName;
  /** While reconnecting: the retry's number, 1 for the first after progress. */
  readonly attempt?: number;
  /** While reconnecting: how long the loop waits before the attempt, in milliseconds. */
  readonly retryInMs?: number;
  /** While reconnecting: the retryable error that broke the connection. */
  readonly error?: ConnectError;
}

/** Everything a chat UI renders. Immutable: a new object whenever anything in it changes. */
export interface ChatSnapshot {
  readonly messages: readonly ChatMessage[];
  readonly status: ChatStatus;
  /**
   * Why the last stream failed, with status `"error"`: a `failed` event as a
   * ConnectError (its code, message, and the metadata `airwave-reason`), or
   * the error the client raised (e.g. Code.NotFound for a stream the gateway
   * no longer has, Code.Unavailable after the resume loop gave up).
   */
  readonly error: ConnectError | undefined;
  readonly connection: ChatConnection;
}

/**
 * What `onFinish` is told when a stream ends, whichever way: the AI SDK's
 * `ChatOnFinishCallback` argument (vercel/ai `packages/ai/src/ui/chat.ts`).
 */
export interface ChatFinishInfo {
  /** The assistant message of the stream (with no parts when it ended before any). */
  readonly message: ChatMessage;
  /** All messages, the assistant message included when it has parts. */
  readonly messages: readonly ChatMessage[];
  /** True when the user stopped it ({@link Chat.stop}): `completed` FINISH_REASON_CANCELLED, or a local end. */
  readonly isAbort: boolean;
  /** True when it ended with a retryable error raised by the client (the network stayed away). */
  readonly isDisconnect: boolean;
  /** True when it ended with status `"error"`. */
  readonly isError: boolean;
  /** The `completed` event's reason, when it has one. */
  readonly finishReason?: FinishReason;
}

/** A `CreateStreamRequest` as its init shape (`{ request: { model, messages, … }, onDetach? }`). */
export type CreateStreamInit = MessageInitShape<typeof CreateStreamRequestSchema>;

/** What {@link ChatOptions.prepareRequest} is given: the AI SDK's `prepareSendMessagesRequest` arguments, Airwave-shaped. */
export interface ChatRequestContext {
  /** The chat's id. */
  readonly chatId: string;
  /** The conversation to answer, oldest first (the new user message last). */
  readonly messages: readonly ChatMessage[];
  /** Why a stream starts: a new message, or {@link Chat.regenerate}. */
  readonly trigger: "submit-message" | "regenerate-message";
  /** {@link ChatOptions.model}. */
  readonly model: string;
}

/** The part of `Storage` the chat uses to keep the stream in flight across reloads. */
export type ChatStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** Options of {@link createChat} (and of {@link useChat}). */
export interface ChatOptions {
  /** The Airwave client: `createAirwaveClient({ baseUrl, transport })`, made once per page. */
  readonly client: AirwaveClient;
  /** The chat's id: the key of its saved stream (`airwave.chat.<id>`). @defaultValue `"default"` */
  readonly id?: string | undefined;
  /** The messages to start with (e.g. a conversation the app saved in `onFinish`). @defaultValue `[]` */
  readonly messages?: readonly ChatMessage[] | undefined;
  /** The model of the default request (`"<provider>/<model>"`). @defaultValue `"simulator"` */
  readonly model?: string | undefined;
  /**
   * Builds the CreateStreamRequest (tools, temperature, metadata, on_detach…).
   * @defaultValue `{ request: { model, messages } }`, each message's text
   * parts (choice 0) as text parts of its role; messages without text are left out
   */
  readonly prepareRequest?: ((c: ChatRequestContext) => CreateStreamInit) | undefined;
  /** Per-stream options of the client (transport, fallback chain, backoff, agent filter). */
  readonly streamOptions?: Pick<StreamOptions, "transport" | "fallback" | "fallbackAfter" | "backoff" | "agentIds"> | undefined;
  /** Called once when a stream ends (completed, stopped, failed or raised). */
  readonly onFinish?: ((info: ChatFinishInfo) => void) | undefined;
  /** Called when a stream ends with status `"error"`, before `onFinish`. */
  readonly onError?: ((error: ConnectError) => void) | undefined;
  /**
   * Where the stream in flight is saved (its id and the cursor of the last
   * event, never the text), so a reloaded page resumes it; `null`: nowhere.
   * @defaultValue `globalThis.sessionStorage` when it exists
   */
  readonly storage?: ChatStorage | null | undefined;
  /** What leaving the page does to the stream in flight ({@link PageHidePolicy}). @defaultValue `"detach"` */
  readonly onPageHide?: PageHidePolicy | undefined;
  /** The gateway's origin for the `"cancel"` policy's beacon. @defaultValue `location.origin` */
  readonly baseUrl?: string | undefined;
  /** The window whose `pagehide` is followed. @defaultValue `globalThis.window` */
  readonly window?: PageWindow | undefined;
  /** How events are batched into renders ({@link FrameBatcherOptions}): by default on animation frames at the interval of the page's update policy (every 500 ms on a slow link, 100 ms by default, every frame on a fast device); `{ policy: false }`: every frame. */
  readonly batch?: FrameBatcherOptions | undefined;
  /** How long {@link Chat.stop} waits for the gateway's `completed` (cancelled) before it ends the stream locally, in milliseconds. @defaultValue 2000 */
  readonly stopGraceMs?: number | undefined;
  /** Makes the ids of user messages. @defaultValue a random 128-bit id */
  readonly generateId?: (() => string) | undefined;
}

/** A chat: its state (read with {@link Chat.getSnapshot}, followed with {@link Chat.subscribe}) and its actions. */
export interface Chat {
  /** {@link ChatOptions.id}. */
  readonly id: string;
  /** The current state; the same object until something changes. */
  getSnapshot(): ChatSnapshot;
  /** Calls `listener` after each change (at most once per batch of the frame batcher while a stream is arriving); returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /**
   * Appends a user message with `text` and streams the answer: the AI SDK's
   * `sendMessage({ text })`. Resolves when the stream has ended (its outcome
   * is in the state, never thrown). Raises Code.FailedPrecondition when a
   * stream is still in flight ({@link Chat.stop} it first).
   */
  sendMessage(message: { readonly text: string }): Promise<void>;
  /**
   * Streams a new answer in place of an assistant message (the last one by
   * default) and of everything after it: the AI SDK's `regenerate({ messageId })`.
   * Stops a stream in flight first. Raises Code.InvalidArgument when
   * `messageId` is not an assistant message of the chat, or when there is
   * nothing to answer.
   */
  regenerate(o?: { readonly messageId?: string | undefined }): Promise<void>;
  /**
   * Stops the stream in flight: cancels the generation (`client.cancel`),
   * so the model stops and the stream ends with `completed` (cancelled);
   * status `"ready"`, the text so far kept. When the gateway does not
   * confirm within `stopGraceMs` (or cancel fails), the stream ends locally.
   * Resolves once it has ended; does nothing without a stream.
   */
  stop(): Promise<void>;
  /**
   * Follows a stream again: the one this chat left (unmounted, or failed
   * while retryable), else the one saved in storage before a reload. A
   * message the chat still holds continues after its cursor; otherwise
   * (after a reload: storage keeps no text) the stream is watched from its
   * start and the message model rebuilds the answer exactly. Does nothing
   * when a stream is in flight or there is none to resume. The AI SDK's
   * `resumeStream()`.
   */
  resumeStream(): Promise<void>;
  /**
   * Answers an input request (an `input-request` part) with `text`
   * (`"yes"`/`"no"` for a confirm, one of `choices` for a choice): the
   * counterpart of the AI SDK's `addToolOutput` / `addToolApprovalResponse`.
   * The part turns `"answered"` when the stream logs the answer. Raises a
   * ConnectError: Code.NotFound for an input id no message holds; what
   * `client.sendInput` raises (Code.FailedPrecondition with `airwave-reason`
   * INPUT_NOT_PENDING or STREAM_ENDED, Code.InvalidArgument for a choice not offered).
   */
  answerInput(answer: { readonly inputId: string; readonly text: string }): Promise<void>;
  /** Replaces the messages (e.g. to edit one before {@link Chat.regenerate}); the AI SDK's `setMessages`. */
  setMessages(messages: readonly ChatMessage[] | ((messages: readonly ChatMessage[]) => readonly ChatMessage[])): void;
  /** Leaves status `"error"` for `"ready"` and clears the error; the AI SDK's `clearError`. */
  clearError(): void;
  /**
   * Starts following the page: storage of the stream in flight, the
   * `pagehide` policy; resumes the stream the chat left when it was
   * detached, and with `resume` the one saved before a reload. Returns the
   * detach: the stream in flight is left (never cancelled) and resumed by the
   * next attach. Calls nest (the last detach leaves).
   */
  attach(o?: { readonly resume?: boolean | undefined }): () => void;
}

/**
 * Creates a chat over `o.client`: every transport and the one resume loop
 * of `@airwave/web`, the message model's reducer for the parts, the frame
 * batcher for the renders. Makes no request and touches no storage until
 * {@link Chat.attach} or an action.
 *
 * @example
 * const chat = createChat({ client: createAirwaveClient({ baseUrl: location.origin }), model: "simulator" });
 * const detach = chat.attach({ resume: true });
 * chat.subscribe(() => render(chat.getSnapshot()));
 * await chat.sendMessage({ text: "How do lighthouses work?" });
 */
export function createChat(o: ChatOptions): Chat {
  const id = o.id ?? "default";
  const client = o.client;
  // Read when used, so that options given as getters (as useChat does) follow the latest render.
  const generateId = o.generateId ?? newStreamId;
  const listeners = new Set<() => void>();
  /** The message model's view behind each assistant message the chat streamed, by message id (= stream id). */
  const views = new Map<string, MessageState>();
  let snap: ChatSnapshot = {
    messages: o.messages ?? [],
    status: "ready",
    error: undefined,
    connection: { state: "idle", transport: o.streamOptions?.transport ?? client.transport },
  };
  let active: Run | undefined;
  /** The stream the chat left on detach, resumed by the next attach (with its request, when it was a create). */
  let left: string | undefined;
  let leftInit: CreateStreamInit | undefined;
  let page: PageStreams | undefined;
  let attached = 0;
  /** Streams the user stopped that ended without the gateway's confirmation: never resumed. */
  const stoppedLocally = new Set<string>();

  interface Run {
    readonly streamId: string;
    readonly ctl: AbortController;
    view: MessageState;
    /** The request of a `stream` run: repeated (CreateStream is idempotent per id) to resume one left before its first event. */
    readonly init: CreateStreamInit | undefined;
    ending?: "stop" | "detach";
    done: Promise<void>;
  }

  function set(p: Partial<ChatSnapshot>): void {
    snap = { ...snap, ...p };
    for (const l of [...listeners]) l();
  }
  function withMessage(m: ChatMessage): readonly ChatMessage[] {
    const i = snap.messages.findIndex((x) => x.id === m.id);
    if (i < 0) return [...snap.messages, m];
    const next = snap.messages.slice();
    next[i] = m;
    return next;
  }

  /** Follows `make`'s stream into the assistant message of its id, from `view`. */
  function start(make: (so: StreamOptions) => ResumableStream, from?: MessageState, init?: CreateStreamInit): Promise<void> {
    const ctl = new AbortController();
    let transport = o.streamOptions?.transport ?? client.transport;
    let r: Run | undefined;
    const mine = () => r !== undefined && active === r;
    const raw = make({
      ...o.streamOptions,
      signal: ctl.signal,
      onRetry(info) {
        if (mine())
          set({ connection: { state: "reconnecting", transport, attempt: info.attempt, retryInMs: info.delayMs, error: info.error } });
      },
      onFallback(info) {
        transport = info.to as TransportName;
        if (mine()) set({ connection: { ...snap.connection, transport } });
      },
    });
    const run: Run = { streamId: raw.streamId, ctl, view: from ?? createMessageState(raw.streamId), init, done: Promise.resolve() };
    r = run;
    active = run;
    left = undefined;
    leftInit = undefined;
    if (page) {
      // One stream in flight per chat: older saved ones are abandoned.
      for (const s of page.restore()) if (s.streamId !== run.streamId) page.forget(s.streamId);
    }
    const stream = page ? page.track(raw) : raw;
    set({ status: "submitted", error: undefined, connection: { state: "connecting", transport } });

    const batch = createFrameBatcher<StreamEvent>((events) => {
      if (!mine()) return;
      run.view = reduceMessages(run.view, events);
      views.set(run.streamId, run.view);
      set({
        messages: withMessage(assistantMessage(run.streamId, run.view, true)),
        status: "streaming",
        connection: { state: "live", transport },
      });
    }, o.batch);

    run.done = (async () => {
      let raised: ConnectError | undefined;
      try {
        for await (const e of stream) batch.push(e);
      } catch (err) {
        raised = toConnectError(err);
      }
      if (run.ending === "detach") {
        batch.cancel();
        return;
      }
      batch.flush();
      active = undefined;
      const message = assistantMessage(run.streamId, run.view, false);
      const messages = message.parts.length > 0 ? withMessage(message) : snap.messages;
      const finish = run.view.finish;
      const stopped = run.ending === "stop";
      let error: ConnectError | undefined;
      if (finish?.type === "failed") {
        const metadata = new Headers();
        if (finish.reason !== "") metadata.set("airwave-reason", finish.reason);
        if (finish.retryAfterMs > 0) metadata.set("retry-after-ms", String(finish.retryAfterMs));
        error = new ConnectError(finish.message, finish.code, metadata);
      } else if (raised && !(stopped && raised.code === Code.Canceled)) {
        error = raised;
      }
      if (stopped) {
        page?.forget(run.streamId);
        if (finish === undefined) stoppedLocally.add(run.streamId);
      }
      set({ messages, status: error ? "error" : "ready", error, connection: { state: "closed", transport } });
      if (error) o.onError?.(error);
      const finishReason = finish?.type === "completed" ? finish.reason : undefined;
      o.onFinish?.({
        message,
        messages,
        isAbort: finishReason === FinishReason.CANCELLED || (stopped && finish === undefined),
        isDisconnect: finish === undefined && error !== undefined && retryableCodes.has(error.code),
        isError: error !== undefined,
        ...(finishReason !== undefined ? { finishReason } : {}),
      });
    })();
    return run.done;
  }

  function request(trigger: ChatRequestContext["trigger"]): Promise<void> {
    const init = (o.prepareRequest ?? defaultRequest)({ chatId: id, messages: snap.messages, trigger, model: o.model ?? "simulator" });
    return start((so) => client.stream(init, so), undefined, init);
  }

  function busy(): ConnectError {
    return new ConnectError("a response is still streaming: stop() it first", Code.FailedPrecondition);
  }

  const chat: Chat = {
    id,
    getSnapshot: () => snap,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async sendMessage(message) {
      if (active) throw busy();
      set({ messages: [...snap.messages, textMessage(generateId(), "user", message.text)] });
      return request("submit-message");
    },
    async regenerate(ro = {}) {
      if (active) await chat.stop();
      if (active) throw busy();
      const msgs = snap.messages;
      const i =
        ro.messageId !== undefined ? msgs.findIndex((m) => m.id === ro.messageId) : msgs.findLastIndex((m) => m.role === "assistant");
      if (ro.messageId !== undefined && msgs[i]?.role !== "assistant") {
        throw new ConnectError(`no assistant message "${ro.messageId}" to regenerate`, Code.InvalidArgument);
      }
      const keep = i < 0 ? msgs : msgs.slice(0, i);
      if (keep.at(-1)?.role !== "user")
        throw new ConnectError("nothing to regenerate: the chat does not end with a user message", Code.InvalidArgument);
      for (const m of msgs.slice(keep.length)) views.delete(m.id);
      set({ messages: keep, status: "ready", error: undefined });
      return request("regenerate-message");
    },
    async stop() {
      const run = active;
      if (!run) return;
      if (run.ending === undefined) {
        run.ending = "stop";
        const timer = setTimeout(() => run.ctl.abort(), o.stopGraceMs ?? 2_000);
        void run.done.finally(() => clearTimeout(timer));
        try {
          await client.cancel(run.streamId, "stopped by the user");
        } catch {
          run.ctl.abort(); // Not confirmed (unknown yet, network down): end it here.
        }
      }
      await run.done;
    },
    async resumeStream() {
      if (active) return;
      const target = left ?? lastUnfinished() ?? page?.restore().at(-1)?.streamId;
      if (target === undefined) return;
      const view = views.get(target);
      const init = target === left ? leftInit : undefined;
      if (init !== undefined && (view === undefined || view.lastSeq === 0)) {
        // Left before its first event: the create may not have reached the gateway. Repeating it
        // with the same stream id creates it, or attaches to it from its start.
        return start((so) => client.stream({ ...init, streamId: target }, so), view, init);
      }
      const cursor = view && view.lastSeq > 0 ? formatCursor({ epoch: view.epoch, seq: view.lastSeq }) : undefined;
      return start((so) => client.watch(target, cursor, so), view);
    },
    async answerInput({ inputId, text }) {
      const owner = snap.messages.find((m) => m.parts.some((p) => p.type === "input-request" && p.inputId === inputId));
      const streamId = owner?.metadata?.streamId;
      if (streamId === undefined) throw new ConnectError(`no input request "${inputId}" in this chat`, Code.NotFound);
      await client.sendInput(streamId, inputId, text);
    },
    setMessages(m) {
      const next = typeof m === "function" ? m(snap.messages) : m;
      for (const k of [...views.keys()]) if (!next.some((x) => x.id === k)) views.delete(k);
      set({ messages: next });
    },
    clearError() {
      if (snap.status === "error") set({ status: "ready", error: undefined });
    },
    attach(ao = {}) {
      attached++;
      if (page === undefined && o.storage !== null) {
        const storage = o.storage ?? (globalThis as { sessionStorage?: ChatStorage }).sessionStorage;
        if (storage) {
          page = createPageStreams({
            baseUrl: o.baseUrl ?? (globalThis as { location?: { origin: string } }).location?.origin ?? "",
            onPageHide: o.onPageHide,
            storage,
            key: `airwave.chat.${id}`,
            window: o.window,
          });
        }
      }
      if (left !== undefined || ao.resume) void chat.resumeStream();
      let detached = false;
      return () => {
        if (detached) return;
        detached = true;
        if (--attached > 0) return;
        const run = active;
        if (run) {
          run.ending = "detach";
          active = undefined;
          left = run.streamId;
          leftInit = run.init;
          run.ctl.abort();
        }
        page?.flush();
        page?.dispose();
        page = undefined;
      };
    },
  };

  /** The last assistant message whose stream the chat followed and that has not ended, if any. */
  function lastUnfinished(): string | undefined {
    const last = snap.messages.findLast((m) => m.role === "assistant");
    const view = last && views.get(last.id);
    return view && view.finish === undefined && !stoppedLocally.has(last.id) ? last.id : undefined;
  }

  return chat;
}

/**
 * The default {@link ChatOptions.prepareRequest}: the messages' text as the
 * conversation of a `GenerateRequest` for `model`.
 */
export function defaultRequest(c: ChatRequestContext): {
  request: { model: string; messages: MessageInitShape<typeof ProtoMessageSchema>[] };
} {
  return { request: { model: c.model, messages: c.messages.flatMap(toProtoMessage) } };
}

/** @private */
function toProtoMessage(m: ChatMessage): MessageInitShape<typeof ProtoMessageSchema>[] {
  const parts: MessageInitShape<typeof PartSchema>[] = [];
  for (const p of m.parts)
    if (p.type === "text" && p.choiceIndex === 0 && p.text !== "") parts.push({ part: { case: "text", value: p.text } });
  return parts.length === 0 ? [] : [{ role: roles[m.role], parts }];
}

/** @private */
const roles: Record<ChatRole, ProtoMessage["role"]> = { system: Role.SYSTEM, user: Role.USER, assistant: Role.ASSISTANT };
