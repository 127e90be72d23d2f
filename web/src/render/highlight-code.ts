/**
 * Syntax highlighting for code blocks with highlight.js, loaded lazily: the
 * core and each language are fetched by dynamic `import()` the first time a
 * block needs them (the demo bundle splits them into chunks), so a page
 * that never shows code never downloads a highlighter.
 *
 * highlight.js because it is well kept (BSD-3, releases since 2006), works
 * on strings without a DOM, escapes its input and emits only `<span
 * class="hljs-…">`, and lets languages be registered one by one.
 * @see https://highlightjs.readthedocs.io/en/latest/api.html
 */
import type { HLJSApi, LanguageFn } from "highlight.js";

type Loader = () => Promise<{ default: LanguageFn }>;

/** The languages offered, by highlight.js name. Each is its own chunk. */
const loaders: Record<string, Loader> = {
  bash: () => import("highlight.js/lib/languages/bash"),
  c: () => import("highlight.js/lib/languages/c"),
  cpp: () => import("highlight.js/lib/languages/cpp"),
  csharp: () => import("highlight.js/lib/languages/csharp"),
  css: () => import("highlight.js/lib/languages/css"),
  diff: () => import("highlight.js/lib/languages/diff"),
  go: () => import("highlight.js/lib/languages/go"),
  java: () => import("highlight.js/lib/languages/java"),
  javascript: () => import("highlight.js/lib/languages/javascript"),
  json: () => import("highlight.js/lib/languages/json"),
  kotlin: () => import("highlight.js/lib/languages/kotlin"),
  markdown: () => import("highlight.js/lib/languages/markdown"),
  php: () => import("highlight.js/lib/languages/php"),
  python: () => import("highlight.js/lib/languages/python"),
  ruby: () => import("highlight.js/lib/languages/ruby"),
  rust: () => import("highlight.js/lib/languages/rust"),
  sql: () => import("highlight.js/lib/languages/sql"),
  swift: () => import("highlight.js/lib/languages/swift"),
  typescript: () => import("highlight.js/lib/languages/typescript"),
  xml: () => import("highlight.js/lib/languages/xml"),
  yaml: () => import("highlight.js/lib/languages/yaml"),
};

/** Common spellings of a fence's info string, mapped to the names above. */
const aliases: Record<string, string> = {
  sh: "bash",
  shell: "bash",
  zsh: "bash",
  console: "bash",
  "c++": "cpp",
  cs: "csharp",
  "c#": "csharp",
  golang: "go",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  ts: "typescript",
  tsx: "typescript",
  md: "markdown",
  py: "python",
  rb: "ruby",
  rs: "rust",
  kt: "kotlin",
  yml: "yaml",
  html: "xml",
  svg: "xml",
  patch: "diff",
};

/**
 * The highlight.js language for a fence's info string (its first word,
 * case-insensitive), or undefined when none is offered (the block is then
 * shown plain).
 */
export function languageOf(info: string): string | undefined {
  const word = info.trim().split(/\s/, 1)[0]?.toLowerCase() ?? "";
  const name = aliases[word] ?? word;
  return Object.hasOwn(loaders, name) ? name : undefined;
}

let core: Promise<HLJSApi> | undefined;
let ready: HLJSApi | undefined;
const registered = new Set<string>();
const loading = new Map<string, Promise<void>>();

/**
 * Loads the core and `language` (a name from {@link languageOf}); resolves
 * once {@link highlightLoaded} can highlight it. Loads each module once.
 * Rejects when a chunk cannot be fetched (the block stays plain; a later
 * call tries again).
 */
export function loadLanguage(language: string): Promise<void> {
  const known = loading.get(language);
  if (known) return known;
  const loader = loaders[language];
  if (!loader) return Promise.reject(new Error(`no highlighter for ${JSON.stringify(language)}`));
  core ??= import("highlight.js/lib/core").then((m) => m.default);
  const p = Promise.all([core, loader()]).then(([hljs, lang]) => {
    if (!registered.has(language)) hljs.registerLanguage(language, lang.default);
    registered.add(language);
    ready = hljs;
  });
  p.catch(() => {
    loading.delete(language);
    core = undefined;
  });
  loading.set(language, p);
  return p;
}

/**
 * The highlighted HTML of `code` (highlight.js spans; the code itself is
 * escaped), when `language` is loaded; undefined when it is not yet. The
 * caller still passes the HTML through the sanitiser.
 */
export function highlightLoaded(language: string, code: string): string | undefined {
  if (!ready || !registered.has(language)) return undefined;
  return ready.highlight(code, { language, ignoreIllegals: true }).value;
}
