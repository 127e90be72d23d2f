/**
 * The message model: a pure reducer from airwave.v1 `StreamEvent`s to a
 * typed view of the answer — per agent, its text, reasoning, tool calls
 * with their results, status and input requests — plus the stream-level
 * facts (started, usage, how it ended, whether text was lost).
 *
 * @example
 * ```ts
 * import { createMessageState, reduceMessage, textOf } from "@airwave/web";
 *
 * let view = createMessageState();
 * for await (const e of client.stream(request)) {
 *   view = reduceMessage(view, e);
 *   for (const agent of view.agents)
 *     for (const block of agent.blocks)
 *       if (block.type === "text") console.log(agent.id || "main", textOf(block));
 * }
 * view.finish; // { type: "completed", reason: FinishReason.STOP, … }
 * ```
 */
import {
  type Cursor,
  type FinishReason,
  fromProtoCode,
  type InputKind,
  parseCursor,
  ResumeOutcome,
  type StreamEvent,
  type Usage,
} from "@airwave/proto";
import type { Code } from "@connectrpc/connect";
import { appendText, emptyText, type TextChunks, textChunks, textOf } from "./text-chunks.js";

/** A block of answer text: the `text_delta`s of one (choice, block index), concatenated in seq order. */
export interface TextBlock extends TextChunks {
  readonly type: "text";
  /** `StreamEvent.choice_index`: the candidate answer, 0 for the first and usually only one. */
  readonly choiceIndex: number;
  /** `TextDelta.block_index`. */
  readonly blockIndex: number;
}

/** A block of reasoning ("thinking") text: the `reasoning_delta`s of one (choice, block index). */
export interface ReasoningBlock extends TextChunks {
  readonly type: "reasoning";
  readonly choiceIndex: number;
  /** `ReasoningDelta.block_index`. */
  readonly blockIndex: number;
  /** The provider's signature of the block, when it sent one (the last non-empty one wins). */
  readonly signature: string;
  /** True once a delta of the block was marked redacted by the provider. */
  readonly redacted: boolean;
}

/**
 * The outcome of parsing a tool call's arguments JSON: the value, or the
 * parser's message. Never thrown.
 */
export type ParsedArguments = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** A tool call: its streaming arguments, then the completed call, then (for server-side tools) its result. */
export interface ToolCallBlock {
  readonly type: "tool-call";
  /** The provider's id of the call. */
  readonly callId: string;
  /** The tool's name ("" until an event names it). */
  readonly name: string;
  /** `ToolCallStarted.index`: position among the calls of the turn, 0-based. */
  readonly index: number;
  /** True when the provider runs the tool itself. */
  readonly providerExecuted: boolean;
  /**
   * The arguments JSON text as it streams (`tool_call_delta` fragments);
   * once completed, the full `arguments_json`.
   */
  readonly argumentsText: TextChunks;
  /** Set by `tool_call_completed`. */
  readonly completed?: {
    /** The full arguments JSON text. */
    readonly argumentsJson: string;
    /** `JSON.parse(argumentsJson)`, or the parse error (an `incomplete` call's partial text usually fails). */
    readonly arguments: ParsedArguments;
    /** True when the provider cut the call before its arguments were complete: it must not be run. */
    readonly incomplete: boolean;
  };
  /** Set by `tool_result`: the tool's output (JSON or text) and whether it is an error description. */
  readonly result?: { readonly text: string; readonly isError: boolean };
}

/** A question the agent asks the user (`input_requested`), answered with `SendInput`. */
export interface InputBlock {
  readonly type: "input";
  /** The id `SendInput` answers. */
  readonly inputId: string;
  /** The question, as text for the user. */
  readonly prompt: string;
  /** CONFIRM (yes/no), TEXT, CHOICE (one of `choices`), or UNSPECIFIED (free text). */
  readonly kind: InputKind;
  /** The allowed answers for INPUT_KIND_CHOICE. */
  readonly choices: readonly string[];
  /** The answer, once `input_answered` arrived; `undefined` while the agent waits. */
  readonly answer?: string;
}

