// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import type { Block, TextBlock } from "../model/index.js";
import { appendText, emptyText } from "../model/text-chunks.js";
import { createBlocksView } from "./blocks-view.js";

const answer = () => Promise.resolve();

function textBlock(text: string, blockIndex = 0): TextBlock {
  return { ...appendText(emptyText, text), type: "text", choiceIndex: 0, blockIndex };
}

function grow(b: TextBlock, piece: string): TextBlock {
  return { ...appendText(b, piece), type: "text", choiceIndex: b.choiceIndex, blockIndex: b.blockIndex };
}

describe("createBlocksView with markdown", () => {
  it("renders text blocks as Markdown as they grow, and text() is their exact source", () => {
    const root = document.createElement("div");
    document.body.append(root);
    const view = createBlocksView(root, { markdown: true, answer });
    let b = textBlock("# Title\n\n- one");
    view.update([b]);
    const box = root.querySelector("div.text.markdown");
    expect(box?.querySelector("h1")?.textContent).toBe("Title");
    expect(box?.querySelectorAll("li")).toHaveLength(1);
    const heading = box?.querySelector("h1");
    b = grow(b, "\n- two\n\n```js\nconst x = 1;");
    view.update([b]);
    // The complete heading was not rendered again; the list grew; the open fence shows as code.
    expect(box?.querySelector("h1")).toBe(heading);
    expect(box?.querySelectorAll("li")).toHaveLength(2);
    expect(box?.querySelector(".md-code pre code")?.textContent).toBe("const x = 1;\n");
    expect(box?.querySelector("button.md-copy")).not.toBeNull();
    b = grow(b, "\n```\n\n<img src=x onerror=alert(1)>**end**");
    view.update([b]);
    view.end();
    expect(box?.querySelector("img")).toBeNull();
    expect(box?.querySelector("strong")?.textContent).toBe("end");
    expect(view.text()).toBe("# Title\n\n- one\n- two\n\n```js\nconst x = 1;\n```\n\n<img src=x onerror=alert(1)>**end**");
  });

  it("keeps reasoning plain and tool calls in their own blocks; text() is only the text blocks", () => {
    const root = document.createElement("div");
    const view = createBlocksView(root, { markdown: true, answer });
    const reasoning: Block = {
      ...appendText(emptyText, "*thinking*"),
      type: "reasoning",
      choiceIndex: 0,
      blockIndex: 0,
      signature: "",
      redacted: false,
    };
    view.update([reasoning, textBlock("**a**"), textBlock(" b", 1)]);
    expect(root.querySelector("details.reasoning")?.textContent).toBe("Reasoning*thinking*");
    expect(root.querySelectorAll("div.text.markdown")).toHaveLength(2);
    expect(root.querySelector("div.text.markdown strong")?.textContent).toBe("a");
    expect(view.text()).toBe("**a** b");
    view.clear();
    expect(root.childNodes).toHaveLength(0);
    expect(view.text()).toBe("");
  });
});
