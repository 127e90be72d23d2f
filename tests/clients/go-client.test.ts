/**
 * The generated Go client (clients/go: protoc-gen-go and protoc-gen-go-grpc
 * stubs) with grpc-go against a real gateway: the scenarios of
 * ./scenarios.ts, run by tests/clients/go/scenarios, and the example
 * clients/go/example. Builds offline in GOPATH mode against Debian's Go
 * sources in /usr/share/gocode (golang-go, golang-google-grpc-dev,
 * golang-github-golang-protobuf-1-5-dev), once per run into a temporary
 * folder, with the build cache kept in the system's temporary folder
 * (airwave-go-cache); in CI a missing toolchain fails.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { describeClientScenarios, haveToolchain, run } from "./scenarios.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** Debian's Go sources (GOPATH layout). */
const gocode = "/usr/share/gocode";
/** clients/go/go.mod's module. */
const goModule = "github.com/airwave/airwave/clients/go";

function missingToolchain(): string | undefined {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    return "no go on PATH (Debian: apt-get install golang-go)";
  }
  const sources: [string, string][] = [
    ["google.golang.org/grpc", "golang-google-grpc-dev"],
    ["google.golang.org/protobuf", "golang-google-protobuf-dev"],
    ["github.com/golang/protobuf", "golang-github-golang-protobuf-1-5-dev"],
  ];
  for (const [pkg, deb] of sources) {
    if (!existsSync(join(gocode, "src", pkg))) return `no ${pkg} in ${gocode} (Debian: apt-get install ${deb})`;
  }
  return undefined;
}

if (haveToolchain("Go (grpc-go)", missingToolchain())) {
  const work = mkdtempSync(join(tmpdir(), "airwave-go-client-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const bin = (name: string) => join(work, "bin", name);
  describeClientScenarios({
    client: "Go (grpc-go)",
    async prepare() {
      // A GOPATH of the module's files and the scenarios, beside Debian's sources.
      cpSync(join(root, "clients/go"), join(work, "src", goModule), { recursive: true });
      cpSync(join(root, "tests/clients/go/scenarios"), join(work, "src/airwave-client-tests/scenarios"), { recursive: true });
      const env = {
        GO111MODULE: "off",
        GOPATH: `${work}:${gocode}`,
        GOCACHE: join(tmpdir(), "airwave-go-cache"),
        GOFLAGS: "",
        GOPROXY: "off",
      };
      // Both programs in one build (-o a folder: bin/scenarios, bin/example); about 30 s with a cold cache.
      await run("go", ["build", "-o", `${join(work, "bin")}/`, "airwave-client-tests/scenarios", `${goModule}/example`], {
        env,
        cwd: work,
        timeoutMs: 110_000,
      });
    },
    runScenario: (target, scenario) => run(bin("scenarios"), [target, scenario]),
    runExample: (target) => run(bin("example"), ["-addr", target]),
  });
}
