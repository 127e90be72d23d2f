// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { benignMarkdown, xssPayloads } from "../testing/xss-payloads.js";
import { createMarkdownView } from "./markdown-view.js";
import { createSanitizer } from "./sanitize-html.js";

const beacon = "http://127.0.0.1:9/beacon";

/** Every URL-valued or handler attribute left in `root`, and the elements that run or load things. */
function dangers(root: Element): string[] {
  const found: string[] = [];
  for (const el of root.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (
      [
        "script",
        "img",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "style",
        "link",
        "meta",
        "base",
        "form",
        "input",
        "video",
        "audio",
        "source",
        "template",
      ].includes(tag)
    )
      found.push(`<${tag}>`);
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      if (name.startsWith("on") || ["style", "src", "srcset", "ping", "background", "action", "id", "name", "srcdoc"].includes(name))
        found.push(`${tag}[${name}]`);
      if (name === "href" && !/^(?:https?:|mailto:|#)/i.test(a.value)) found.push(`${tag}[href=${a.value}]`);
    }
  }
  return found;
}

describe("createSanitizer", () => {
  it("keeps ordinary HTML and removes what runs, loads or restyles", () => {
    const sanitize = createSanitizer(window);
    const root = document.createElement("div");
    root.append(
      sanitize(`<p class="x language-js">a <kbd>b</kbd> <a href="https://example.com/">c</a></p>${xssPayloads(beacon).join("\n")}`),
    );
    expect(dangers(root)).toEqual([]);
    expect(root.querySelector("kbd")?.textContent).toBe("b");
    const a = root.querySelector('a[href="https://example.com/"]');
    expect(a?.getAttribute("rel")).toBe("noopener noreferrer nofollow ugc");
    expect(a?.getAttribute("target")).toBe("_blank");
    expect(root.querySelector("p")?.className).toBe("language-js"); // only the renderer's own classes
  });

  it("returns the same instance per window", () => {
    expect(createSanitizer(window)).toBe(createSanitizer(window));
  });
});

describe("createMarkdownView with a hostile answer", () => {
  const answer = `${benignMarkdown}\n\n${xssPayloads(beacon).join("\n\n")}\n\n${benignMarkdown}`;

  it.each([3, 29, answer.length])("renders nothing dangerous, streamed in pieces of %i, and the benign Markdown still renders", (size) => {
    const root = document.createElement("div");
    document.body.append(root);
    const v = createMarkdownView(root, { highlight: false });
    for (let i = 0; i < answer.length; i += size) {
      v.append(answer.slice(i, i + size));
      expect(dangers(root)).toEqual([]); // at every step, the open block too
    }
    v.end();
    expect(dangers(root)).toEqual([]);
    expect(root.querySelector("h1")?.textContent).toBe("Safe heading");
    expect(root.querySelectorAll("li").length).toBeGreaterThanOrEqual(2);
    expect(root.querySelector("td")?.textContent).toBe("alpha");
    expect(root.querySelector("pre code.language-js")?.textContent).toContain("return a + b;");
    expect(root.querySelector('a[href="https://example.com/docs"]')?.textContent).toBe("real link");
    // Markdown images become links to the image, never an <img>.
    expect(root.querySelector(`a[href="${beacon}/md-image"]`)?.textContent).toBe("markdown image");
    // Code stays text.
    expect([...root.querySelectorAll("pre code")].some((c) => c.textContent?.includes("<script>"))).toBe(true);
  });
});
