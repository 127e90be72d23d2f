/**
 * Renders an agent's blocks (from the message model) into a DOM container,
 * incrementally: each frame, only blocks whose value changed are touched,
 * and a growing text gets only its new fragments appended (`appendData`,
 * or the Markdown view's `sync`), so rendering stays linear in the
 * answer's length.
 */
import { InputKind } from "@airwave/proto";
import {
  type Block,
  chunksSince,
  type InputBlock,
  type ReasoningBlock,
  type TextBlock,
  type TextChunks,
  textOf,
  type ToolCallBlock,
} from "../model/index.js";
import { createMarkdownView, type MarkdownView } from "../render/index.js";

/** What an input request's buttons call: answers `inputId` with `text`. */
export type AnswerInput = (inputId: string, text: string) => Promise<void>;

/** Options of {@link createBlocksView}. */
export interface BlocksViewOptions {
  /** Which blocks this view shows. @defaultValue all */
  readonly include?: ((b: Block) => boolean) | undefined;
  /**
   * Render text and reasoning blocks as bare text nodes (no wrapper), so the
   * container's `textContent` is exactly their concatenated text (#output,
   * #reasoning-output). @defaultValue false
   */
  readonly bareText?: boolean | undefined;
  /**
   * Render answer text blocks as Markdown (`div.text.markdown`, one
   * {@link createMarkdownView} each: sanitised HTML, highlighted code
   * blocks with a copy button); reasoning stays plain text. Wins over
   * `bareText` for text blocks. @defaultValue false
   */
  readonly markdown?: boolean | undefined;
  /** Sends an answer to an input request. */
  readonly answer: AnswerInput;
}

/** A container showing blocks; see {@link createBlocksView}. */
export interface BlocksView {
  /** Brings the container up to date with `blocks` (the same list, grown or with blocks replaced). */
  update(blocks: readonly Block[]): void;
  /**
   * The text is complete (the stream ended): Markdown views render their
   * open block as complete.
   */
  end(): void;
  /** Empties the container. */
  clear(): void;
  /** The exact text of the text blocks shown, concatenated (the Markdown source, not its rendering). */
  text(): string;
}

interface Rendered {
  block: Block;
  node: Node;
  /** For text: the text node and how many fragments of `block` it shows. */
  text?: Text;
  shown?: number;
  /** For Markdown text: its view. */
  markdown?: MarkdownView;
}

/** Creates a view of blocks in `container`. @private demo */
export function createBlocksView(container: HTMLElement, o: BlocksViewOptions): BlocksView {
  let rendered: Rendered[] = [];
  const include = o.include ?? (() => true);
  return {
    update(blocks) {
      let j = 0;
      for (const b of blocks) {
        if (!include(b)) continue;
        const r = rendered[j];
        if (r === undefined) rendered.push(create(b));
        else if (r.block !== b) patch(r, b);
        j++;
      }
    },
    end() {
      for (const r of rendered) r.markdown?.end();
    },
    clear() {
      rendered = [];
      container.replaceChildren();
    },
    text() {
      return rendered.map((r) => (r.block.type === "text" ? textOf(r.block) : "")).join("");
    },
  };

  function create(b: Block): Rendered {
    let r: Rendered;
    if (b.type === "text" && o.markdown) {
      const node = document.createElement("div");
      node.className = "text markdown";
      container.append(node);
      const markdown = createMarkdownView(node);
      markdown.sync(b);
      return { block: b, node, markdown };
    }
    switch (b.type) {
      case "text":
      case "reasoning": {
        const text = new Text(textOf(b));
        let node: Node = text;
        if (!o.bareText) {
          const el = document.createElement(b.type === "text" ? "div" : "details");
          if (el instanceof HTMLDetailsElement) {
            el.open = true;
            const summary = document.createElement("summary");
            summary.textContent = "Reasoning";
            el.append(summary);
          }
          el.className = b.type === "text" ? "text" : "reasoning";
          el.append(text);
          node = el;
        }
        r = { block: b, node, text, shown: b.count };
        break;
      }
      case "tool-call":
        r = { block: b, node: toolCallNode(b) };
        break;
      case "input":
        r = { block: b, node: inputNode(b, o.answer) };
        break;
    }
    container.append(r.node);
    return r;
  }

  function patch(r: Rendered, b: Block): void {
    const old = r.block;
    r.block = b;
    if (b.type === "text" && r.markdown) {
      r.markdown.sync(b);
      return;
    }
    if ((b.type === "text" || b.type === "reasoning") && r.text) {
      appendNew(r, b);
      if (b.type === "reasoning" && b.redacted && !(old as ReasoningBlock).redacted) r.text.appendData(" [redacted]");
      return;
    }
    const node = b.type === "tool-call" ? toolCallNode(b) : b.type === "input" ? inputNode(b, o.answer) : r.node;
    if (b.type === "input" && old.type === "input" && old.answer === undefined && b.answer === undefined) return; // no change worth redrawing
    container.replaceChild(node, r.node);
    r.node = node;
  }

  function appendNew(r: Rendered, b: TextBlock | ReasoningBlock): void {
    const text = r.text as Text;
    const old = r.block;
    const shown = r.shown ?? 0;
    // Same fragment array, grown: append only what is new. Otherwise redraw the block.
    if ("chunks" in old && sameArray(old, b) && b.count >= shown) text.appendData(chunksSince(b, shown).join(""));
    else text.data = textOf(b);
    r.shown = b.count;
  }
}