/** One element of an agent's output, in the order the blocks first appeared. */
export type Block = TextBlock | ReasoningBlock | ToolCallBlock | InputBlock;

/** The latest `status` of an agent. */
export interface AgentStatus {
  /** Human-readable text, e.g. "reading the report…". */
  readonly text: string;
  /** Progress from 0 to 1, when the agent reported it. */
  readonly progress?: number;
}

/** Everything one agent produced. */
export interface AgentView {
  /** `StreamEvent.agent_id`; "" is the main agent. */
  readonly id: string;
  /** Its blocks, in the order they first appeared. */
  readonly blocks: readonly Block[];
  /** Its latest status, if it sent any. */
  readonly status?: AgentStatus;
}

/** What `started` said. */
export interface StartedInfo {
  readonly model: string;
  readonly provider: string;
  /** The provider's own request id, "" when it reported none. */
  readonly requestId: string;
}

/** How the stream ended: its terminal event. */
export type Finish =
  | {
      readonly type: "completed";
      readonly reason: FinishReason;
      /** The provider's own finish reason, e.g. "stop". */
      readonly rawReason: string;
    }
  | {
      readonly type: "failed";
      /** The Connect code of the failure. */
      readonly code: Code;
      /** A message safe to show. */
      readonly message: string;
      /** Machine-readable reason (UPPER_SNAKE_CASE), e.g. "UPSTREAM_RATE_LIMITED". */
      readonly reason: string;
      readonly retryable: boolean;
      /** How long to wait before retrying, in milliseconds; 0 when unknown. */
      readonly retryAfterMs: number;
    };

/** The view of one stream, as {@link reduceMessage} builds it. Immutable. */
export interface MessageState {
  /** The stream's id, from its events ("" before the first). */
  readonly streamId: string;
  /** The epoch of the events applied ("" before the first logged one). */
  readonly epoch: string;
  /** The highest seq applied in `epoch` (0 before the first): events at or below it are ignored. */
  readonly lastSeq: number;
  /** From `started`. */
  readonly started?: StartedInfo;
  /** The agents, in the order their first block or status arrived. The main agent's id is "". */
  readonly agents: readonly AgentView[];
  /** The latest token counts: the last `usage`, or the terminal event's when it has one. Unknown counts stay unset. */
  readonly usage?: Usage;
  /** The terminal event, once it arrived. */
  readonly finish?: Finish;
  /**
   * True when some events were lost: a `resumed` with RESUME_OUTCOME_TRIMMED or
   * EXPIRED, or a replay that starts after the first events of its epoch.
   * The view then shows only part of the answer; tell the user.
   */
  readonly gap: boolean;
  /**
   * How many times the view was discarded because the log changed under it
   * (`resumed` with EPOCH_CHANGED, UNKNOWN_CURSOR or an unknown outcome, or
   * an event of another epoch): a renderer that sees it change must clear
   * what it shows and render the view from scratch.
   */
  readonly resets: number;
}

/** A new, empty view (of the stream `streamId`, when known). */
export function createMessageState(streamId = ""): MessageState {
  return { streamId, epoch: "", lastSeq: 0, agents: [], gap: false, resets: 0 };
}

/**
 * Applies one event to the view and returns the new view; never mutates
 * `state` (older states keep showing what they showed). Returns `state`
 * itself when the event changes nothing, so `next !== prev` tells a
 * renderer there is something to draw.
 *
 * - Idempotent: a logged event (seq > 0) at or below `lastSeq` of the same
 *   epoch is ignored, so replays and duplicates after a resume are
 *   harmless. Coalesced deltas (seqs that skip) are fine. Events with seq 0
 *   (unpositioned, as services emit them) are always applied.
 * - `heartbeat` and unknown kinds change nothing.
 * - `resumed`: RECOVERED changes nothing; TRIMMED and EXPIRED set `gap`;
 *   EPOCH_CHANGED, UNKNOWN_CURSOR and any other outcome discard the view
 *   (`resets` + 1) and continue after the cursor it names — the replay
 *   follows. A logged event of another epoch without that notice discards
 *   the view the same way.
 * - Text and reasoning deltas append to the agent's block of the same kind,
 *   choice and block index, unless a tool call or input request of that
 *   agent came after it: then they open a new block, so the blocks read in
 *   the order things happened.
 * - Tool call and input events find their block by call id / input id
 *   (creating it if an earlier event is missing); `tool_result` and
 *   `input_answered` look in every agent when the tagged one lacks it, and
 *   an `input_answered` without its request changes nothing.
 *
 * Cost: O(1) amortised in the text (fragments are appended to shared
 * arrays, never re-concatenated; see {@link textOf}), plus a copy of the
 * agent list and of the touched agent's block list (their lengths, not the
 * text's): linear in the answer's length for a fixed number of blocks.
 */
