import { Code, ConnectError } from "@connectrpc/connect";
import type { CreateStreamRequest } from "@airwave/proto";
import { type AirwaveRequestHeaders, toCreateStreamRequest } from "../openai/to-create-stream-request.js";

/**
 * The detach policy of chats started through the AI SDK route when
 * `Airwave-On-Detach` is absent: `cancel_after_grace`. With resumable
 * streams, closing the connection (a reload, a lost network, and also
 * `useChat`'s `stop()`, which only aborts the fetch) is a disconnect, not a
 * stop (ai-sdk.dev "Chatbot Resume Streams", "Stop an Active Resumable
 * Stream"): the generation goes on for `AIRWAVE_DETACH_GRACE_MS` (30 s by
 * default) so `reconnectToStream` can pick it up, and is cancelled when
 * nobody came back by then. An explicit stop is `POST
 * /v1/ai-sdk/chat/{chatId}/stop`, which cancels at once. `Airwave-On-Detach:
 * cancel` (closing cancels at once, as on the OpenAI-compatible route, whose
 * SDKs cannot resume) and `continue` (never cancelled by a detach) are the
 * other choices.
 */
export const aiSdkDefaultOnDetach = "cancel_after_grace";

/** One turn of a chat as the gateway runs it. */
export interface ChatTurnRequest {
  /** The chat id (`id` of the body): what `reconnectToStream` and the stop route name. */
  readonly chatId: string;
  /**
   * When the last UI message is the assistant's (a continuation after a
   * client-side tool result, `addToolOutput` with `sendAutomaticallyWhen`),
   * its id: the answer continues that message, as the AI SDK's own server
   * side does (`toUIMessageStream` with `originalMessages`). Otherwise
   * undefined: the answer is a new message. A reconnect replays only this
   * turn's chunks, and a client with `resumeStreamIsReplay` (the default)
   * rebuilds the message from them: the parts of the earlier turn (the tool
   * call answered) are then missing from its view of that message until it
   * reloads the chat from its own store.
   */
  readonly continuesMessageId: string | undefined;
  /** The CreateStream request (the mapped GenerateRequest, the detach policy and stream id of the `airwave-*` headers). */
  readonly create: CreateStreamRequest;
}

/** The keys of the AI SDK's own request body (`HttpChatTransport.sendMessages`); every other key is the request's options. */
const transportKeys = new Set(["id", "messages", "trigger", "messageId"]);

/** Keys of a Chat Completions request that mean nothing here: the answer is always a stream. */
const streamKeys = new Set(["stream", "stream_options"]);

/** A Chat Completions message, as {@link toCreateStreamRequest} reads it. */
type ChatMessage = Record<string, unknown>;

/**
 * Maps the body `DefaultChatTransport` posts (ai-sdk.dev "Transport":
 * `{id, messages, trigger, messageId, ...body}`, the UI messages of
 * ai-sdk.dev "UIMessage") onto CreateStream, through the OpenAI-compatible
 * route's mapping ({@link toCreateStreamRequest}): the UI messages become
 * Chat Completions messages, and every key of the transport's `body` option
 * is a Chat Completions request key (`model`, required; `tools` and
 * `tool_choice` in OpenAI's function format, since the gateway knows no
 * tools of its own; `temperature`, `max_tokens`, `reasoning_effort`,
 * `metadata`, …; `stream` and `stream_options` are ignored: the answer is
 * always a UI message stream).
 *
 * UI messages, part by part (what `convertToModelMessages` would send a
 * model, for the text-only contract):
 * - `system` and `user`: their `text` parts; a `file` part is refused
 *   (the contract carries text only);
 * - `assistant`: split into steps at `step-start`; each step is one
 *   assistant message (its `text` parts, and its tool parts `tool-<name>` or
 *   `dynamic-tool` as `tool_calls`, arguments `JSON.stringify(input)`)
 *   followed by one `tool` message per tool part with a result:
 *   `output-available` (the output, JSON unless a string), `output-error`
 *   (its `errorText`) or `output-denied`. Tool parts still `input-streaming`
 *   are left out; `reasoning`, `source-*`, `file`, `data-*` and other UI-only
 *   parts are dropped, as are steps left empty.
 *
 * `onDetach` defaults to {@link aiSdkDefaultOnDetach}.
 *
 * Raises INVALID_ARGUMENT naming the place (`messages[1].parts[0]: …`) for
 * a body that is not the transport's shape, and what
 * {@link toCreateStreamRequest} raises for the request options (an unknown
 * key, a missing `model`, a malformed tool, …).
 */
