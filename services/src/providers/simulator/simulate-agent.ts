import { Code } from "@connectrpc/connect";
import { ev, FinishReason, type GenerateRequest, InputKind, Role, type StreamEvent } from "@airwave/proto";
import { answerStyle, composeTokens, composeTokenStream, promptKeywords } from "./compose-text.js";
import { mulberry32, type Rng } from "./prng.js";
import { countPromptTokens, isToken, lastText, randomId, type SimulateOptions, simulationSeed, splitFragments } from "./simulate.js";
import { parseSimulatorMetadata, type SimulatorInputKind } from "./simulator-metadata.js";

/** The agent ids of `simulator/agent`, in the order they act. */
export const simulatorAgents = { planner: "planner", researcher: "researcher", writer: "writer" } as const;

/** The tool the simulated researcher calls (run by the agent itself: `provider_executed`). */
export const simulatorSearchTool = "web_search";

/** Longest answer text quoted back into the written answer, in characters. */
const maxQuotedAnswerChars = 200;

/**
 * The multi-agent run of `simulator/agent`, unpaced: a generator of events
 * that is a pure function of (request, seed, answers) — no clock, no I/O, no
 * global randomness. After it yields an `input_requested`, the caller
 * resumes it with `next(answer)`: the answer text, or `undefined` when no
 * answer can come (then it ends with `failed` FAILED_PRECONDITION, reason
 * INPUT_UNAVAILABLE, not retryable, usage so far).
 *
 * The run, each event tagged with its agent (`StreamEvent.agent_id`; whole-
 * stream events — started, usage, the terminal one — have none):
 * 1. `started` (model, provider `"simulator"`, request id `sim-<seed hex>`);
 * 2. planner: `status` "Planning…" (progress 0.05), then a short plan as
 *    `text_delta` tokens, interleaved with the researcher's first search
 *    (the two agents work at once, so an agent filter matters);
 * 3. researcher: 2–3 `web_search` tool calls (by seed), each
 *    `tool_call_started` (provider_executed) → `tool_call_delta` fragments of
 *    `{"query":"…"}` (the first query is the prompt, ≤ 200 chars; later ones
 *    its keywords) → `tool_call_completed` → `tool_result` (JSON
 *    `{"query","results":[{"title","url","snippet"}]}`, 1–2 results each), with
 *    `status` progress after each (0.15 → 0.6);
 * 4. planner: `input_requested`, by `metadata["simulator.input"]`:
 *    `confirm` (default) "Write the answer from N sources?" (N = results found),
 *    `text` "What should the answer focus on?", `choice` "How detailed should
 *    the answer be?" with choices `short` and `detailed`; `none` asks nothing;
 * 5. planner: `input_answered` (input_id, the answer as received);
 * 6. writer: `status` "Writing the answer" (0.7), the answer as `text_delta`
 *    tokens of block 1 (the plan is block 0) built from the prompt's keywords, which reflects the answer: a
 *    confirm answered "no" (any case) gives a shorter answer (15–25 tokens)
 *    without sources; "yes" or no question, a full answer (45–75 tokens, or
 *    exactly `simulator.output_tokens`) ending with a "Sources:" list; a text
 *    answer is quoted in the first sentence and its words steer the answer; a
 *    choice `short` gives the short answer with sources, anything else the
 *    full one; then `status` "Done" (1);
 * 7. `usage` (input ≈ prompt tokens, output = token events: text and tool
 *    call deltas) and `completed` STOP with the same usage.
 *
 * `max_output_tokens` caps the token events (then `usage` and `completed`
 * LENGTH); `simulator.fail_after_tokens` / `simulator.fail_code` end with
 * `failed` after that many token events, as in {@link simulate}. Tools,
 * reasoning, stop sequences and `simulator.delta_tokens` do not apply.
 *
 * Raises a ConnectError with Code.InvalidArgument for malformed `simulator.*`
 * metadata (on the first `next()`).
 */