export function reduceMessage(state: MessageState, e: StreamEvent): MessageState {
  const ev = e.event;
  switch (ev.case) {
    case undefined:
    case "heartbeat":
      return state;
    case "resumed":
      return applyResumed(state, ev.value.outcome, ev.value.cursor);
  }
  let s = state;
  if (e.seq > 0) {
    if (e.epoch !== "" && s.epoch !== "" && e.epoch !== s.epoch) s = reset(s, { epoch: e.epoch, seq: 0 });
    else if (e.seq <= s.lastSeq) return state;
  }
  const next = applyEvent(s, e);
  const streamId = s.streamId === "" ? e.streamId : s.streamId;
  if (e.seq === 0 && next === s && streamId === s.streamId) return s;
  return {
    ...next,
    streamId,
    ...(e.seq > 0 ? { epoch: e.epoch !== "" ? e.epoch : next.epoch, lastSeq: e.seq } : {}),
  };
}

/** Applies `events` in order with {@link reduceMessage}. */
export function reduceMessages(state: MessageState, events: Iterable<StreamEvent>): MessageState {
  let s = state;
  for (const e of events) s = reduceMessage(s, e);
  return s;
}

/** The agent `id` of the view, if it produced anything. */
export function agentOf(state: MessageState, id: string): AgentView | undefined {
  return state.agents.find((a) => a.id === id);
}

/** The input requests that still wait for an answer, oldest first, with their agents. */
export function pendingInputs(state: MessageState): { readonly agentId: string; readonly input: InputBlock }[] {
  const out: { agentId: string; input: InputBlock }[] = [];
  for (const a of state.agents) {
    for (const b of a.blocks) if (b.type === "input" && b.answer === undefined) out.push({ agentId: a.id, input: b });
  }
  return out;
}

/**
 * The text of an agent's text blocks (choice 0), concatenated in block
 * order: the answer as plain text. Joins the fragments: call it for a
 * snapshot, not per delta (renderers append {@link chunksSince} instead).
 */
export function answerText(agent: AgentView | undefined): string {
  let out = "";
  for (const b of agent?.blocks ?? []) if (b.type === "text" && b.choiceIndex === 0) out += textOf(b);
  return out;
}

/** @private */
function applyResumed(s: MessageState, outcome: ResumeOutcome, cursorText: string): MessageState {
  const cursor = tryParseCursor(cursorText);
  switch (outcome) {
    case ResumeOutcome.RECOVERED:
      return s;
    case ResumeOutcome.TRIMMED:
    case ResumeOutcome.EXPIRED: {
      const ahead = cursor !== undefined && (s.epoch === "" || cursor.epoch === s.epoch) && cursor.seq > s.lastSeq;
      return { ...s, gap: true, ...(ahead ? { epoch: cursor.epoch, lastSeq: cursor.seq } : {}) };
    }
    default:
      // EPOCH_CHANGED, UNKNOWN_CURSOR, and (as the contract says) any outcome this client does not know.
      return reset(s, cursor ?? { epoch: "", seq: 0 });
  }
}

/** Discards the view; the events after `from` replay the stream. @private */
function reset(s: MessageState, from: Cursor): MessageState {
  return { ...createMessageState(s.streamId), epoch: from.epoch, lastSeq: from.seq, gap: from.seq > 0, resets: s.resets + 1 };
}

