import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";

/** Airwave running as its own process (`gateway/dist/main.js`), as users run it. */
export interface AirwaveProcess {
  /** The gateway's base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends SIGTERM and waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the built gateway (with its embedded inference service) in a child
 * process on ephemeral ports, so that measurements of the gateway are not
 * mixed with the test's own clients on one event loop. `env` adds
 * configuration (`AIRWAVE_*`). Requires `npm run build`. @private test support
 */
export async function startAirwaveProcess(env: Record<string, string> = {}): Promise<AirwaveProcess> {
  const main = resolve(import.meta.dirname, "../../gateway/dist/main.js");
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      AIRWAVE_HOST: "127.0.0.1",
      AIRWAVE_PORT: "0",
      AIRWAVE_SERVICES_PORT: "0",
      AIRWAVE_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`Airwave did not start in 20 s:\n${out}`)), 20_000);
    const look = () => {
      const m = /running at (http:\/\/[0-9.:]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on("data", look);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`Airwave exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
  };
}
