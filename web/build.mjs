// Bundles the demo page into dist/: demo.js (+ map), index.html, demo.css.
// The gateway serves dist/ at "/". Workspace packages are bundled from their
// TypeScript sources (the "@airwave/source" condition), so this does not
// depend on `tsc -b` having run.
import { copyFile, mkdir } from "node:fs/promises";
import { build } from "esbuild";

const root = new URL(".", import.meta.url);
const dist = new URL("dist/", root);

await mkdir(dist, { recursive: true });
const result = await build({
  entryPoints: [new URL("src/demo/demo.ts", root).pathname],
  outfile: new URL("demo.js", dist).pathname,
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
for (const name of ["index.html", "demo.css"]) {
  await copyFile(new URL(`src/demo/${name}`, root), new URL(name, dist));
}
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`web: wrote dist/index.html, dist/demo.css, dist/demo.js (${Math.round(bytes / 1024)} KiB with map)`);