export function* simulateAgent(req: GenerateRequest, o: SimulateOptions): Generator<StreamEvent, void, string | undefined> {
  const meta = parseSimulatorMetadata(req.metadata);
  const seed = o.seed ?? simulationSeed(req);
  const rng = mulberry32(seed);
  const prompt = lastText(req, Role.USER);
  const keywords = promptKeywords(prompt);
  const inputTokens = countPromptTokens(req);
  const budget = req.maxOutputTokens ?? Number.POSITIVE_INFINITY;
  let tokens = 0;
  const usage = () => ({ inputTokens, outputTokens: tokens });
  /** The events that end the run early before token event `e`, if any. */
  const limit = (e: StreamEvent): StreamEvent[] | undefined => {
    if (!isToken(e)) return undefined;
    if (meta.failAfterTokens !== undefined && tokens >= meta.failAfterTokens) {
      return [
        ev.failed(meta.failCode ?? Code.Unavailable, `simulated failure after ${tokens} tokens`, "SIMULATED_FAILURE", {
          usage: usage(),
        }),
      ];
    }
    if (tokens >= budget) return [ev.usage(usage()), ev.completed(FinishReason.LENGTH, usage(), "length")];
    tokens++;
    return undefined;
  };

  yield ev.started(o.model, "simulator", `sim-${seed.toString(16).padStart(8, "0")}`);
  const research = planAndResearch(prompt, keywords, rng);
  for (const e of research.events) {
    const end = limit(e);
    if (end) {
      yield* end;
      return;
    }
    yield e;
  }

  const kind = meta.input ?? "confirm";
  let answer: string | undefined;
  if (kind !== "none") {
    const inputId = `input_${randomId(rng, 12)}`;
    answer = yield question(kind, inputId, research.sources.length);
    if (answer === undefined) {
      yield ev.failed(
        Code.FailedPrecondition,
        "the agent needs an answer, but no input can reach it (use InferenceService.Interact)",
        "INPUT_UNAVAILABLE",
        { retryable: false, usage: usage() },
      );
      return;
    }
    yield as(simulatorAgents.planner, ev.inputAnswered(inputId, answer));
  }

  for (const e of write(kind, answer, keywords, research.sources, meta.outputTokens, rng)) {
    const end = limit(e);
    if (end) {
      yield* end;
      return;
    }
    yield e;
  }
  yield ev.usage(usage());
  yield ev.completed(FinishReason.STOP, usage(), "stop");
}

/** One search result of the simulated `web_search`. */
interface Source {
  readonly title: string;
  readonly url: string;
  readonly snippet: string;
}

/** Steps 2–3: the planner's plan interleaved with the researcher's searches. */
function planAndResearch(prompt: string, keywords: readonly string[], rng: Rng): { events: StreamEvent[]; sources: Source[] } {
  const { planner, researcher } = simulatorAgents;
  const topic = keywords.slice(0, 3).join(" ") || "the question";
  const searches = rng.int(2, 3);
  const plan = words(
    `Plan: 1. Search the web for ${topic}. 2. Read what the ${searches} searches find. 3. Write a clear answer about ${topic}.`,
  ).map((t) => as(planner, ev.textDelta(t)));

  const queries = [prompt.trim().slice(0, maxQuotedAnswerChars) || topic];
  for (let i = 1; i < searches; i++) {
    const k = keywords.length > 0 ? rng.pick(keywords) : "overview";
    queries.push(`${k} ${i === 1 ? "explained" : "examples"}`);
  }
  const sources: Source[] = [];
  const calls = queries.map((query, index) => {
    const callId = `call_${randomId(rng, 24)}`;
    const args = JSON.stringify({ query });
    const found: Source[] = [];
    for (let n = rng.int(1, 2); n > 0; n--) {
      const k = keywords.length > 0 ? rng.pick(keywords) : "topic";
      const slug = `${k.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-")}-${sources.length + found.length + 1}`;
      found.push({
        title: `${k.charAt(0).toUpperCase()}${k.slice(1)}: an overview`,
        url: `https://example.com/${encodeURIComponent(slug)}`,
        snippet: composeTokens(rng, keywords, 12, answerStyle, "exact").join(""),
      });
    }
    sources.push(...found);
    const call = [
      ev.toolCallStarted(callId, simulatorSearchTool, index, { providerExecuted: true }),
      ...Array.from(splitFragments(args, rng), (f) => ev.toolCallDelta(callId, f)),
      ev.toolCallCompleted(callId, simulatorSearchTool, args, { providerExecuted: true }),
      ev.toolResult(callId, JSON.stringify({ query, results: found }), { name: simulatorSearchTool }),
      ev.status(`Searched for "${query.slice(0, 60)}"`, round(0.15 + (0.45 * (index + 1)) / searches)),
    ];
    return call.map((e) => as(researcher, e));
  });

  // The planner starts; the researcher's first search runs while it still writes the plan.
  const events: StreamEvent[] = [as(planner, ev.status(`Planning an answer about ${topic}`, 0.05))];
  const half = Math.ceil(plan.length / 2);
  events.push(...plan.slice(0, half), as(researcher, ev.status(`Searching the web for ${topic}`, 0.15)));
  const first = calls[0] ?? [];
  const rest = plan.slice(half);
  for (let i = 0; i < Math.max(first.length, rest.length); i++) {
    if (i < first.length) events.push(first[i] as StreamEvent);
    if (i < rest.length) events.push(rest[i] as StreamEvent);
  }
  for (const c of calls.slice(1)) events.push(...c);
  events.push(as(researcher, ev.status(`Found ${sources.length} sources`, 0.6)));
  return { events, sources };
}

