import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { summariseProfile } from "./profile-summary.ts";

const dir = mkdtempSync(join(tmpdir(), "airwave-prof-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: id },
  children,
});

describe("profile summary", () => {
  it("gives self time per function and package, inclusive time per function, as shares of busy time", () => {
    // (root) → serve (gateway) → write (node:net); (root) → (idle)
    const file = join(dir, "p.cpuprofile");
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          frame(1, "(root)", "", [2, 4]),
          frame(2, "serve", "file:///x/gateway/dist/http/serve-stream.js", [3]),
          frame(3, "write", "node:net"),
          frame(4, "(idle)", ""),
        ],
        samples: [2, 3, 3, 3, 4, 4],
        timeDeltas: [100, 100, 100, 100, 500, 500],
        startTime: 0,
        endTime: 1400,
      }),
    );
    const s = summariseProfile(file);
    expect(s.totalUs).toBe(1400);
    expect(s.idleUs).toBe(1000);
    expect(s.functions.map((r) => [r.name, r.selfUs, r.percent])).toEqual([
      ["write node:net:4", 300, 75],
      ["serve gateway/http/serve-stream.js:3", 100, 25],
    ]);
    expect(s.locations.map((r) => [r.name, r.percent])).toEqual([
      ["node:net", 75],
      ["gateway/http/serve-stream.js", 25],
    ]);
    expect(s.inclusive.map((r) => [r.name, r.percent])).toEqual([
      ["serve gateway/http/serve-stream.js:3", 100],
      ["write node:net:4", 75],
    ]);
  });

  it("refuses a file that is not a CPU profile", () => {
    const file = join(dir, "not.cpuprofile");
    writeFileSync(file, JSON.stringify({ hello: 1 }));
    expect(() => summariseProfile(file)).toThrow(/not a V8 CPU profile/);
  });
});
