// Generates the client stubs in clients/ from proto/airwave/v1 with protoc:
// Python (`clients/python/airwave/v1/*_pb2.py`, `.pyi`, `*_pb2_grpc.py`) and
// Go (`clients/go/airwave/v1/*.pb.go`, `*_grpc.pb.go`). The generated files
// name the tools' versions, so they are reproducible only with the same tools:
// Debian bookworm's protobuf-compiler (protoc 3.21.12), protobuf-compiler-grpc
// (grpc_python_plugin), protoc-gen-go (v1.28.1) and protoc-gen-go-grpc (1.0,
// from grpc-go 1.33). `.ci/run` installs them.
//
// `node scripts/generate-clients.mjs` (part of `npm run generate`) rewrites
// them; scripts/check-generated.mjs fails when they differ. Without these
// tools (or with other versions) both say so and skip, except in CI (`CI`
// set), where that is a failure. grpc.health.v1 is not generated: Go has it
// in google.golang.org/grpc/health/grpc_health_v1, Python in
// grpcio-health-checking (`grpc_health.v1`; a generated `grpc/health` would
// be shadowed by grpcio's own `grpc` package).
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
/** The Go module of clients/go (clients/go/go.mod); go_package in the .proto files names it. */
const goModule = "github.com/airwave/airwave/clients/go";

/** The generated folders, relative to the repository root: what the generator owns. */
export const clientStubDirs = ["clients/python/airwave", "clients/go/airwave"];

/** Each tool, the arguments that print its version, and the version the committed stubs come from. */
const tools = [
  { name: "protoc", args: ["--version"], want: "libprotoc 3.21.12", pkg: "protobuf-compiler" },
  { name: "protoc-gen-go", args: ["--version"], want: "protoc-gen-go v1.28.1", pkg: "protoc-gen-go" },
  { name: "protoc-gen-go-grpc", args: ["--version"], want: "protoc-gen-go-grpc 1.0", pkg: "protoc-gen-go-grpc" },
  // Prints no version; it comes with protoc's Debian release.
  { name: "grpc_python_plugin", pkg: "protobuf-compiler-grpc" },
];

/** Why the stubs cannot be generated reproducibly here (a missing tool or another version), or undefined. */
export function clientToolchainProblem() {
  const problems = [];
  for (const t of tools) {
    if (!which(t.name)) {
      problems.push(`${t.name} is not installed (Debian: apt-get install ${t.pkg})`);
      continue;
    }
    if (!t.want) continue;
    let out;
    try {
      out = execFileSync(t.name, t.args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch (e) {
      out = `failing (${e.message})`;
    }
    if (out !== t.want) problems.push(`${t.name} is "${out}", the stubs come from "${t.want}" (Debian bookworm's ${t.pkg})`);
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}

/** Writes the stubs under `outRoot` (the repository root, or a scratch folder to compare with). */
export function generateClients(outRoot) {
  for (const d of clientStubDirs) rmSync(join(outRoot, d), { recursive: true, force: true });
  const protos = readdirSync(join(root, "proto/airwave/v1"))
    .filter((f) => f.endsWith(".proto"))
    .sort()
    .map((f) => `airwave/v1/${f}`);
  const python = join(outRoot, "clients/python");
  const go = join(outRoot, "clients/go");
  mkdirSync(python, { recursive: true });
  mkdirSync(go, { recursive: true });
  const protoc = (args) => execFileSync("protoc", ["-I", ".", ...args, ...protos], { cwd: join(root, "proto"), stdio: "inherit" });
  protoc([
    `--python_out=${python}`,
    `--pyi_out=${python}`,
    `--grpc_python_out=${python}`,
    `--plugin=protoc-gen-grpc_python=${which("grpc_python_plugin")}`,
  ]);
  protoc([`--go_out=${go}`, `--go_opt=module=${goModule}`, `--go-grpc_out=${go}`, `--go-grpc_opt=module=${goModule}`]);
}

/** The path of executable `name` on PATH, or undefined. */
function which(name) {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = join(dir || ".", name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problem = clientToolchainProblem();
  if (problem) {
    const message = `clients/ stubs not generated: ${problem}`;
    if (process.env.CI) {
      console.error(message);
      process.exit(1);
    }
    console.log(`${message} (skipped; CI installs the tools)`);
  } else {
    generateClients(root);
    console.log(`generated ${clientStubDirs.join(", ")}`);
  }
}