/** @private */
function applyEvent(s: MessageState, e: StreamEvent): MessageState {
  const ev = e.event;
  const agentId = e.agentId;
  switch (ev.case) {
    case "started":
      return { ...s, started: { model: ev.value.model, provider: ev.value.provider, requestId: ev.value.requestId } };
    case "textDelta":
      return updateAgent(s, agentId, (a) => appendDelta(a, "text", e.choiceIndex, ev.value.blockIndex, ev.value.text, {}));
    case "reasoningDelta": {
      const { text, blockIndex, signature, redacted } = ev.value;
      return updateAgent(s, agentId, (a) => appendDelta(a, "reasoning", e.choiceIndex, blockIndex, text, { signature, redacted }));
    }
    case "toolCallStarted": {
      const v = ev.value;
      return updateAgent(s, agentId, (a) =>
        upsertToolCall(a, v.callId, (c) => ({
          ...c,
          name: v.name !== "" ? v.name : c.name,
          index: v.index,
          providerExecuted: c.providerExecuted || v.providerExecuted,
        })),
      );
    }
    case "toolCallDelta": {
      const v = ev.value;
      return updateAgent(s, agentId, (a) =>
        upsertToolCall(a, v.callId, (c) => (c.completed ? c : { ...c, argumentsText: appendText(c.argumentsText, v.argumentsDelta) })),
      );
    }
    case "toolCallCompleted": {
      const v = ev.value;
      return updateAgent(s, agentId, (a) =>
        upsertToolCall(a, v.callId, (c) => ({
          ...c,
          name: v.name !== "" ? v.name : c.name,
          providerExecuted: c.providerExecuted || v.providerExecuted,
          argumentsText: textOf(c.argumentsText) === v.argumentsJson ? c.argumentsText : textChunks(v.argumentsJson),
          completed: { argumentsJson: v.argumentsJson, arguments: parseArguments(v.argumentsJson), incomplete: v.incomplete },
        })),
      );
    }
    case "toolResult": {
      const v = ev.value;
      const owner = findAgent(s, agentId, (b) => b.type === "tool-call" && b.callId === v.callId) ?? agentId;
      return updateAgent(s, owner, (a) =>
        upsertToolCall(a, v.callId, (c) => ({
          ...c,
          name: c.name === "" ? v.name : c.name,
          result: { text: v.result, isError: v.isError },
        })),
      );
    }
    case "status": {
      const v = ev.value;
      const status: AgentStatus = v.progress === undefined ? { text: v.text } : { text: v.text, progress: v.progress };
      return updateAgent(s, agentId, (a) => ({ ...a, status }));
    }
    case "inputRequested": {
      const v = ev.value;
      const input: InputBlock = { type: "input", inputId: v.inputId, prompt: v.prompt, kind: v.kind, choices: [...v.choices] };
      return updateAgent(s, agentId, (a) => {
        const i = a.blocks.findIndex((b) => b.type === "input" && b.inputId === v.inputId);
        if (i < 0) return { ...a, blocks: [...a.blocks, input] };
        const old = a.blocks[i] as InputBlock;
        return replaceBlock(a, i, old.answer === undefined ? input : { ...input, answer: old.answer });
      });
    }
    case "inputAnswered": {
      const v = ev.value;
      const isIt = (b: Block) => b.type === "input" && b.inputId === v.inputId;
      const owner = findAgent(s, agentId, isIt);
      if (owner === undefined) return s;
      return updateAgent(s, owner, (a) => {
        const i = a.blocks.findIndex(isIt);
        return replaceBlock(a, i, { ...(a.blocks[i] as InputBlock), answer: v.text });
      });
    }
    case "usage":
      return { ...s, usage: ev.value };
    case "completed": {
      const v = ev.value;
      return {
        ...s,
        finish: { type: "completed", reason: v.finishReason, rawReason: v.rawFinishReason },
        ...(v.usage ? { usage: v.usage } : {}),
      };
    }
    case "failed": {
      const v = ev.value;
      return {
        ...s,
        finish: {
          type: "failed",
          code: fromProtoCode(v.code),
          message: v.message,
          reason: v.reason,
          retryable: v.retryable,
          retryAfterMs: v.retryAfterMs,
        },
        ...(v.usage ? { usage: v.usage } : {}),
      };
    }
    default:
      return s; // kinds this client does not know are ignored, as the contract asks
  }
}

