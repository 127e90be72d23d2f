// Fails when generated code differs from what its generator produces now:
// proto/gen (TypeScript, `buf generate`), deploy/k8s/monitoring/generated
// (scripts/generate-deploy.mjs) and the client stubs in clients/
// (Python and Go, scripts/generate-clients.mjs with Debian's protoc). Generated
// code is never edited by hand: run `npm run generate` and commit. The client
// stubs are compared only where their tools (in their versions) are
// installed; elsewhere this says so and skips them, except in CI (`CI` set).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { clientStubDirs, clientToolchainProblem, generateClients } from "./generate-clients.mjs";
import { deployGeneratedDir, generateDeploy } from "./generate-deploy.mjs";

const root = new URL("..", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "airwave-gen-"));
let failed = false;
try {
  execFileSync("buf", ["generate", "--output", tmp], { cwd: root, stdio: "inherit" });
  failed = !compare("proto/gen", tmp) || failed;
  generateDeploy(tmp);
  failed = !compare(deployGeneratedDir, tmp) || failed;
  const problem = clientToolchainProblem();
  if (problem && process.env.CI) {
    console.error(`clients/ stubs cannot be checked: ${problem}`);
    failed = true;
  } else if (problem) {
    console.log(`clients/ stubs not checked (CI checks them): ${problem}`);
  } else {
    generateClients(tmp);
    for (const d of clientStubDirs) failed = !compare(d, tmp) || failed;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (failed) process.exit(1);

/** Compares folder `dir` of the repository with the same folder generated under `generated`; reports and returns whether they match. */
function compare(dir, generated) {
  const want = listFiles(join(generated, dir));
  const have = listFiles(join(root, dir));
  const problems = [];
  for (const f of new Set([...want.keys(), ...have.keys()])) {
    if (!have.has(f)) problems.push(`missing: ${dir}/${f}`);
    else if (!want.has(f)) problems.push(`not generated (stale): ${dir}/${f}`);
    else if (!want.get(f).equals(have.get(f))) problems.push(`differs: ${dir}/${f}`);
  }
  if (problems.length > 0) {
    console.error(`${dir} is out of date with proto/:\n  ${problems.join("\n  ")}\nRun \`npm run generate\` and commit the result.`);
    return false;
  }
  console.log(`${dir} matches its generator (${want.size} files)`);
  return true;
}

function listFiles(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      if (name === "__pycache__") continue; // Python's bytecode cache, from running the client
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