/** Step 4: the planner's question. */
function question(kind: Exclude<SimulatorInputKind, "none">, inputId: string, sources: number): StreamEvent {
  const e =
    kind === "text"
      ? ev.inputRequested(inputId, "What should the answer focus on?", InputKind.TEXT)
      : kind === "choice"
        ? ev.inputRequested(inputId, "How detailed should the answer be?", InputKind.CHOICE, ["short", "detailed"])
        : ev.inputRequested(inputId, `Write the answer from ${sources} sources?`, InputKind.CONFIRM);
  return as(simulatorAgents.planner, e);
}

/** Step 6: the writer's answer, shaped by the answer to the question; composed lazily, as it is pulled. */
function* write(
  kind: SimulatorInputKind,
  answer: string | undefined,
  keywords: readonly string[],
  sources: readonly Source[],
  outputTokens: number | undefined,
  rng: Rng,
): Generator<StreamEvent, void, undefined> {
  const a = (answer ?? "").trim();
  const declined = kind === "confirm" && a.toLowerCase() === "no";
  const short = declined || (kind === "choice" && a.toLowerCase() === "short");
  const withSources = !declined;
  let topic = keywords;
  let lead: string[] = [];
  if (kind === "text" && a !== "") {
    topic = [...promptKeywords(a, 4), ...keywords];
    lead = words(`You asked me to focus on ${a.slice(0, maxQuotedAnswerChars)}.`);
  }
  const { writer } = simulatorAgents;
  const text = (t: string) => as(writer, ev.textDelta(t, 1));
  yield as(writer, ev.status(declined ? "Writing a short answer without sources" : "Writing the answer", 0.7));
  const body =
    outputTokens !== undefined
      ? composeTokenStream(rng, topic, outputTokens, answerStyle, "exact")
      : short
        ? composeTokenStream(rng, topic, rng.int(15, 25), answerStyle, "sentences")
        : composeTokenStream(rng, topic, rng.int(45, 75), answerStyle, "sentences");
  yield* lead.map(text);
  let first = lead.length > 0;
  for (const t of body) {
    yield text(first ? ` ${t}` : t);
    first = false;
  }
  if (withSources && sources.length > 0) yield* words(`\n\nSources: ${sources.map((s, i) => `[${i + 1}] ${s.url}`).join(" ")}`).map(text);
  yield as(writer, ev.status("Done", 1));
}

/** Splits text into word tokens, each with its leading whitespace. */
function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function as(agent: string, e: StreamEvent): StreamEvent {
  return ev.byAgent(agent, e);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
