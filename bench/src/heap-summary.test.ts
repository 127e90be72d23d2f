import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { describe, expect, it } from "vitest";
import { formatHeapGrowth, heapGrowth, type Snapshot, summariseHeap, summariseHeapFile } from "./heap-summary.ts";

/** A snapshot with the given nodes (type, name, self size); fields as V8 writes them. */
function snapshot(nodes: [string, string, number][]): Snapshot {
  const types = ["hidden", "array", "string", "object", "code", "closure"];
  const strings: string[] = [];
  const str = (s: string) => (strings.includes(s) ? strings.indexOf(s) : strings.push(s) - 1);
  return {
    snapshot: { meta: { node_fields: ["type", "name", "id", "self_size", "edge_count"], node_types: [types] } },
    nodes: nodes.flatMap(([t, n, size], i) => [types.indexOf(t), str(n), i + 1, size, 0]),
    strings,
  };
}

class BenchHeapProbe {
  readonly n: number;
  constructor(n: number) {
    this.n = n;
  }
}

describe("heap summary", () => {
  it("groups objects and closures by constructor and the rest by node type, largest first", () => {
    const s = summariseHeap(
      snapshot([
        ["object", "Socket", 300],
        ["object", "Socket", 300],
        ["closure", "onData", 50],
        ["string", "hello", 40],
        ["string", "world", 40],
        ["array", "", 1000],
      ]),
    );
    expect(s.totalBytes).toBe(1730);
    expect(s.nodes).toBe(6);
    expect(s.groups).toEqual([
      { name: "(array)", count: 1, selfBytes: 1000 },
      { name: "Socket", count: 2, selfBytes: 600 },
      { name: "(string)", count: 2, selfBytes: 80 },
      { name: "onData()", count: 1, selfBytes: 50 },
    ]);
  });

  it("says what each stream added between two snapshots", () => {
    const before = summariseHeap(snapshot([["object", "Socket", 300]]));
    const after = summariseHeap(
      snapshot([
        ["object", "Socket", 300],
        ["object", "Socket", 300],
        ["object", "Socket", 300],
        ["object", "Timeout", 100],
      ]),
    );
    const g = heapGrowth(before, after, 2);
    expect(g.bytesPerStream).toBe(350);
    expect(g.groups).toEqual([
      { name: "Socket", countPerStream: 1, bytesPerStream: 300 },
      { name: "Timeout", countPerStream: 0.5, bytesPerStream: 50 },
    ]);
    expect(formatHeapGrowth(g).split("\n")).toEqual(["0.3 KB per stream", "    300 B    1.0×  Socket", "     50 B    0.5×  Timeout"]);
  });

  it("reads a real V8 snapshot: the live instances of a class are counted", () => {
    const keep = Array.from({ length: 1234 }, (_, i) => new BenchHeapProbe(i));
    const file = writeHeapSnapshot(join(tmpdir(), `airwave-heap-${process.pid}.heapsnapshot`));
    try {
      const s = summariseHeapFile(file);
      expect(s.groups.find((g) => g.name === "BenchHeapProbe")?.count).toBe(keep.length);
      expect(s.totalBytes).toBeGreaterThan(0);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
