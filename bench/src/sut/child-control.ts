/**
 * The control channel every process the bench starts (systems under test and
 * the upstream) shares with the harness, over the Node IPC channel:
 * - the child sends `{ ready: url }` once it listens;
 * - `{ cmd: "gc" }` runs a full GC (the child runs with `--expose-gc`) and
 *   answers `{ mem: { rss, heapUsed, heapTotal, external, arrayBuffers } }` in bytes;
 * - `{ cmd: "exit" }` exits with 0, so `--cpu-prof` writes its profile.
 * @module
 */

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
    } else if (m.cmd === "exit") process.exit(0);
  });
  process.on("SIGTERM", () => process.exit(0));
  process.send?.({ ready: url, ...extra });
}