function sameArray(a: TextChunks, b: TextChunks): boolean {
  return a.chunks === b.chunks || a.count === 0;
}

function toolCallNode(b: ToolCallBlock): HTMLElement {
  const figure = document.createElement("figure");
  figure.className = "tool";
  figure.dataset["callId"] = b.callId;
  const caption = document.createElement("figcaption");
  caption.textContent = `Tool call: ${b.name || "…"}${b.providerExecuted ? " (run by the agent)" : ""}`;
  const args = document.createElement("pre");
  args.className = "args";
  if (b.completed) {
    const parsed = b.completed.arguments;
    args.textContent = parsed.ok ? JSON.stringify(parsed.value, null, 2) : b.completed.argumentsJson;
    if (!parsed.ok || b.completed.incomplete) {
      const warn = document.createElement("p");
      warn.className = "warning";
      warn.textContent = b.completed.incomplete
        ? "The call was cut before its arguments were complete."
        : `Arguments are not JSON: ${parsed.ok ? "" : parsed.error}`;
      figure.append(warn);
    }
  } else {
    args.textContent = textOf(b.argumentsText);
  }
  figure.prepend(caption, args);
  if (b.result) {
    // Results can be long (search hits): folded, with the error ones open.
    const box = document.createElement("details");
    box.open = b.result.isError;
    const summary = document.createElement("summary");
    summary.textContent = b.result.isError ? "Error" : `Result (${b.result.text.length} characters)`;
    const result = document.createElement("pre");
    result.className = b.result.isError ? "result is-error" : "result";
    result.textContent = `→ ${prettyJson(b.result.text)}`;
    box.append(summary, result);
    figure.append(box);
  }
  return figure;
}

function inputNode(b: InputBlock, answer: AnswerInput): HTMLElement {
  const box = document.createElement("div");
  box.className = "input";
  box.dataset["inputId"] = b.inputId;
  box.dataset["answered"] = String(b.answer !== undefined);
  const prompt = document.createElement("p");
  prompt.className = "prompt";
  prompt.textContent = b.prompt;
  box.append(prompt);
  if (b.answer !== undefined) {
    const done = document.createElement("p");
    done.className = "answer";
    done.textContent = `Answered: ${b.answer}`;
    box.append(done);
    return box;
  }
  const error = document.createElement("p");
  error.className = "error";
  error.hidden = true;
  const buttons: HTMLButtonElement[] = [];
  const send = async (text: string) => {
    for (const x of buttons) x.disabled = true;
    error.hidden = true;
    try {
      await answer(b.inputId, text);
      box.dataset["sent"] = text;
    } catch (e) {
      error.textContent = `Could not answer: ${e instanceof Error ? e.message : String(e)}`;
      error.hidden = false;
      for (const x of buttons) x.disabled = false;
    }
  };
  const button = (label: string, value: string) => {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = label;
    btn.dataset["inputId"] = b.inputId;
    btn.dataset["answer"] = value;
    btn.addEventListener("click", () => void send(value));
    buttons.push(btn);
    return btn;
  };
  const row = document.createElement("div");
  row.className = "choices";
  if (b.kind === InputKind.CONFIRM) {
    row.append(button("Yes", "yes"), button("No", "no"));
  } else if (b.kind === InputKind.CHOICE) {
    row.append(...b.choices.map((c) => button(c, c)));
  } else {
    const form = document.createElement("form");
    const field = document.createElement("input");
    field.type = "text";
    field.dataset["inputId"] = b.inputId;
    field.placeholder = "Your answer";
    field.setAttribute("aria-label", b.prompt);
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "Answer";
    submit.dataset["inputId"] = b.inputId;
    submit.dataset["submit"] = "";
    buttons.push(submit);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (field.value.trim() !== "") void send(field.value.trim());
    });
    form.append(field, submit);
    row.append(form);
  }
  box.append(row, error);
  return box;
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
