/**
 * The messages {@link useChat} shows: the AI SDK's `UIMessage` shape
 * (`{ id, role, parts }`, parts keyed on `type`), with the parts built from
 * `@airwave/web`'s message model. Each mapping names its AI SDK original
 * (vercel/ai `packages/ai/src/ui/ui-messages.ts`, AI SDK 5–7).
 */
import { type Cursor, formatCursor, InputKind, type Usage } from "@airwave/proto";
import { type Block, type Finish, type MessageState, type TextChunks, textChunks, textOf } from "@airwave/web";

/** Who wrote a message: the AI SDK's `UIMessage.role`. */
export type ChatRole = "system" | "user" | "assistant";

/**
 * A text part: the AI SDK's `TextUIPart` (`{ type: "text", text, state }`),
 * plus where it came from. `text` is joined from `chunks` when read (and
 * cached by the message model), so a renderer that appends
 * {@link chunksSince} keeps one copy of a long answer.
 */
export interface TextPart {
  readonly type: "text";
  /** The text so far. */
  readonly text: string;
  /** The text as the message model holds it (append-only fragments). */
  readonly chunks: TextChunks;
  /** `"streaming"` while more may follow (the block is its agent's last and the stream is live), then `"done"`. */
  readonly state: "streaming" | "done";
  /** The agent that wrote it (`StreamEvent.agent_id`); "" is the main agent, and user text. */
  readonly agentId: string;
  /** The candidate answer (`StreamEvent.choice_index`), 0 for the first and usually only one. */
  readonly choiceIndex: number;
}

/** A reasoning ("thinking") part: the AI SDK's `ReasoningUIPart`, plus the provider's signature and redaction flag. */
export interface ReasoningPart {
  readonly type: "reasoning";
  readonly text: string;
  readonly chunks: TextChunks;
  readonly state: "streaming" | "done";
  readonly agentId: string;
  readonly choiceIndex: number;
  /** The provider's signature of the block ("" when none). */
  readonly signature: string;
  /** True when the provider redacted (part of) the block. */
  readonly redacted: boolean;
}

/**
 * A tool call and, for tools the server runs, its result: the AI SDK's
 * `DynamicToolUIPart` (Airwave's tools are not typed on the client, so the
 * `tool-${name}` parts of typed tools do not apply). `state`:
 * - `"input-streaming"`: the arguments are still streaming (`rawInput` so far, `input` unset);
 * - `"input-available"`: the call is complete (`input` is the parsed arguments);
 * - `"output-available"`: the tool's result arrived (`output`: parsed JSON, else the text);
 * - `"output-error"`: the tool failed (`errorText`), or the arguments did not parse, or the
 *   provider cut the call (`incomplete`): such a call must not be run.
 */
export interface ToolPart {
  readonly type: "dynamic-tool";
  readonly toolName: string;
  readonly toolCallId: string;
  readonly state: "input-streaming" | "input-available" | "output-available" | "output-error";
  /** The parsed arguments, once complete. */
  readonly input?: unknown;
  /** The arguments JSON text as it streamed (the AI SDK's `rawInput`). */
  readonly rawInput: string;
  /** The tool's result: its JSON value, or the text when it is not JSON. */
  readonly output?: unknown;
  /** Why the call failed, in `"output-error"`. */
  readonly errorText?: string;
  /** True when the provider runs the tool itself. */
  readonly providerExecuted: boolean;
  /** True when the provider cut the call before its arguments were complete. */
  readonly incomplete: boolean;
  readonly agentId: string;
}

/**
 * A question the agent asks the user (`input_requested`), answered with
 * {@link UseChatHelpers.answerInput}. The AI SDK has no part of its own for
 * it: its human-in-the-loop tools are a tool part in `"approval-requested"`
 * (a yes/no, answered with `addToolApprovalResponse`) or `"input-available"`
 * (answered with `addToolOutput`, formerly `addToolResult`); Airwave's agent
 * asks on the server, so this part carries the question itself.
 */
export interface InputRequestPart {
  readonly type: "input-request";
  /** The id {@link UseChatHelpers.answerInput} answers. */
  readonly inputId: string;
  /** The question, as text for the user. */
  readonly prompt: string;
  /** `"confirm"` (answer "yes" or "no"), `"choice"` (one of `choices`), `"text"` or `"unspecified"` (free text). */
  readonly kind: "confirm" | "choice" | "text" | "unspecified";
  /** The allowed answers of a `"choice"`. */
  readonly choices: readonly string[];
  /** `"waiting"` until the stream logs the answer (`input_answered`), then `"answered"`. */
  readonly state: "waiting" | "answered";
  /** The answer, once answered. */
  readonly answer?: string;
  readonly agentId: string;
}

/**
 * An agent's latest progress (`status` events): the AI SDK's data part
 * (`{ type: "data-${name}", id, data }`) named `status`, one per agent
 * (`id` is the agent id), placed before that agent's other parts.
 */
export interface StatusPart {
  readonly type: "data-status";
  /** The agent id ("" the main agent). */
  readonly id: string;
  readonly data: {
    /** Human-readable text, e.g. "reading the report…". */
    readonly text: string;
    /** Progress from 0 to 1, when the agent reported it. */
    readonly progress?: number;
  };
  readonly agentId: string;
}

/** One part of a message, keyed on `type` (the AI SDK's `UIMessagePart` subset Airwave produces, plus `input-request`). */
export type ChatPart = TextPart | ReasoningPart | ToolPart | InputRequestPart | StatusPart;