/** Returns `s` with agent `id` (created at the end if new) replaced by `f(agent)`. @private */
function updateAgent(s: MessageState, id: string, f: (a: AgentView) => AgentView): MessageState {
  const i = s.agents.findIndex((a) => a.id === id);
  const before = i < 0 ? { id, blocks: [] } : (s.agents[i] as AgentView);
  const after = f(before);
  if (after === before) return s;
  const agents = s.agents.slice();
  if (i < 0) agents.push(after);
  else agents[i] = after;
  return { ...s, agents };
}

/** The id of the agent holding a block that matches: agent `preferred` first, then any. @private */
function findAgent(s: MessageState, preferred: string, match: (b: Block) => boolean): string | undefined {
  if (agentOf(s, preferred)?.blocks.some(match)) return preferred;
  return s.agents.find((a) => a.blocks.some(match))?.id;
}

/** @private */
function replaceBlock(a: AgentView, i: number, b: Block): AgentView {
  const blocks = a.blocks.slice();
  blocks[i] = b;
  return { ...a, blocks };
}

/** @private */
function appendDelta(
  a: AgentView,
  type: "text" | "reasoning",
  choiceIndex: number,
  blockIndex: number,
  text: string,
  extra: { signature?: string; redacted?: boolean },
): AgentView {
  // The open block of this kind, choice and index: searched from the end,
  // stopping at a tool call or input request (what follows them is new).
  let i = a.blocks.length - 1;
  for (; i >= 0; i--) {
    const b = a.blocks[i] as Block;
    if (b.type === "tool-call" || b.type === "input") {
      i = -1;
      break;
    }
    if (b.type === type && b.choiceIndex === choiceIndex && b.blockIndex === blockIndex) break;
  }
  if (i < 0) {
    if (text === "" && !extra.redacted && !extra.signature) return a;
    const fresh: Block =
      type === "text"
        ? { type, choiceIndex, blockIndex, ...emptyText }
        : { type, choiceIndex, blockIndex, ...emptyText, signature: extra.signature ?? "", redacted: extra.redacted ?? false };
    return { ...a, blocks: [...a.blocks, appendText(fresh, text)] };
  }
  const old = a.blocks[i] as TextBlock | ReasoningBlock;
  let b: TextBlock | ReasoningBlock = appendText(old, text);
  if (b.type === "reasoning" && ((extra.signature && extra.signature !== b.signature) || (extra.redacted && !b.redacted))) {
    b = { ...b, signature: extra.signature || b.signature, redacted: b.redacted || !!extra.redacted };
  }
  return b === old ? a : replaceBlock(a, i, b);
}

/** Updates the tool call `callId` of agent `a` with `f`, creating it at the end if missing. @private */
function upsertToolCall(a: AgentView, callId: string, f: (c: ToolCallBlock) => ToolCallBlock): AgentView {
  let i = a.blocks.length - 1;
  while (i >= 0 && !isCall(a.blocks[i] as Block, callId)) i--;
  if (i < 0) {
    const fresh: ToolCallBlock = { type: "tool-call", callId, name: "", index: 0, providerExecuted: false, argumentsText: emptyText };
    return { ...a, blocks: [...a.blocks, f(fresh)] };
  }
  const old = a.blocks[i] as ToolCallBlock;
  const b = f(old);
  return b === old ? a : replaceBlock(a, i, b);
}

/** @private */
function isCall(b: Block, callId: string): b is ToolCallBlock {
  return b.type === "tool-call" && b.callId === callId;
}

/** @private */
function parseArguments(json: string): ParsedArguments {
  try {
    return { ok: true, value: JSON.parse(json) as unknown };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** @private */
function tryParseCursor(text: string): Cursor | undefined {
  try {
    return parseCursor(text);
  } catch {
    return undefined;
  }
}
