import {
  ev,
  FinishReason,
  type GenerateRequest,
  ReasoningEffort,
  Role,
  type StreamEvent,
  type Tool,
  ToolChoiceMode,
  type UsageInit,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { buildToolArguments } from "./build-tool-arguments.js";
import { composeMarkdownTokenStream } from "./compose-markdown.js";
import {
  answerStyle,
  composeTokens,
  composeTokenStream,
  countTokens,
  maxScannedChars,
  promptKeywords,
  reasoningStyle,
} from "./compose-text.js";
import { cutAtStopSequence } from "./cut-at-stop-sequence.js";
import { fnv1a32, mulberry32, type Rng } from "./prng.js";
import { maxEchoChars, parseSimulatorMetadata, type SimulatorMetadata } from "./simulator-metadata.js";

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The model name reported in `started`. */
  readonly model: string;
  /** The PRNG seed; default {@link simulationSeed}(request). */
  readonly seed?: number;
}

/** Tokens of reasoning per effort: [min, max], chosen by seed. */
const reasoningTokens: Readonly<Partial<Record<ReasoningEffort, readonly [number, number]>>> = {
  [ReasoningEffort.LOW]: [16, 24],
  [ReasoningEffort.MEDIUM]: [48, 72],
  [ReasoningEffort.HIGH]: [120, 180],
};

/**
 * The event stream the simulator produces for a request, unpaced and on
 * demand: a generator that is a pure function of (request, seed) — no clock,
 * no I/O, no global randomness — and composes each event only when it is
 * pulled, so even a 5,000,000-token answer is never held whole (memory stays
 * bounded by one event; stop sequences are matched as the text streams).
 *
 * - `started` (model, provider `"simulator"`, request id `sim-<seed hex>`);
 * - `reasoning_delta` tokens first when `reasoning.effort` is LOW (about
 *   16–24, whole sentences), MEDIUM (48–72) or HIGH (120–180);
 * - then either one tool call — when tools are offered, `tool_choice` is not
 *   NONE, and the prompt asks for one (it mentions a tool's name, or "call"/
 *   "use"/"invoke"/"run" together with "tool"/"function"), or `tool_choice`
 *   is REQUIRED or names a tool — as `tool_call_started`, `tool_call_delta`
 *   fragments of a JSON arguments object built from the tool's schema and the
 *   prompt, `tool_call_completed`, finish TOOL_CALLS; after a tool result
 *   (last message is ROLE_TOOL) only a forced choice calls again;
 * - or answer text: `text_delta` tokens (a word with its leading space)
 *   composed from the last user message's keywords (and a tool result's),
 *   exactly `metadata["simulator.output_tokens"]` long, or by default whole
 *   sentences up to about 45–75 tokens (by seed), one token per event or
 *   `metadata["simulator.delta_tokens"]` per event,
 *   cut before the first stop sequence (finish STOP);
 * - `max_output_tokens` caps reasoning plus output tokens (finish LENGTH; a
 *   tool call cut by it is never completed);
 * - `usage` (input ≈ prompt tokens counted by `countTokens`, output = token
 *   events emitted, reasoning) and the terminal `completed` with the same usage;
 * - with `metadata["simulator.fail_after_tokens"]` = N, a stream that would
 *   emit more than N token events instead ends after N of them with `failed`
 *   (code from `simulator.fail_code`, default Unavailable; reason
 *   SIMULATED_FAILURE; usage so far).
 *
 * Raises a ConnectError with Code.InvalidArgument for malformed `simulator.*`
 * metadata, or a prompt longer than {@link maxEchoChars} with
 * `simulator.echo` (on the first `next()`, before any event).
 */
