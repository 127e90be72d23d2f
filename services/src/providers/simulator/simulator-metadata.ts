import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";

/**
 * The simulator's steering, read from `GenerateRequest.metadata` keys that
 * start with `simulator.`. Unset fields take the model's defaults.
 */
export interface SimulatorMetadata {
  /** `simulator.ttft_ms`: time to first token in milliseconds (integer 0..600000). */
  ttftMs?: number;
  /** `simulator.tokens_per_s`: output pace in tokens per second (number 0..1000000; 0 = unpaced). */
  tokensPerS?: number;
  /** `simulator.output_tokens`: exact answer length in tokens (integer 0..5000000); default whole sentences up to about 45–75 tokens, varied by seed. */
  outputTokens?: number;
  /**
   * `simulator.delta_tokens`: answer tokens per `text_delta` event (integer
   * 1..10000; default 1), for large answers in fewer events, like providers
   * that batch tokens. The pace (`tokens_per_s`) then applies per event.
   */
  deltaTokens?: number;
  /** `simulator.fail_after_tokens`: end with `failed` after this many output tokens (integer ≥ 0). */
  failAfterTokens?: number;
  /** `simulator.fail_code`: the Connect code of that failure, by name (e.g. `"resource_exhausted"`); default Unavailable. */
  failCode?: Code;
  /**
   * `simulator.input`: the question `simulator/agent` asks before writing:
   * `"confirm"` (the default: a yes/no confirmation), `"text"` (free text),
   * `"choice"` (one of its choices) or `"none"` (asks nothing). Other models
   * ignore it.
   */
  input?: SimulatorInputKind;
  /**
   * `simulator.format`: what the composed answer looks like: `"text"` (the
   * default: prose paragraphs) or `"markdown"` (a Markdown document built
   * from the prompt's keywords: a heading, paragraphs, a bulleted and a
   * numbered list, a fenced code block with a language, a table; see
   * `composeMarkdownTokenStream`). `simulator/agent` ignores it.
   */
  format?: SimulatorFormat;
  /**
   * `simulator.echo`: `"true"` makes the answer exactly the last user
   * message's text (verbatim, its parts joined by spaces), streamed in small
   * `text_delta` fragments of 2 to 8 code points (seeded): e.g. to watch a
   * given Markdown text render as it streams (metadata values are too short
   * to carry it). The prompt may then have at most {@link maxEchoChars}
   * UTF-16 code units (else InvalidArgument naming the key, from
   * `simulate`). `"false"` is the default. Cannot be combined with
   * `simulator.output_tokens` or `simulator.format`. Stop sequences,
   * `max_output_tokens` (counted in fragments) and `simulator.delta_tokens`
   * apply. `simulator/agent` ignores it.
   */
  echo?: boolean;
}

/** The values of `simulator.format`. */
export const simulatorFormats = ["text", "markdown"] as const;

/** A value of `simulator.format`. */
export type SimulatorFormat = (typeof simulatorFormats)[number];

/** Longest prompt `simulator.echo` answers with, in UTF-16 code units (64 Ki of them). */
export const maxEchoChars = 65_536;

/** The values of `simulator.input`. */
export const simulatorInputKinds = ["confirm", "text", "choice", "none"] as const;

/** A value of `simulator.input`. */
export type SimulatorInputKind = (typeof simulatorInputKinds)[number];

/** The metadata keys the simulator reads. */
export const simulatorMetadataKeys = [
  "simulator.ttft_ms",
  "simulator.tokens_per_s",
  "simulator.output_tokens",
  "simulator.delta_tokens",
  "simulator.fail_after_tokens",
  "simulator.fail_code",
  "simulator.input",
  "simulator.format",
  "simulator.echo",
] as const;

/**
 * Parses the `simulator.*` metadata keys; other keys are ignored.
 *
 * Raises a ConnectError with Code.InvalidArgument naming the key
 * (`metadata["simulator.ttft_ms"]: …`) for an unknown `simulator.*` key, a
 * malformed or out-of-range number, an unknown code name, an unknown
 * `simulator.input` kind or `simulator.format`, a `simulator.echo` other
 * than true or false, or `simulator.echo` true together with
 * `simulator.output_tokens` or `simulator.format`.
 */
export function parseSimulatorMetadata(metadata: Readonly<Record<string, string>>): SimulatorMetadata {
  const out: SimulatorMetadata = {};
  for (const [key, raw] of Object.entries(metadata)) {
    if (!key.startsWith("simulator.")) continue;
    const value = raw.trim();
    switch (key) {
      case "simulator.ttft_ms":
        out.ttftMs = number(key, value, 0, 600_000, true);
        break;
      case "simulator.tokens_per_s":
        out.tokensPerS = number(key, value, 0, 1_000_000, false);
        break;
      case "simulator.output_tokens":
        out.outputTokens = number(key, value, 0, 5_000_000, true);
        break;
      case "simulator.delta_tokens":
        out.deltaTokens = number(key, value, 1, 10_000, true);
        break;
      case "simulator.fail_after_tokens":
        out.failAfterTokens = number(key, value, 0, 1_000_000, true);
        break;
      case "simulator.fail_code":
        out.failCode = code(key, value);
        break;
      case "simulator.input": {
        const kind = simulatorInputKinds.find((k) => k === value.toLowerCase());
        if (kind === undefined) throw invalid(key, `want one of ${simulatorInputKinds.join(", ")}`);
        out.input = kind;
        break;
      }
      case "simulator.format": {
        const format = simulatorFormats.find((f) => f === value.toLowerCase());
        if (format === undefined) throw invalid(key, `want one of ${simulatorFormats.join(", ")}`);
        out.format = format;
        break;
      }
      case "simulator.echo":
        if (!/^(true|false)$/i.test(value)) throw invalid(key, "want true or false");
        out.echo = value.toLowerCase() === "true";
        break;
      default:
        throw invalid(key, `unknown simulator key; known keys: ${simulatorMetadataKeys.join(", ")}`);
    }
  }
  if (out.echo) {
    const other = out.outputTokens !== undefined ? "simulator.output_tokens" : out.format !== undefined ? "simulator.format" : undefined;
    if (other) throw invalid("simulator.echo", `cannot be combined with ${other} (the answer is the prompt)`);
  }
  return out;
}

function number(key: string, value: string, min: number, max: number, integer: boolean): number {
  const n = value === "" ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw invalid(key, `want ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
  }
  return n;
}

/** Accepts Connect and gRPC spellings: "resource_exhausted", "RESOURCE_EXHAUSTED", "ResourceExhausted". */
function code(key: string, value: string): Code {
  const c = codeFromString(value.toLowerCase());
  if (c === undefined) throw invalid(key, 'want a Connect code name such as "unavailable", "resource_exhausted" or "internal"');
  return c;
}

function invalid(key: string, what: string): ConnectError {
  return new ConnectError(`metadata[${JSON.stringify(key)}]: ${what}`, Code.InvalidArgument);
}
