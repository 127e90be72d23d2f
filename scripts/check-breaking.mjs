// `buf breaking` for the airwave.v1 contract (rules: FILE, buf.yaml): the
// working tree against the last commit (HEAD), against the landed main
// (`origin/main`, when the clone has it and it is not HEAD), and against
// `AIRWAVE_BREAKING_AGAINST` (any git ref) when set. A wire or generated-code
// incompatible change fails `npm run check`; a new major version of the
// contract goes in a new package (airwave.v2), never into v1.
import { execFileSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
const commit = (ref) => {
  try {
    return git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
  } catch {
    return undefined;
  }
};

const head = commit("HEAD");
const refs = new Map();
if (head) refs.set(head, "HEAD");
const landed = commit("origin/main");
if (landed && !refs.has(landed)) refs.set(landed, "origin/main");
const wanted = process.env.AIRWAVE_BREAKING_AGAINST;
if (wanted) {
  const c = commit(wanted);
  if (!c) {
    console.error(`AIRWAVE_BREAKING_AGAINST=${wanted}: not a commit of this repository`);
    process.exit(1);
  }
  if (!refs.has(c)) refs.set(c, wanted);
}
if (refs.size === 0) {
  console.error("buf breaking: no commit to compare with (not a git checkout?)");
  process.exit(1);
}
for (const [sha, name] of refs) {
  try {
    execFileSync("buf", ["breaking", "--against", `.git#ref=${sha}`], { cwd: root, stdio: "inherit" });
  } catch {
    console.error(`buf breaking: the contract breaks against ${name} (${sha.slice(0, 12)}), above`);
    process.exit(1);
  }
}
console.log(`buf breaking: no breaking change against ${[...refs.values()].join(", ")}`);