/** What an assistant message knows about the stream behind it (the AI SDK's free-form `metadata`, filled by Airwave). */
export interface AssistantMetadata {
  /** The stream that produced the message (also the message's id). */
  readonly streamId: string;
  /** The position of the last event applied (`"<epoch>:<seq>"`), absent before the first: where a resume continues. */
  readonly cursor?: string;
  /** From `started`: the model and provider that answered. */
  readonly model?: string;
  readonly provider?: string;
  /** The terminal event, once it arrived: `completed` (with its FinishReason) or `failed` (code, message, reason). */
  readonly finish?: Finish;
  /** The latest token counts; unknown counts stay unset, never 0. */
  readonly usage?: Usage;
  /** True when a resume lost events (the log no longer had them): the message shows only part of the answer. */
  readonly gap: boolean;
}

/**
 * A message: the AI SDK's `UIMessage` (`{ id, role, metadata?, parts }`).
 * User messages hold text parts; assistant messages hold what the stream
 * produced, with `metadata`. Immutable: a new object whenever it changes,
 * the same object otherwise (`React.memo` friendly).
 */
export interface ChatMessage {
  readonly id: string;
  readonly role: ChatRole;
  readonly parts: readonly ChatPart[];
  /** Set on assistant messages. */
  readonly metadata?: AssistantMetadata;
}

/** A user (or system) message holding `text` as one text part. */
export function textMessage(id: string, role: ChatRole, text: string): ChatMessage {
  return { id, role, parts: [textPart(textChunks(text), "done", "", 0)] };
}

/**
 * The assistant message of stream `view.streamId` as the message model sees
 * it. `live` says whether more may follow (it sets the parts' `state`).
 * Cost: one object per block and agent, never a copy of the text.
 */
export function assistantMessage(id: string, view: MessageState, live: boolean): ChatMessage {
  const parts: ChatPart[] = [];
  for (const agent of view.agents) {
    const agentId = agent.id;
    if (agent.status) {
      const { text, progress } = agent.status;
      parts.push({ type: "data-status", id: agentId, data: progress === undefined ? { text } : { text, progress }, agentId });
    }
    const last = agent.blocks.length - 1;
    for (const [i, b] of agent.blocks.entries()) parts.push(partOf(b, agentId, live && view.finish === undefined && i === last));
  }
  const metadata: AssistantMetadata = {
    streamId: view.streamId !== "" ? view.streamId : id,
    ...(view.lastSeq > 0 ? { cursor: formatCursor({ epoch: view.epoch, seq: view.lastSeq } satisfies Cursor) } : {}),
    ...(view.started ? { model: view.started.model, provider: view.started.provider } : {}),
    ...(view.finish ? { finish: view.finish } : {}),
    ...(view.usage ? { usage: view.usage } : {}),
    gap: view.gap,
  };
  return { id, role: "assistant", parts, metadata };
}

/** @private */
function partOf(b: Block, agentId: string, open: boolean): ChatPart {
  const state = open ? "streaming" : "done";
  switch (b.type) {
    case "text":
      return textPart(b, state, agentId, b.choiceIndex);
    case "reasoning":
      return {
        type: "reasoning",
        get text() {
          return textOf(b);
        },
        chunks: b,
        state,
        agentId,
        choiceIndex: b.choiceIndex,
        signature: b.signature,
        redacted: b.redacted,
      };
    case "tool-call": {
      const base = {
        type: "dynamic-tool",
        toolName: b.name,
        toolCallId: b.callId,
        rawInput: textOf(b.argumentsText),
        providerExecuted: b.providerExecuted,
        incomplete: b.completed?.incomplete ?? false,
        agentId,
      } as const;
      if (b.result) {
        return b.result.isError
          ? { ...base, state: "output-error", ...inputOf(b), errorText: b.result.text }
          : { ...base, state: "output-available", ...inputOf(b), output: parseOutput(b.result.text) };
      }
      if (!b.completed) return { ...base, state: "input-streaming" };
      if (b.completed.incomplete)
        return { ...base, state: "output-error", errorText: "the provider cut the call before its arguments were complete" };
      if (!b.completed.arguments.ok)
        return { ...base, state: "output-error", errorText: `arguments are not JSON: ${b.completed.arguments.error}` };
      return { ...base, state: "input-available", input: b.completed.arguments.value };
    }
    case "input":
      return {
        type: "input-request",
        inputId: b.inputId,
        prompt: b.prompt,
        kind: kindName(b.kind),
        choices: b.choices,
        state: b.answer === undefined ? "waiting" : "answered",
        ...(b.answer === undefined ? {} : { answer: b.answer }),
        agentId,
      };
  }
}

/** @private */
function textPart(t: TextChunks, state: "streaming" | "done", agentId: string, choiceIndex: number): TextPart {
  return {
    type: "text",
    get text() {
      return textOf(t);
    },
    chunks: t,
    state,
    agentId,
    choiceIndex,
  };
}

/** @private */
function inputOf(b: Extract<Block, { type: "tool-call" }>): { input?: unknown } {
  return b.completed?.arguments.ok ? { input: b.completed.arguments.value } : {};
}

/** @private */
function parseOutput(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** @private */
function kindName(k: InputKind): InputRequestPart["kind"] {
  switch (k) {
    case InputKind.CONFIRM:
      return "confirm";
    case InputKind.CHOICE:
      return "choice";
    case InputKind.TEXT:
      return "text";
    default:
      return "unspecified";
  }
}
