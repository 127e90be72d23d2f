// Bundles the demo page into dist/: demo.js (+ map), its lazily loaded
// chunks in dist/chunks/ (highlight.js's core and each language, fetched by
// dynamic import() the first time a code block needs them), index.html,
// demo.css and favicon.svg. The gateway serves dist/ at "/". Workspace
// packages are bundled from their TypeScript sources (the "@airwave/source"
// condition), so this does not depend on `tsc -b` having run.
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { basename } from "node:path";
import { build } from "esbuild";

const root = new URL(".", import.meta.url);
const dist = new URL("dist/", root);

await mkdir(dist, { recursive: true });
const result = await build({
  entryPoints: [new URL("src/demo/demo.ts", root).pathname],
  outdir: dist.pathname,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  conditions: ["@airwave/source"],
  legalComments: "linked",
  logLevel: "warning",
  metafile: true,
});
// Chunk names carry a content hash: remove the ones this build did not write (after it, so a
// page being served keeps finding its chunks while the build runs).
const written = new Set(Object.keys(result.metafile.outputs).map((path) => basename(path)));
for (const name of await readdir(new URL("chunks/", dist))) {
  if (!written.has(name)) await rm(new URL(`chunks/${name}`, dist));
}
for (const name of ["index.html", "demo.css", "favicon.svg"]) {
  await copyFile(new URL(`src/demo/${name}`, root), new URL(name, dist));
}
// What the page loads at once (the entry and its static imports) and what only a code block fetches.
const outputs = result.metafile.outputs;
const eager = new Set();
const visit = (path) => {
  if (eager.has(path)) return;
  eager.add(path);
  for (const i of outputs[path]?.imports ?? []) if (i.kind === "import-statement") visit(i.path);
};
visit(Object.keys(outputs).find((path) => outputs[path].entryPoint?.endsWith("src/demo/demo.ts")));
const js = Object.keys(outputs).filter((path) => path.endsWith(".js"));
const kib = (paths) => `${Math.round(paths.reduce((n, path) => n + outputs[path].bytes, 0) / 1024)} KiB`;
const lazy = js.filter((path) => !eager.has(path));
console.log(
  `web: wrote dist/index.html, demo.css, favicon.svg, demo.js with ${eager.size - 1} static chunk(s) (${kib([...eager])}) and ${lazy.length} lazy chunks in dist/chunks/ (${kib(lazy)})`,
);
