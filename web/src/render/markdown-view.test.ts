// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { appendText, emptyText } from "../model/text-chunks.js";
import { createMarkdownView, type MarkdownView } from "./markdown-view.js";

function view(o: Parameters<typeof createMarkdownView>[1] = {}): { root: HTMLElement; v: MarkdownView } {
  const root = document.createElement("div");
  document.body.append(root);
  return { root, v: createMarkdownView(root, { highlight: false, ...o }) };
}

/** Feeds `text` in pieces of `size` characters and returns the HTML after each. */
function stream(v: MarkdownView, root: HTMLElement | undefined, text: string, size = 1): string[] {
  const seen: string[] = [];
  for (let i = 0; i < text.length; i += size) {
    v.append(text.slice(i, i + size));
    if (root) seen.push(root.innerHTML);
  }
  return seen;
}

/** What the same text renders to in one piece, ended. */
function whole(text: string, o: Parameters<typeof createMarkdownView>[1] = {}): string {
  const { root, v } = view(o);
  v.append(text);
  v.end();
  return root.innerHTML;
}

const sample = [
  "# Radio towers",
  "",
  "A tower carries **the signal** over the hills, see [the FCC](https://www.fcc.gov/).",
  "",
  "- one",
  "- two with `code`",
  "- three",
  "",
  "| band | range |",
  "| --- | ---: |",
  "| AM | 500 km |",
  "| FM | 80 km |",
  "",
  "```js",
  "const f = 100.1;",
  "console.log(f);",
  "```",
  "",
  "> quoted ~~old~~ text",
  "",
  "Last paragraph.",
  "",
].join("\n");

