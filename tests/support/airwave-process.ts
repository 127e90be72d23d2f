import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { unlimitedOwnersEnv, unmeasuredLoopEnv } from "./airwave.js";

/** Airwave running as its own process (`npm start`'s `start.ts`, or `gateway/dist/main.js` beside `services/dist/main.js`), as users run it. */
export interface AirwaveProcess {
  /** The gateway's base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The gateway's process. */
  readonly child: ChildProcess;
  /** The inference service's process, when it runs apart from the gateway. */
  readonly inference: ChildProcess | undefined;
  /** Everything the processes wrote to stdout and stderr so far. */
  output(): string;
  /** Sends SIGTERM to the gateway (then the inference service) and waits for the exits; returns the gateway's exit code. */
  stop(): Promise<number | null>;
}

/** Options of {@link startAirwaveProcess}. */
export interface AirwaveProcessOptions {
  /** Run the inference service in its own process (`services/dist/main.js`) and the gateway alone (`gateway/dist/main.js`), instead of both in one (`start.ts`). */
  readonly separateInference?: boolean;
  /** Start only a gateway (`gateway/dist/main.js`), on this running inference service (several replicas share one). */
  readonly inferenceUrl?: string;
}

/** The inference service as its own process (`services/dist/main.js`). */
export interface InferenceProcess {
  /** Its gRPC base URL. */
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Starts the built inference service in a child process on an ephemeral
 * port; `env` adds configuration. Requires `npm run build`.
 * @private test support
 */
export async function startInferenceProcess(env: Record<string, string> = {}): Promise<InferenceProcess> {
  let out = "";
  const common = { ...process.env, AIRWAVE_SERVICES_HOST: "127.0.0.1", AIRWAVE_SERVICES_PORT: "0", AIRWAVE_LOG_LEVEL: "warn", ...env };
  const p = await spawnUntil("../../services/dist/main.js", common, /listening on (http:\/\/[0-9.:]+)/, (s) => (out += s));
  return { url: p.url, child: p.child, output: () => out, stop: () => stop(p.child) };
}

/**
 * Starts the built gateway (with its embedded inference service, or a
 * separate one) in child processes on ephemeral ports, so that measurements
 * of the gateway are not mixed with the test's own clients on one event
 * loop. `env` adds configuration (`AIRWAVE_*`); the per-owner limits and the
 * event-loop signals of admission control are off unless `env` sets them.
 * Requires `npm run build`.
 * @private test support
 */
export async function startAirwaveProcess(env: Record<string, string> = {}, o: AirwaveProcessOptions = {}): Promise<AirwaveProcess> {
  const common = {
    ...process.env,
    AIRWAVE_HOST: "127.0.0.1",
    AIRWAVE_SERVICES_HOST: "127.0.0.1",
    AIRWAVE_SERVICES_PORT: "0",
    AIRWAVE_LOG_LEVEL: "warn",
    ...unlimitedOwnersEnv,
    ...unmeasuredLoopEnv,
    ...env,
  };
  let out = "";
  let inference: { child: ChildProcess; url: string } | undefined;
  if (o.inferenceUrl) {
    const gateway = await spawnUntil(
      "../../gateway/dist/main.js",
      { AIRWAVE_PORT: "0", ...common, AIRWAVE_INFERENCE_URL: o.inferenceUrl },
      /running at (http:\/\/[0-9.:]+)/,
      (s) => (out += s),
    );
    return { url: gateway.url, child: gateway.child, inference: undefined, output: () => out, stop: () => stop(gateway.child) };
  }
  if (o.separateInference) {
    inference = await spawnUntil("../../services/dist/main.js", common, /listening on (http:\/\/[0-9.:]+)/, (s) => (out += s));
  }
  const gateway = await spawnUntil(
    inference ? "../../gateway/dist/main.js" : "../../start.ts",
    { ...common, AIRWAVE_PORT: "0", ...(inference ? { AIRWAVE_INFERENCE_URL: inference.url } : {}) },
    /running at (http:\/\/[0-9.:]+)/,
    (s) => (out += s),
  );
  return {
    url: gateway.url,
    child: gateway.child,
    inference: inference?.child,
    output: () => out,
    async stop() {
      const code = await stop(gateway.child);
      if (inference) await stop(inference.child);
      return code;
    },
  };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  const [code] = (await once(child, "exit")) as [number | null];
  return code;
}

/** Spawns a Node script and resolves once its output matches `pattern` (group 1 is the URL). */
async function spawnUntil(
  script: string,
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
  log: (s: string) => void,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, script)], { env, stdio: ["ignore", "pipe", "pipe"] });
  let seen = "";
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start in 20 s:\n${seen}`)), 20_000);
    const onData = (b: Buffer) => {
      const s = b.toString();
      seen += s;
      log(s);
      const m = pattern.exec(seen);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code}:\n${seen}`));
    });
  });
  return { child, url };
}
