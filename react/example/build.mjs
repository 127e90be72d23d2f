// Bundles the example chat into dist/ (or the folder given as the first
// argument): main.js (+ map) and index.html. Workspace packages are bundled
// from their TypeScript sources (the "@airwave/source" condition), so this
// does not depend on `tsc -b` having run.
import { copyFile, mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { build } from "esbuild";

const here = new URL(".", import.meta.url).pathname;
const out = resolve(process.argv[2] ?? resolve(here, "dist"));

await mkdir(out, { recursive: true });
await build({
  entryPoints: [resolve(here, "main.tsx")],
  outfile: resolve(out, "main.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  minify: true,
  sourcemap: true,
  conditions: ["@airwave/source"],
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
await copyFile(resolve(here, "index.html"), resolve(out, "index.html"));
console.log(`react example: wrote ${out}/index.html and main.js`);
