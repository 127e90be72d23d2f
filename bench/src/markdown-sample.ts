/**
 * A realistic Markdown answer of any length, the same for the same length:
 * what a model writes in a long technical answer — headings, paragraphs
 * with bold, italics, inline code and links, bullet and numbered lists,
 * GFM tables, fenced code in several languages, block quotes — in a
 * repeating but varied order (a seeded PRNG picks the words and shapes).
 * Runs in the browser page of the rendering bench and in Node.
 * @module
 */
import { mulberry32 } from "../../services/src/providers/simulator/prng.ts";

const words =
  "signal tower antenna carrier wave frequency band range station relay stream token answer buffer cursor model gateway client replay log frame batch render block layout paint heap memory latency network packet socket resume cancel".split(
    " ",
  );
const languages = ["ts", "python", "bash", "json", "rust", "go", "sql"] as const;

/**
 * A Markdown text of at least `chars` UTF-16 code units (it ends after the
 * block that reaches the length, so it is at most one block, < 2 KB, longer),
 * ending with a newline. Deterministic: the same `chars` and `seed` give the
 * same text.
 */
export function markdownSample(chars: number, seed = 1): string {
  const rng = mulberry32(seed);
  const rnd = rng.next;
  const { pick, int } = rng;
  const phrase = (n: number) => Array.from({ length: n }, () => pick(words)).join(" ");
  const sentence = () => {
    const w = phrase(int(6, 16)).split(" ");
    const k = int(0, w.length - 1);
    switch (int(0, 5)) {
      case 0:
        w[k] = `**${w[k]}**`;
        break;
      case 1:
        w[k] = `*${w[k]}*`;
        break;
      case 2:
        w[k] = `\`${w[k]}()\``;
        break;
      case 3:
        w[k] = `[${w[k]}](https://example.com/${w[k]}/${int(1, 999)})`;
        break;
    }
    const s = w.join(" ");
    return `${s[0]?.toUpperCase()}${s.slice(1)}.`;
  };
  const paragraph = () => Array.from({ length: int(2, 6) }, sentence).join(" ");
  const code = (lang: (typeof languages)[number]) => {
    const n = int(4, 18);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = pick(words);
      const b = pick(words);
      switch (lang) {
        case "ts":
          lines.push(i % 4 === 0 ? `export function ${a}(${b}: number): string {` : `  const ${a}${i} = await ${b}.read(${i}); // ${a}`);
          break;
        case "python":
          lines.push(i % 4 === 0 ? `def ${a}_${b}(${b}):` : `    ${a}_${i} = ${b}.get("${a}", ${i})  # ${b}`);
          break;
        case "bash":
          lines.push(`curl -sN "http://127.0.0.1:8080/v1/${a}?${b}=${i}" | grep -c ${b}`);
          break;
        case "json":
          lines.push(`  "${a}_${i}": { "${b}": ${i}, "ok": ${i % 2 === 0} },`);
          break;
        case "rust":
          lines.push(i % 4 === 0 ? `fn ${a}_${b}(${b}: &str) -> usize {` : `    let ${a}_${i} = ${b}.len() + ${i};`);
          break;
        case "go":
          lines.push(i % 4 === 0 ? `func ${a}${b}(${b} int) error {` : `\t${a}${i} := ${b} * ${i} // ${a}`);
          break;
        case "sql":
          lines.push(`SELECT ${a}, count(*) FROM ${b} WHERE id > ${i} GROUP BY ${a};`);
          break;
      }
    }
    return `\`\`\`${lang}\n${lines.join("\n")}\n\`\`\``;
  };
  const table = () => {
    const cols = int(2, 5);
    const head = Array.from({ length: cols }, () => pick(words));
    const rows = Array.from({ length: int(2, 8) }, (_, r) =>
      Array.from({ length: cols }, (_, c) => (c === 0 ? `\`${pick(words)}\`` : String(int(1, 99999) * (r + 1)))),
    );
    return [`| ${head.join(" | ")} |`, `|${" --- |".repeat(cols)}`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  };
  const blocks: string[] = [];
  let length = 0;
  let section = 0;
  while (length < chars) {
    let b: string;
    const r = rnd();
    if (blocks.length % 12 === 0) b = `${"#".repeat(int(1, 3))} ${++section}. ${phrase(int(2, 5))}`;
    else if (r < 0.4) b = paragraph();
    else if (r < 0.55) b = Array.from({ length: int(2, 7) }, () => `- ${sentence()}`).join("\n");
    else if (r < 0.65) b = Array.from({ length: int(2, 6) }, (_, i) => `${i + 1}. ${sentence()}`).join("\n");
    else if (r < 0.75) b = table();
    else if (r < 0.92) b = code(pick(languages));
    else b = `> ${sentence()} ${sentence()}`;
    blocks.push(b);
    length += b.length + 2;
  }
  return `${blocks.join("\n\n")}\n`;
}