export function* simulate(req: GenerateRequest, o: SimulateOptions): Generator<StreamEvent, void, undefined> {
  const meta = parseSimulatorMetadata(req.metadata);
  const echoed = meta.echo ? lastText(req, Role.USER) : undefined;
  if (echoed !== undefined && echoed.length > maxEchoChars) {
    throw new ConnectError(
      `metadata["simulator.echo"]: the prompt may have at most ${maxEchoChars} characters (UTF-16 code units) to echo, it has ${echoed.length}`,
      Code.InvalidArgument,
    );
  }
  const seed = o.seed ?? simulationSeed(req);
  const range = req.reasoning ? reasoningTokens[req.reasoning.effort] : undefined;
  const inputTokens = countPromptTokens(req);
  const usageAfter = (outputTokens: number, reasoning: number): UsageInit => ({
    inputTokens,
    outputTokens,
    ...(range ? { reasoningTokens: reasoning } : {}),
  });
  yield ev.started(o.model, "simulator", `sim-${seed.toString(16).padStart(8, "0")}`);

  const end: BodyEnd = { finish: FinishReason.STOP, raw: "stop", textTokens: 0 };
  const failAt = meta.failAfterTokens;
  let tokenEvents = 0;
  let reasoningEvents = 0;
  let textEvents = 0;
  for (const e of simulateBody(req, meta, echoed, range, mulberry32(seed), end)) {
    if (isToken(e)) {
      if (tokenEvents === failAt) {
        const code = meta.failCode ?? Code.Unavailable;
        yield ev.failed(code, `simulated failure after ${failAt} tokens`, "SIMULATED_FAILURE", {
          usage: usageAfter(failAt, reasoningEvents),
        });
        return;
      }
      tokenEvents++;
      if (e.event.case === "reasoningDelta") reasoningEvents++;
      if (e.event.case === "textDelta") textEvents++;
    }
    yield e;
  }
  const usage = usageAfter(tokenEvents - textEvents + end.textTokens, reasoningEvents);
  yield ev.usage(usage);
  yield ev.completed(end.finish, usage, end.raw);
}

/** How {@link simulateBody} ended: set once it returns. */
interface BodyEnd {
  finish: FinishReason;
  raw: string;
  /** Answer tokens emitted (a `text_delta` carries `delta_tokens` of them). */
  textTokens: number;
}

/**
 * The events between `started` and `usage`: reasoning, then a tool call or
 * the answer text, cut by `max_output_tokens`. Records in `end` how it
 * ended. The seeded `rng` is advanced in the same order as ever (all of the
 * reasoning, then the tool choice, then the call or the text), so a seed
 * keeps its answer.
 */
function* simulateBody(
  req: GenerateRequest,
  meta: SimulatorMetadata,
  echoed: string | undefined,
  range: readonly [number, number] | undefined,
  rng: Rng,
  end: BodyEnd,
): Generator<StreamEvent, void, undefined> {
  const prompt = lastText(req, Role.USER);
  const afterTool = req.messages.at(-1)?.role === Role.TOOL;
  const keywords = promptKeywords(afterTool ? `${toolResultsText(req)} ${prompt}` : prompt);
  let budget = req.maxOutputTokens ?? Number.POSITIVE_INFINITY;
  const cut = () => {
    end.finish = FinishReason.LENGTH;
    end.raw = "length";
  };

  if (range) {
    // At most a few hundred tokens: composed at once, so the rng moves on as before.
    const thoughts = composeTokens(rng, keywords, rng.int(range[0], range[1]), reasoningStyle, "sentences");
    const n = Math.min(thoughts.length, budget);
    if (n < thoughts.length) cut();
    const reasoning = thoughts.slice(0, n).map((t) => ev.reasoningDelta(t));
    budget -= n;
    yield* reasoning;
  }
  if (end.finish === FinishReason.LENGTH) return;

  const tool = chooseTool(req, prompt, afterTool, rng);
  if (tool) {
    const callId = `call_${randomId(rng, 24)}`;
    const args = JSON.stringify(buildToolArguments(tool.parameters, prompt, rng));
    yield ev.toolCallStarted(callId, tool.name, 0);
    for (const f of take(splitFragments(args, rng), budget, cut)) yield ev.toolCallDelta(callId, f);
    if ((end.finish as FinishReason) !== FinishReason.LENGTH) {
      // widened: `take` may have called `cut`
      yield ev.toolCallCompleted(callId, tool.name, args);
      end.finish = FinishReason.TOOL_CALLS;
      end.raw = "tool_calls";
    }
    return;
  }

  const { outputTokens, deltaTokens = 1 } = meta;
  const composed =
    echoed !== undefined
      ? splitFragments(echoed, rng)
      : meta.format === "markdown"
        ? composeMarkdownTokenStream(rng, keywords, outputTokens)
        : outputTokens !== undefined
          ? composeTokenStream(rng, keywords, outputTokens, answerStyle, "exact")
          : composeTokenStream(rng, keywords, rng.int(45, 75), answerStyle, "sentences");
  let group: string[] = [];
  for (const t of take(cutAtStopSequence(composed, req.stopSequences), budget, cut)) {
    end.textTokens++;
    group.push(t);
    if (group.length === deltaTokens) {
      yield ev.textDelta(deltaTokens === 1 ? t : group.join(""));
      group = [];
    }
  }
  if (group.length > 0) yield ev.textDelta(group.join(""));
}

