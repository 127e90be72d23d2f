import { answerStyle, composeTokens } from "./compose-text.js";
import type { Rng } from "./prng.js";

/** Words put in when the prompt has fewer than three keywords. */
const fillerWords = ["context", "trade-offs", "examples"];

/** The code block's language (fence info strings the demo's highlighter knows) and its body, from three keywords. */
const codeTemplates: readonly { lang: string; code: (k: readonly [string, string, string]) => string }[] = [
  {
    lang: "ts",
    code: ([a, b, c]) =>
      [
        `const topics = ["${a}", "${b}", "${c}"];`,
        "for (const [i, topic] of topics.entries()) {",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the TypeScript the answer shows has a template literal
        "  console.log(`${i + 1}. ${topic}`);",
        "}",
      ].join("\n"),
  },
  {
    lang: "python",
    code: ([a, b, c]) =>
      [
        `weights = {"${a}": 3, "${b}": 2, "${c}": 1}`,
        "for name, weight in sorted(weights.items(), key=lambda t: -t[1]):",
        '    print(f"{name}: {weight}")',
      ].join("\n"),
  },
  {
    lang: "bash",
    code: ([a, b, c]) => [`for topic in "${a}" "${b}" "${c}"; do`, '  echo "Looking into $topic"', "done"].join("\n"),
  },
  {
    lang: "json",
    code: ([a, b, c]) => [`{`, `  "topic": "${a}",`, `  "related": ["${b}", "${c}"],`, `  "sources": 3`, `}`].join("\n"),
  },
];

const headings = ["Overview of {a}", "{a}: the essentials", "{a} in brief", "A closer look at {a}", "Notes on {a} and {b}"];
const points = ["what it is for", "how it is measured", "where it fails", "why it matters", "what it costs", "how it changed"];
const steps = ["Start with {a}.", "Compare it with {b}.", "Check the details of {c}.", "Write down what {b} changes."];

/**
 * One Markdown document about `keywords`: a level-2 heading, a paragraph, a
 * bulleted list with bold terms, a fenced code block with a language (ts,
 * python, bash or json, by seed), a table with a right-aligned column, a
 * numbered list and a closing paragraph. Keywords come from the prompt
 * (letters, digits, `'’_-`), so they never break the Markdown or the code's
 * double-quoted strings.
 */
export function composeMarkdownDocument(rng: Rng, keywords: readonly string[]): string {
  const words = keywords.length >= 3 ? keywords : [...keywords, ...fillerWords.filter((w) => !keywords.includes(w))];
  const [a, b, c] = [words[0], ...pickDistinct(rng, words.slice(1), 2)] as [string, string, string];
  const fill = (t: string) => t.replaceAll("{a}", a).replaceAll("{b}", b).replaceAll("{c}", c);
  const sentences = (n: number, w: readonly string[]) => composeTokens(rng, w, n, answerStyle, "sentences").join("").replace(/\n+/g, " ");
  const template = rng.pick(codeTemplates);
  const [p1, p2, p3] = pickDistinct(rng, points, 3) as [string, string, string];
  return [
    `## ${upperFirst(fill(rng.pick(headings)))}`,
    "",
    sentences(14, [a, b, c]),
    "",
    `- **${upperFirst(a)}**: ${p1}`,
    `- **${upperFirst(b)}**: ${p2}`,
    `- **${upperFirst(c)}**: ${p3}`,
    "",
    `\`\`\`${template.lang}`,
    template.code([a, b, c]),
    "```",
    "",
    "| Aspect | Detail | Weight |",
    "| --- | --- | ---: |",
    `| ${a} | ${p1} | ${rng.int(1, 9)} |`,
    `| ${b} | ${p2} | ${rng.int(1, 9)} |`,
    `| ${c} | ${p3} | ${rng.int(1, 9)} |`,
    "",
    ...pickDistinct(rng, steps, 2).map((s, i) => `${i + 1}. ${fill(s)}`),
    "",
    sentences(8, [c, a]),
  ].join("\n");
}

/**
 * The tokens of Markdown answers, lazily: {@link composeMarkdownDocument}
 * cut into word-ish tokens, each a run of non-space characters with the
 * whitespace before it (newlines and indentation included), so a stream
 * shows every half-way state (an open code fence, a table with some of its
 * rows, `**bold` without its end). The text is exactly the concatenation.
 *
 * `count` undefined: one document. A number: exactly `count` tokens, from
 * as many documents (separated by a blank line) as it takes, cut wherever
 * the count falls (possibly inside a code block or table).
 */
export function* composeMarkdownTokenStream(rng: Rng, keywords: readonly string[], count?: number): Generator<string, void, undefined> {
  let n = 0;
  for (let doc = 0; count === undefined ? doc < 1 : n < count; doc++) {
    const text = (doc === 0 ? "" : "\n\n") + composeMarkdownDocument(rng, keywords);
    for (const [token] of text.matchAll(/\s*\S+/g)) {
      if (count !== undefined && n === count) return;
      n++;
      yield token;
    }
  }
}

function pickDistinct<T>(rng: Rng, items: readonly T[], n: number): T[] {
  const left = [...items];
  const out: T[] = [];
  while (out.length < n && left.length > 0) out.push(left.splice(rng.int(0, left.length - 1), 1)[0] as T);
  return out;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
