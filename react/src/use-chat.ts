import { useEffect, useRef, useSyncExternalStore } from "react";
import { type Chat, type ChatOptions, type ChatSnapshot, createChat } from "./chat.js";

/** Options of {@link useChat}: the chat's ({@link ChatOptions}), plus `resume` and an optional shared chat. */
export interface UseChatOptions extends ChatOptions {
  /**
   * Resume on mount the stream saved before a reload (the AI SDK's `resume:
   * true`): {@link Chat.resumeStream} once mounted. @defaultValue false
   */
  readonly resume?: boolean | undefined;
  /**
   * A chat made with {@link createChat}, to share one chat between
   * components (the AI SDK's `chat` option); the other options are then
   * ignored but `resume`. @defaultValue a chat of this component, made anew when `id` or `client` changes
   */
  readonly chat?: Chat | undefined;
}

/**
 * What {@link useChat} returns: the snapshot (messages, status, error,
 * connection) and the actions, with the names of the AI SDK's
 * `UseChatHelpers` (vercel/ai `packages/react/src/use-chat.ts`). The actions
 * are stable for the life of the chat.
 */
export interface UseChatHelpers extends ChatSnapshot {
  readonly id: string;
  readonly sendMessage: Chat["sendMessage"];
  readonly regenerate: Chat["regenerate"];
  readonly stop: Chat["stop"];
  readonly resumeStream: Chat["resumeStream"];
  readonly answerInput: Chat["answerInput"];
  readonly setMessages: Chat["setMessages"];
  readonly clearError: Chat["clearError"];
}

/**
 * The chat's options, read from the latest render where they may change
 * (model, request, stream options, callbacks); the rest as first given.
 * @private
 */
function followLatest(latest: { readonly current: UseChatOptions }): ChatOptions {
  const first = latest.current;
  return {
    client: first.client,
    id: first.id,
    messages: first.messages,
    storage: first.storage,
    onPageHide: first.onPageHide,
    baseUrl: first.baseUrl,
    window: first.window,
    batch: first.batch,
    generateId: first.generateId,
    get model() {
      return latest.current.model;
    },
    get prepareRequest() {
      return latest.current.prepareRequest;
    },
    get streamOptions() {
      return latest.current.streamOptions;
    },
    get stopGraceMs() {
      return latest.current.stopGraceMs;
    },
    onFinish: (info) => latest.current.onFinish?.(info),
    onError: (err) => latest.current.onError?.(err),
  };
}

/**
 * A chat with the habits of the AI SDK's `useChat`, over Airwave: messages
 * with parts, `status` (submitted → streaming → ready | error), `stop()`,
 * `regenerate()`, `resumeStream()` (and `resume` on mount, from the stream
 * id and cursor saved in session storage), answering the agent's input
 * requests, `onFinish` / `onError`. Streams go through `createAirwaveClient`
 * (any of its seven transports, its one resume loop), parts come from the
 * message model's reducer, and the component re-renders at most once per
 * animation frame however fast tokens arrive (less often on a slow link or
 * device: the frame batcher's update policy).
 *
 * Unmounting leaves the stream in flight (never cancels it: the gateway
 * keeps generating for its detach grace); mounting again, or a reload with
 * `resume`, picks it up. Under `StrictMode` the double mount is harmless.
 *
 * @example
 * const client = createAirwaveClient({ baseUrl: location.origin, transport: "websocket" });
 * function Chat() {
 *   const { messages, sendMessage, status, stop } = useChat({ client, model: "simulator", resume: true });
 *   // …render messages[i].parts, call sendMessage({ text }) …
 * }
 */
export function useChat(o: UseChatOptions): UseChatHelpers {
  const latest = useRef(o);
  latest.current = o;
  const owned = useRef<{ chat: Chat; id: string | undefined; client: ChatOptions["client"] } | undefined>(undefined);
  let chat = o.chat;
  if (chat === undefined) {
    const mine = owned.current;
    if (mine === undefined || mine.id !== o.id || mine.client !== o.client) {
      const made = createChat(followLatest(latest));
      owned.current = { chat: made, id: o.id, client: o.client };
      chat = made;
    } else chat = mine.chat;
  }
  const resume = o.resume ?? false;
  useEffect(() => chat.attach({ resume }), [chat, resume]);
  const snap = useSyncExternalStore(chat.subscribe, chat.getSnapshot, chat.getSnapshot);
  return {
    ...snap,
    id: chat.id,
    sendMessage: chat.sendMessage,
    regenerate: chat.regenerate,
    stop: chat.stop,
    resumeStream: chat.resumeStream,
    answerInput: chat.answerInput,
    setMessages: chat.setMessages,
    clearError: chat.clearError,
  };
}
