// Fails when proto/gen differs from what `buf generate` produces now.
// Generated code is never edited by hand: run `npm run generate` and commit.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "airwave-gen-"));
try {
  execFileSync("buf", ["generate", "--output", tmp], { cwd: root, stdio: "inherit" });
  const want = listFiles(join(tmp, "proto/gen"));
  const have = listFiles(join(root, "proto/gen"));
  const problems = [];
  for (const f of new Set([...want.keys(), ...have.keys()])) {
    if (!have.has(f)) problems.push(`missing: proto/gen/${f}`);
    else if (!want.has(f)) problems.push(`not generated (stale): proto/gen/${f}`);
    else if (!want.get(f).equals(have.get(f))) problems.push(`differs: proto/gen/${f}`);
  }
  if (problems.length > 0) {
    console.error(`proto/gen is out of date with proto/:\n  ${problems.join("\n  ")}\nRun \`npm run generate\` and commit the result.`);
    process.exit(1);
  }
  console.log(`proto/gen matches buf generate (${want.size} files)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

function listFiles(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}