describe("createMarkdownView", () => {
  it("ends with the same HTML however the text was split", () => {
    const want = whole(sample);
    expect(want).toContain("<h1>Radio towers</h1>");
    expect(want).toContain("<strong>the signal</strong>");
    expect(want).toContain("<table>");
    expect(want).toContain('<code class="language-js">');
    for (const size of [1, 3, 17, 1000]) {
      const { root, v } = view();
      stream(v, root, sample, size);
      v.end();
      expect(root.innerHTML, `pieces of ${size}`).toBe(want);
    }
  });

  it("renders complete blocks once: their nodes stay while the text grows", () => {
    const { root, v } = view();
    v.append("# Title\n\nFirst paragraph.\n\nSecond");
    const h1 = root.querySelector("h1");
    const p1 = root.querySelector("p");
    v.append(" paragraph grows\n\n- and a list");
    v.append(" item\n");
    expect(root.querySelector("h1")).toBe(h1);
    expect(root.querySelector("p")).toBe(p1);
    expect(root.querySelectorAll("p")[1]?.textContent).toBe("Second paragraph grows");
    expect(v.stats.committedChars).toBeGreaterThan(0);
  });

  it("does linear work: the lexer sees each character a bounded number of times", () => {
    const { v } = view();
    const text = sample.repeat(10); // ~3 KB (jsdom is slow; the figures in Chromium are in docs/rendering.md)
    stream(v, undefined, text, 7);
    v.end();
    expect(v.stats.lexedChars / text.length).toBeLessThan(60);
    const { v: v2 } = view();
    const longer = sample.repeat(40);
    stream(v2, undefined, longer, 7);
    // Four times the text: about four times the work (not sixteen).
    expect(v2.stats.lexedChars / v.stats.lexedChars).toBeLessThan(4.5);
  });

  it("bounds the open block: a huge paragraph, list, table or code block is cut and goes on", () => {
    const para = `${"word ".repeat(3000)}end.`;
    const list = Array.from({ length: 300 }, (_, i) => `- item ${i}`).join("\n");
    const table = `| a | b |\n| - | - |\n${Array.from({ length: 300 }, (_, i) => `| ${i} | x |`).join("\n")}`;
    const code = `\`\`\`py\n${Array.from({ length: 300 }, (_, i) => `print(${i})`).join("\n")}\n\`\`\``;
    for (const text of [para, list, table, code]) {
      const { root, v } = view({ maxOpenChars: 512 });
      stream(v, undefined, `${text}\n\nafter`, 50);
      expect(v.stats.openChars).toBeLessThan(512 + 100);
      v.end();
      const bare = (s: string | null | undefined) => (s ?? "").replace(/Copy|\s+/g, "");
      expect(bare(root.textContent)).toContain(bare(new DOMParser().parseFromString(whole(text), "text/html").body.textContent));
    }
    const { root, v } = view({ maxOpenChars: 512 });
    stream(v, undefined, table, 50);
    v.end();
    expect(root.querySelectorAll("thead")).toHaveLength(1); // the continued tables have no header row of their own
    expect(root.querySelectorAll("tbody tr")).toHaveLength(300);
  });

  it("gathers complete blocks into offscreen-contained groups once they add up to groupChars", () => {
    const text = sample.repeat(12); // ~4 KB
    const want = whole(text, { groupChars: 0 });
    const { root, v } = view({ groupChars: 1024 });
    stream(v, undefined, text, 13);
    v.end();
    const groups = [...root.children].filter((c) => c.classList.contains("md-group"));
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const g of groups) {
      expect((g as HTMLElement).style.getPropertyValue("content-visibility")).toBe("auto");
      expect((g as HTMLElement).style.getPropertyValue("contain-intrinsic-size")).toMatch(/^auto \d+px$/);
    }
    // The groups only wrap: the same blocks in the same order as without them.
    const unwrapped = [...root.childNodes].flatMap((n) => ((n as Element).classList?.contains("md-group") ? [...n.childNodes] : [n]));
    expect(unwrapped.map((n) => (n as Element).outerHTML ?? n.textContent).join("")).toBe(want);
    // The open block is never in a group: it still changes.
    v.append("\n\nopen **bold");
    expect(root.lastElementChild?.classList.contains("md-group")).toBe(false);
    expect(root.lastElementChild?.textContent).toBe("open bold");
  });

  it("takes in at most maxCharsPerUpdate per update and catches up by itself on the next frames", async () => {
    const text = `${sample.repeat(20)}Emoji 🛰️ at the end.\n`; // ~6 KB
    const want = whole(text);
    const { root, v } = view({ maxCharsPerUpdate: 1000 });
    v.append(text);
    expect(v.stats.pendingChars).toBe(text.length - 1000);
    expect(v.stats.committedChars + v.stats.openChars).toBe(1000);
    expect(root.textContent?.length).toBeLessThan(1000);
    await expect.poll(() => v.stats.pendingChars, { timeout: 20_000 }).toBe(0);
    v.end();
    expect(root.innerHTML).toBe(want);
    // end() renders what is pending at once.
    const { root: r2, v: v2 } = view({ maxCharsPerUpdate: 1000 });
    v2.append(text);
    v2.end();
    expect(v2.stats.pendingChars).toBe(0);
    expect(r2.innerHTML).toBe(want);
  });

  it("unloads a group that leaves the margin (keeping its height) and renders it again, the same, when it comes back", () => {
    type Callback = (entries: Partial<IntersectionObserverEntry>[]) => void;
    const observed: { cb: Callback; targets: Element[]; init: IntersectionObserverInit | undefined }[] = [];
    const w = window as unknown as { IntersectionObserver?: unknown };
    const saved = w.IntersectionObserver;
    w.IntersectionObserver = class {
      readonly o: (typeof observed)[number];
      constructor(cb: Callback, init?: IntersectionObserverInit) {
        this.o = { cb, targets: [], init };
        observed.push(this.o);
      }
      observe(t: Element) {
        this.o.targets.push(t);
      }
      disconnect() {
        this.o.targets = [];
      }
    };
    try {
      const { root, v } = view({ groupChars: 1024, unloadMarginPx: 1500 });
      stream(v, undefined, sample.repeat(8), 40);
      v.end();
      const o = observed[0];
      expect(o?.init).toMatchObject({ rootMargin: "1500px 0px" });
      const group = root.querySelector<HTMLElement>(".md-group");
      expect(group && o?.targets.includes(group)).toBe(true);
      if (!group || !o) return;
      const before = group.innerHTML;
      o.cb([{ target: group, isIntersecting: false, boundingClientRect: { height: 640 } as DOMRectReadOnly }]);
      expect(group.childNodes).toHaveLength(0);
      expect(group.style.getPropertyValue("height")).toBe("640px");
      o.cb([{ target: group, isIntersecting: true, boundingClientRect: { height: 640 } as DOMRectReadOnly }]);
      expect(group.innerHTML).toBe(before);
      expect(group.style.getPropertyValue("height")).toBe("");
      expect(group.querySelector(".md-code > button.md-copy")).not.toBeNull();
    } finally {
      w.IntersectionObserver = saved;
    }
  });

  it("groups nothing in a text shorter than groupChars, nor with groupChars 0", () => {
    const { root, v } = view();
    stream(v, undefined, sample, 5);
    v.end();
    expect(root.querySelector(".md-group")).toBeNull();
    const { root: r0, v: v0 } = view({ groupChars: 0 });
    stream(v0, undefined, sample.repeat(12), 50);
    v0.end();
    expect(r0.querySelector(".md-group")).toBeNull();
  });

  it("shows unterminated constructs as they will look once closed", () => {
    const cases: [string, (root: HTMLElement) => void][] = [
      ["Some **bold", (r) => expect(r.querySelector("strong")?.textContent).toBe("bold")],
      ["Some *it", (r) => expect(r.querySelector("em")?.textContent).toBe("it")],
      ["Some ~~gone", (r) => expect(r.querySelector("del")?.textContent).toBe("gone")],
      ["Some `code", (r) => expect(r.querySelector("code")?.textContent).toBe("code")],
      ["See [the docs](https://exa", (r) => expect(r.querySelector("a.md-pending")?.textContent).toBe("the docs")],
      ["```ts\nconst x = 1;\n", (r) => expect(r.querySelector("pre code")?.textContent).toBe("const x = 1;\n")],
      ["| a | b |", (r) => expect(r.textContent).toBe("")],
      ["| a | b |\n| -", (r) => expect(r.textContent).toBe("")],
      ["| a | b |\n| - | - |\n| 1 |", (r) => expect(r.querySelector("td")?.textContent).toBe("1")],
      ["Hello **", (r) => expect(r.textContent?.trim()).toBe("Hello")],
    ];
    for (const [text, check] of cases) {
      const { root, v } = view();
      v.append(text);
      check(root);
    }
    const { root } = view();
    expect(root.querySelector("a[href]")).toBeNull();
  });

  it("does not flicker: bold, links and tables keep their element as they close", () => {
    const text = "Some **bold** and [a link](https://example.com/x) end.\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\nafter\n";
    const { root, v } = view();
    const states = stream(v, root, text, 1);
    const firstStrong = states.findIndex((h) => h.includes("<strong>"));
    expect(states.slice(firstStrong).every((h) => h.includes("<strong>"))).toBe(true);
    const firstTable = states.findIndex((h) => h.includes("<table>"));
    expect(states.slice(firstTable).every((h) => h.includes("<table>"))).toBe(true);
    // Before the table, its pipes never showed as a paragraph.
    expect(states.some((h) => /<p>\| a/.test(h))).toBe(false);
  });

  it("sync appends only new chunks and starts over on a new text", () => {
    const { root, v } = view();
    let t = emptyText;
    for (const piece of ["# He", "llo\n\nwor", "ld"]) {
      t = appendText(t, piece);
      v.sync(t);
    }
    expect(root.innerHTML).toBe("<h1>Hello</h1>\n<p>world</p>\n");
    v.sync(appendText(emptyText, "*new*"));
    expect(root.innerHTML).toBe("<p><em>new</em></p>\n");
  });

  it("gives code blocks a copy button that copies the code", async () => {
    const { root, v } = view();
    let copied = "";
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (s: string) => void (copied = s) }, configurable: true });
    v.append("```\nline 1\nline 2\n```\n");
    v.end();
    const button = root.querySelector<HTMLButtonElement>(".md-code > button.md-copy");
    expect(button).not.toBeNull();
    button?.click();
    await expect.poll(() => copied).toBe("line 1\nline 2\n");
    await expect.poll(() => button?.textContent).toBe("Copied");
  });

  it("highlights a code block once its language has loaded", async () => {
    const { root, v } = view({ highlight: true });
    v.append("```python\ndef f():\n    return 1\n```\n\nafter");
    const code = root.querySelector("pre code");
    expect(root.querySelector(".md-code")?.getAttribute("data-language")).toBe("python");
    await expect.poll(() => code?.querySelector(".hljs-keyword")?.textContent).toBe("def");
    expect(code?.textContent).toBe("def f():\n    return 1\n");
    // Later blocks of a loaded language are highlighted at once, the open one included.
    v.append("\n\n```py\nimport os\n");
    expect(root.querySelectorAll("pre code")[1]?.querySelector(".hljs-keyword")?.textContent).toBe("import");
    expect(root.querySelectorAll("pre code")[1]?.className).toBe("hljs language-py");
    // An open block past 8 KiB is shown plain; once complete it is highlighted.
    const long = Array.from({ length: 1000 }, (_, i) => `x_${i} = ${i}`).join("\n");
    v.append(`\n\`\`\`\n\n\`\`\`python\nimport sys\n${long}\n`);
    const open = () => root.querySelectorAll("pre code")[2];
    await expect.poll(() => v.stats.pendingChars, { timeout: 20_000 }).toBe(0); // 11 KB at once: taken in over a few frames
    expect(open()?.textContent).toContain("x_999 = 999");
    expect(open()?.querySelector(".hljs-keyword")).toBeNull();
    v.append("```\n\nafter");
    expect(open()?.querySelector(".hljs-keyword")?.textContent).toBe("import");
    expect(open()?.textContent).toBe(`import sys\n${long}\n`);
  });
});
