/** A piece of model output after `<think>` extraction: answer text, or reasoning. */
export interface ThinkPiece {
  /** True for text inside `<think>…</think>`. */
  readonly reasoning: boolean;
  /** Non-empty text. */
  readonly text: string;
}

/**
 * State of {@link splitThinkTags} for one stream: where we are, and a held
 * tail that may be the start of a tag split across deltas.
 */
export interface ThinkTagState {
  /** True while inside `<think>…</think>`. */
  inside: boolean;
  /** Text held back because it may be the beginning of a tag (`<th`, `</thi`). */
  held: string;
}

/** Options of {@link createThinkTagState}. */
export interface ThinkTagOptions {
  /**
   * Start inside the reasoning block: for models whose chat template opens
   * `<think>` in the prompt, so the output starts with reasoning and only the
   * closing tag appears (DeepSeek-R1 on some servers, Qwen3). Default false.
   */
  readonly startInside?: boolean | undefined;
}

const open = "<think>";
const close = "</think>";

/** Creates the state of one stream for {@link splitThinkTags}. */
export function createThinkTagState(o: ThinkTagOptions = {}): ThinkTagState {
  return { inside: o.startInside ?? false, held: "" };
}

/**
 * Splits streamed model text into answer and reasoning pieces at
 * `<think>` / `</think>` tags, the convention of reasoning models served as
 * plain text (DeepSeek-R1, Qwen3, QwQ on Ollama, Fireworks, Groq, vLLM
 * without a reasoning parser). Tags split across deltas are recognised: a
 * tail that could be the start of a tag is held until the next delta (or
 * {@link flushThinkTags}). The tags themselves are dropped; everything else is
 * kept byte for byte. Deterministic and pure apart from `state`.
 *
 * An opening tag is honoured anywhere (models sometimes emit a newline or
 * space first); a closing tag outside a block is kept as text.
 *
 * @see https://api-docs.deepseek.com/guides/reasoning_model
 * @see https://console.groq.com/docs/reasoning (reasoning_format "raw")
 */
export function splitThinkTags(state: ThinkTagState, delta: string): ThinkPiece[] {
  let text = state.held + delta;
  state.held = "";
  const out: ThinkPiece[] = [];
  for (;;) {
    const tag = state.inside ? close : open;
    const at = text.indexOf(tag);
    if (at !== -1) {
      push(out, state.inside, text.slice(0, at));
      state.inside = !state.inside;
      text = text.slice(at + tag.length);
      continue;
    }
    const keep = partialTagSuffix(text, tag);
    push(out, state.inside, text.slice(0, text.length - keep));
    state.held = text.slice(text.length - keep);
    return out;
  }
}

/** Ends the stream: returns the held text (an unfinished tag is text, not a tag). */
export function flushThinkTags(state: ThinkTagState): ThinkPiece[] {
  const out: ThinkPiece[] = [];
  push(out, state.inside, state.held);
  state.held = "";
  return out;
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagSuffix(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}

function push(out: ThinkPiece[], reasoning: boolean, text: string): void {
  if (text === "") return;
  const last = out[out.length - 1];
  if (last && last.reasoning === reasoning) out[out.length - 1] = { reasoning, text: last.text + text };
  else out.push({ reasoning, text });
}
