/**
 * Starts the bench's child processes (systems under test, the upstream),
 * pinned to a CPU with `taskset -c` when available, and reads their CPU and
 * memory from /proc.
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ChildMemory } from "./sut/child-control.ts";

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Whether `taskset` pins processes on this machine. */
export const pinning = hasTaskset;

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** Extra environment. */
  env?: Record<string, string>;
  /** CPU to pin to (`taskset -c`); undefined: not pinned. */
  cpu?: number | undefined;
  /** Directory for `--cpu-prof` output; undefined: no profile. */
  cpuProfDir?: string | undefined;
  /** Name for logs and the profile file. */
  name: string;
}

/** A running child process of the bench. */
export interface BenchChild {
  readonly name: string;
  readonly pid: number;
  /** The URL the child announced. */
  readonly url: string;
  /** Everything else the child announced with `ready`. */
  readonly info: Record<string, unknown>;
  /** Forces a GC in the child and returns its memory, in bytes. */
  gc(): Promise<ChildMemory>;
  /** Starts the child's CPU profiler (see child-control.ts); resolves once it runs. */
  startProfile(): Promise<void>;
  /** Stops the child's CPU profiler and writes the `.cpuprofile` to `file`; resolves once written. */
  stopProfile(file: string): Promise<void>;
  /** Writes a V8 heap snapshot of the child (after a GC) to `file`; resolves once written. */
  heapSnapshot(file: string): Promise<void>;
  /** Asks the child to exit (writing its CPU profile) and waits; SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** What the child wrote to stdout/stderr (last 64 KB). */
  output(): string;
}

/** Starts `script` (a file under bench/src/sut) with Node, `--expose-gc`, optionally pinned and profiled. Rejects if it exits or is not ready within 30 s. */
export async function startChild(script: string, o: ChildOptions): Promise<BenchChild> {
  const nodeArgs = ["--expose-gc", "--disable-warning=ExperimentalWarning"];
  if (o.cpuProfDir) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=${o.name}.cpuprofile`);
  const file = resolve(import.meta.dirname, "sut", script);
  const [cmd, args] =
    hasTaskset && o.cpu !== undefined
      ? ["taskset", ["-c", String(o.cpu), process.execPath, ...nodeArgs, file]]
      : [process.execPath, [...nodeArgs, file]];
  const child: ChildProcess = spawn(cmd as string, args as string[], {
    env: { ...process.env, AIRWAVE_LOG_LEVEL: "warn", ...o.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-65536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const ready = await new Promise<{ ready: string } & Record<string, unknown>>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${o.name} not ready in 30 s:\n${out}`)), 30_000);
    child.on("message", (m: { ready?: string }) => {
      if (m.ready) {
        clearTimeout(timer);
        ok(m as { ready: string });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${o.name} exited with ${code}:\n${out}`));
    });
  });
  // With taskset the child is `node` exec'd in place, so the pid is node's.
  const pid = child.pid as number;
  const { ready: url, ...info } = ready;
  /** Sends `cmd` and resolves with the `key` of the child's first reply that has it. */
  const ask = <T>(cmd: Record<string, unknown>, key: string): Promise<T> => {
    const reply = new Promise<T>((ok) => {
      const on = (m: Record<string, unknown>) => {
        if (m[key] !== undefined) {
          child.off("message", on);
          ok(m[key] as T);
        }
      };
      child.on("message", on);
    });
    child.send(cmd);
    return reply;
  };
  return {
    name: o.name,
    pid,
    url,
    info,
    output: () => out,
    gc: () => ask<ChildMemory>({ cmd: "gc" }, "mem"),
    startProfile: () => ask<true>({ cmd: "profile-start" }, "profiling").then(() => {}),
    stopProfile: (file) => ask<string>({ cmd: "profile-stop", file }, "profiled").then(() => {}),
    heapSnapshot: (file) => ask<string>({ cmd: "heap-snapshot", file }, "snapshot").then(() => {}),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.send({ cmd: "exit" });
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * CPU time a process has used, in µs: the sum over its threads of
 * `/proc/<pid>/task/<tid>/schedstat` run time (ns precision, user + system).
 * Node's threads live as long as the process, so deltas are exact.
 */
export function cpuUs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread exited meanwhile
      }
    }
  } catch {
    return 0;
  }
  return ns / 1000;
}

/** Resident set size of a process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}