/** The first `n` items; calls `onCut` when there is an item beyond them (which is read, not passed on). */
function* take<T>(items: Iterable<T>, n: number, onCut: () => void): Generator<T, void, undefined> {
  let i = 0;
  for (const x of items) {
    if (i === n) {
      onCut();
      return;
    }
    i++;
    yield x;
  }
}

/**
 * The default seed of a request: `request.seed` folded to 32 bits when set,
 * otherwise a hash of the model and the conversation (roles and contents; of
 * a part longer than {@link maxScannedChars}, that prefix and its length), so
 * a repeated prompt gets the same answer and a different prompt another one.
 */
export function simulationSeed(req: GenerateRequest): number {
  if (req.seed !== undefined) {
    return Number(BigInt.asUintN(32, req.seed) ^ BigInt.asUintN(32, req.seed >> 32n));
  }
  let h = fnv1a32(req.model);
  for (const m of req.messages) {
    h = fnv1a32(`\u0000${m.role}\u0000`, h);
    for (const p of m.parts) {
      const text = partText(p.part);
      h = fnv1a32(text.length > maxScannedChars ? `${text.slice(0, maxScannedChars)}\u0000${text.length}` : text, h);
    }
  }
  return h;
}

/** True for the events that count as output tokens (and are paced). */
export function isToken(e: StreamEvent): boolean {
  const k = e.event.case;
  return k === "textDelta" || k === "reasoningDelta" || k === "toolCallDelta";
}

function chooseTool(req: GenerateRequest, prompt: string, afterTool: boolean, rng: Rng): Tool | undefined {
  const choice = req.toolChoice?.choice;
  if (req.tools.length === 0) return undefined;
  if (choice?.case === "toolName") return req.tools.find((t) => t.name === choice.value);
  if (choice?.case === "mode" && choice.value === ToolChoiceMode.NONE) return undefined;
  const required = choice?.case === "mode" && choice.value === ToolChoiceMode.REQUIRED;
  if (afterTool && !required) return undefined;
  const lower = prompt.toLowerCase();
  const mentioned = req.tools.find(
    (t) => lower.includes(t.name.toLowerCase()) || lower.includes(t.name.toLowerCase().replace(/[_-]+/g, " ")),
  );
  if (mentioned) return mentioned;
  const asked = /\b(call|use|invoke|run)\b/.test(lower) && /\b(tools?|functions?)\b/.test(lower);
  return required || asked ? rng.pick(req.tools) : undefined;
}

/**
 * Splits text into fragments of 2 to 8 code points (never inside a
 * surrogate pair), lazily: the rng advances one draw per fragment pulled.
 * @private
 */
export function* splitFragments(text: string, rng: Rng): Generator<string, void, undefined> {
  let fragment = "";
  let left = 0;
  for (const ch of text) {
    if (left === 0) {
      if (fragment !== "") yield fragment;
      fragment = "";
      left = rng.int(2, 8);
    }
    fragment += ch;
    left--;
  }
  if (fragment !== "") yield fragment;
}

/** The prompt's size in simulator tokens (messages with their framing, and tools). @private */
export function countPromptTokens(req: GenerateRequest): number {
  let n = 0;
  for (const m of req.messages) {
    n += 3; // role and message framing, as chat templates add
    for (const p of m.parts) n += countTokens(partText(p.part));
  }
  for (const t of req.tools) n += countTokens(`${t.name} ${t.description} ${JSON.stringify(t.parameters ?? {})}`);
  return n;
}

/** The text of the last message of `role` (its text parts joined by spaces); "" when none. @private */
export function lastText(req: GenerateRequest, role: Role): string {
  const m = req.messages.findLast((x) => x.role === role);
  return m ? m.parts.map((p) => (p.part.case === "text" ? p.part.value : "")).join(" ") : "";
}

function toolResultsText(req: GenerateRequest): string {
  const m = req.messages.at(-1);
  return m ? m.parts.map((p) => (p.part.case === "toolResult" ? p.part.value.result : "")).join(" ") : "";
}

function partText(p: GenerateRequest["messages"][number]["parts"][number]["part"]): string {
  switch (p.case) {
    case "text":
      return p.value;
    case "toolCall":
      return `${p.value.name} ${p.value.argumentsJson}`;
    case "toolResult":
      return p.value.result;
    default:
      return "";
  }
}

/** `length` seeded alphanumeric characters. @private */
export function randomId(rng: Rng, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < length; i++) s += alphabet.charAt(rng.int(0, alphabet.length - 1));
  return s;
}