export function toChatTurnRequest(body: unknown, headers: AirwaveRequestHeaders = {}): ChatTurnRequest {
  if (!isObject(body)) throw bad("the request body must be a JSON object");
  const chatId = body["id"];
  if (typeof chatId !== "string" || !isChatId(chatId)) {
    throw bad("id: the chat id is required: 1 to 256 characters, no control characters or '/'");
  }
  const trigger = body["trigger"];
  if (trigger != null && trigger !== "submit-message" && trigger !== "regenerate-message") {
    throw bad('trigger must be "submit-message" or "regenerate-message"');
  }
  if (body["messageId"] != null && typeof body["messageId"] !== "string") throw bad("messageId must be a string");
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) throw bad("messages must be a non-empty array of UI messages");
  const chat: ChatMessage[] = [];
  messages.forEach((m, i) => {
    chat.push(...chatMessagesOf(m, `messages[${i}]`));
  });
  const last = messages.at(-1) as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!transportKeys.has(k) && !streamKeys.has(k)) options[k] = v;
  const p = toCreateStreamRequest(
    { ...options, messages: chat },
    { onDetach: headers.onDetach ?? aiSdkDefaultOnDetach, streamId: headers.streamId },
  );
  return {
    chatId,
    continuesMessageId: last["role"] === "assistant" && typeof last["id"] === "string" && last["id"] !== "" ? last["id"] : undefined,
    create: p.create,
  };
}

/** A chat id the routes accept: 1 to 256 characters, none of them a control character or `/`. */
export function isChatId(id: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  return id.length >= 1 && id.length <= 256 && !/[\u0000-\u001f\u007f/]/.test(id);
}

/** The Chat Completions messages of one UI message. */
function chatMessagesOf(m: unknown, path: string): ChatMessage[] {
  if (!isObject(m)) throw bad(`${path} must be a UI message object`);
  const role = m["role"];
  const parts = m["parts"];
  if (!Array.isArray(parts)) throw bad(`${path}.parts must be an array`);
  if (role === "system" || role === "user") {
    const texts = parts.flatMap((p, j) => inputText(p, `${path}.parts[${j}]`));
    return [{ role, content: texts.length === 1 ? texts[0] : texts.map((text) => ({ type: "text", text })) }];
  }
  if (role !== "assistant") throw bad(`${path}.role must be "system", "user" or "assistant"`);
  const out: ChatMessage[] = [];
  let step = newStep();
  const flush = () => {
    if (step.texts.length > 0 || step.calls.length > 0) {
      const msg: ChatMessage = { role: "assistant", content: step.texts.length > 0 ? step.texts.join("") : null };
      if (step.calls.length > 0) msg["tool_calls"] = step.calls;
      out.push(msg, ...step.results);
    }
    step = newStep();
  };
  parts.forEach((p, j) => {
    const at = `${path}.parts[${j}]`;
    if (!isObject(p) || typeof p["type"] !== "string") throw bad(`${at} must be an object with a string type`);
    const type = p["type"];
    if (type === "step-start") flush();
    else if (type === "text") step.texts.push(stringField(p, "text", at));
    else if (type === "dynamic-tool" || type.startsWith("tool-")) addToolPart(step, p, type, at);
    // reasoning, source-url, source-document, file, reasoning-file, data-*, custom, …: UI only, not model input.
  });
  flush();
  return out;
}

/** One step of an assistant message being mapped. */
interface Step {
  readonly texts: string[];
  readonly calls: ChatMessage[];
  readonly results: ChatMessage[];
}

function newStep(): Step {
  return { texts: [], calls: [], results: [] };
}

/** A tool part (`tool-<name>` or `dynamic-tool`): its call, and its result when it has one. */
function addToolPart(step: Step, p: Record<string, unknown>, type: string, at: string): void {
  const state = p["state"];
  if (state === "input-streaming") return; // not a call yet
  const name = type === "dynamic-tool" ? stringField(p, "toolName", at) : type.slice("tool-".length);
  const id = stringField(p, "toolCallId", at);
  const input = p["input"] === undefined && typeof p["rawInput"] === "string" ? p["rawInput"] : (p["input"] ?? {});
  const args = typeof input === "string" ? input : JSON.stringify(input);
  step.calls.push({ id, type: "function", function: { name, arguments: args } });
  let result: string | undefined;
  if (state === "output-available") {
    const output = p["output"];
    result = typeof output === "string" ? output : JSON.stringify(output ?? null);
  } else if (state === "output-error") {
    result = typeof p["errorText"] === "string" ? p["errorText"] : "the tool failed";
  } else if (state === "output-denied") {
    result = "the user denied this tool call";
  }
  if (result !== undefined) step.results.push({ role: "tool", tool_call_id: id, content: result });
}

/** The text of a part of a system or user message: `text` parts; `file` is refused; UI-only parts give nothing. */
function inputText(p: unknown, at: string): string[] {
  if (!isObject(p) || typeof p["type"] !== "string") throw bad(`${at} must be an object with a string type`);
  if (p["type"] === "text") return [stringField(p, "text", at)];
  if (p["type"] === "file") throw bad(`${at}: file parts are not supported: the Airwave contract carries text only`);
  return [];
}

function stringField(o: Record<string, unknown>, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== "string") throw bad(`${at}.${key} must be a string`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
