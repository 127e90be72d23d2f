/**
 * The control channel every process the bench starts (systems under test and
 * the upstream) shares with the harness, over the Node IPC channel:
 * - the child sends `{ ready: url }` once it listens;
 * - `{ cmd: "gc" }` runs a full GC (the child runs with `--expose-gc`) and
 *   answers `{ mem: { rss, heapUsed, heapTotal, external, arrayBuffers } }` in bytes;
 * - `{ cmd: "profile-start" }` starts the V8 CPU profiler (node:inspector,
 *   sampling every {@link profileIntervalUs} µs) and answers `{ profiling: true }`;
 * - `{ cmd: "profile-stop", file }` stops it, writes the `.cpuprofile` JSON
 *   to `file` and answers `{ profiled: file }`, so a profile covers only the
 *   measured load (not start-up or warm-up);
 * - `{ cmd: "heap-snapshot", file }` forces a GC, writes a V8 heap snapshot
 *   to `file` (`v8.writeHeapSnapshot`) and answers `{ snapshot: file }`;
 * - `{ cmd: "exit" }` exits with 0, so `--cpu-prof` writes its profile.
 * @module
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { writeHeapSnapshot } from "node:v8";

/** Sampling interval of `profile-start`, µs (V8's default for `--cpu-prof` is 1000). */
export const profileIntervalUs = 500;

/** Memory of a process after a forced GC, in bytes (process.memoryUsage()). */
export interface ChildMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Installs the control channel and announces `url`. */
export function reportReady(url: string, extra: Record<string, unknown> = {}): void {
  process.on("message", (m: { cmd?: string }) => {
    if (m.cmd === "gc") {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        gc();
        gc();
      }
      process.send?.({ mem: process.memoryUsage() });
    } else if (m.cmd === "profile-start") {
      void startProfile().then(() => process.send?.({ profiling: true }));
    } else if (m.cmd === "profile-stop") {
      const file = (m as { file?: string }).file as string;
      void stopProfile(file).then(() => process.send?.({ profiled: file }));
    } else if (m.cmd === "heap-snapshot") {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ snapshot: writeHeapSnapshot((m as { file?: string }).file) });
    } else if (m.cmd === "exit") process.exit(0);
  });
  process.on("SIGTERM", () => process.exit(0));
  process.send?.({ ready: url, ...extra });
}

let session: Session | undefined;

async function startProfile(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: profileIntervalUs });
  await session.post("Profiler.start");
}

async function stopProfile(file: string): Promise<void> {
  if (!session) return;
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  session = undefined;
}
