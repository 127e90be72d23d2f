/**
 * The generated Python client (clients/python: protoc 3.21 and
 * grpc_python_plugin stubs) with grpcio against a real gateway: the
 * scenarios of ./scenarios.ts, run by tests/clients/python/scenarios.py, and
 * the example clients/python/example.py. Needs a Python 3 with grpcio and
 * protobuf (Debian: python3-grpcio python3-protobuf; `AIRWAVE_PYTHON` names
 * the interpreter, else the first of python3 and /usr/bin/python3 that has
 * them); in CI a missing one fails.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describeClientScenarios, haveToolchain, run } from "./scenarios.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const env = { PYTHONPATH: `${root}clients/python`, PYTHONDONTWRITEBYTECODE: "1" };

/** The first interpreter that imports grpc and google.protobuf. */
function findPython(): string | undefined {
  const candidates = process.env.AIRWAVE_PYTHON ? [process.env.AIRWAVE_PYTHON] : ["python3", "/usr/bin/python3"];
  for (const python of candidates) {
    try {
      execFileSync(python, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
      return python;
    } catch {}
  }
  return undefined;
}

const python = findPython();
const missing = python ? undefined : "no python3 with grpcio and protobuf (Debian: apt-get install python3-grpcio python3-protobuf)";
if (haveToolchain("Python (grpcio)", missing)) {
  describeClientScenarios({
    client: "Python (grpcio)",
    runScenario: (target, scenario) => run(python ?? "", [`${root}tests/clients/python/scenarios.py`, target, scenario], { env }),
    runExample: (target) => run(python ?? "", [`${root}clients/python/example.py`, target], { env }),
  });
}
