/**
 * Summarises a V8 heap snapshot (`.heapsnapshot`, as written by
 * `v8.writeHeapSnapshot`): live objects grouped by constructor (or, for
 * strings, code and arrays, by node type), with count and the sum of their
 * own (self) sizes in bytes, largest first. Divided by the number of open streams, it says what
 * each open stream costs and who pays it.
 *
 * `node bench/src/heap-summary.ts <file.heapsnapshot> [top] [streams]`
 * @module
 */
import { readFileSync } from "node:fs";

/** One group of a {@link HeapSummary}. */
export interface HeapGroup {
  /** Constructor name (objects, closures) or `(node type)`. */
  name: string;
  count: number;
  /** Sum of the nodes' self sizes, bytes. */
  selfBytes: number;
}

/** A heap snapshot grouped by constructor. */
export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  groups: HeapGroup[];
}

/** The parts of a `.heapsnapshot` JSON this module reads. */
export interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Node types whose name is the constructor (others are grouped by type). */
const byName = new Set(["object", "closure", "native"]);

/** Groups the snapshot's nodes (see the module doc); `top` groups, largest first. */
export function summariseHeap(snapshot: Snapshot, top = 30): HeapSummary {
  const f = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const groups = new Map<string, HeapGroup>();
  const nodes = snapshot.nodes;
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType] as number] as string;
    const size = nodes[i + iSize] as number;
    total += size;
    const name = byName.has(type)
      ? type === "closure"
        ? `${snapshot.strings[nodes[i + iName] as number]}()`
        : (snapshot.strings[nodes[i + iName] as number] as string)
      : `(${type})`;
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, count: 0, selfBytes: 0 }));
    g.count++;
    g.selfBytes += size;
  }
  const sorted = [...groups.values()].sort((a, b) => b.selfBytes - a.selfBytes).slice(0, top);
  return { totalBytes: total, nodes: nodes.length / width, groups: sorted };
}

/** One group's growth between two snapshots, per stream. */
export interface HeapGrowth {
  name: string;
  /** Objects added per stream. */
  countPerStream: number;
  /** Bytes added per stream. */
  bytesPerStream: number;
}

/**
 * What `streams` open streams added between snapshot `before` and `after`,
 * per stream and group, largest first (`top` groups).
 */
export function heapGrowth(
  before: HeapSummary,
  after: HeapSummary,
  streams: number,
  top = 15,
): { bytesPerStream: number; groups: HeapGrowth[] } {
  const base = new Map(before.groups.map((g) => [g.name, g]));
  const groups = after.groups
    .map((g) => ({
      name: g.name,
      countPerStream: (g.count - (base.get(g.name)?.count ?? 0)) / streams,
      bytesPerStream: (g.selfBytes - (base.get(g.name)?.selfBytes ?? 0)) / streams,
    }))
    .sort((a, b) => b.bytesPerStream - a.bytesPerStream)
    .slice(0, top);
  return { bytesPerStream: (after.totalBytes - before.totalBytes) / streams, groups };
}

/** A {@link heapGrowth} as text: KB per stream, then bytes and objects per stream by group. */
export function formatHeapGrowth(g: { bytesPerStream: number; groups: HeapGrowth[] }): string {
  return [
    `${(g.bytesPerStream / 1024).toFixed(1)} KB per stream`,
    ...g.groups.map((x) => `${x.bytesPerStream.toFixed(0).padStart(7)} B ${x.countPerStream.toFixed(1).padStart(6)}×  ${x.name}`),
  ].join("\n");
}

/** Reads and summarises a `.heapsnapshot` file (every group). */
export function summariseHeapFile(file: string): HeapSummary {
  return summariseHeap(JSON.parse(readFileSync(file, "utf8")) as Snapshot, Number.MAX_SAFE_INTEGER);
}

/** The summary as text; with `perStreams`, also count and bytes per stream. */
export function formatHeap(s: HeapSummary, perStreams?: number): string {
  const lines = [
    `${(s.totalBytes / 2 ** 20).toFixed(1)} MB in ${s.nodes} nodes${perStreams ? `, ${(s.totalBytes / perStreams / 1024).toFixed(1)} KB per stream (${perStreams})` : ""}`,
  ];
  for (const g of s.groups)
    lines.push(
      `${(g.selfBytes / 2 ** 20).toFixed(2).padStart(9)} MB ${String(g.count).padStart(9)}  ${perStreams ? `${(g.selfBytes / perStreams).toFixed(0).padStart(6)} B/stream ${(g.count / perStreams).toFixed(1).padStart(6)}/stream  ` : ""}${g.name.slice(0, 80)}`,
    );
  return lines.join("\n");
}

if (import.meta.main) {
  const [file, top, per] = process.argv.slice(2);
  if (!file) throw new Error("usage: heap-summary.ts <file.heapsnapshot> [top] [streams]");
  const all = summariseHeapFile(file);
  console.log(formatHeap({ ...all, groups: all.groups.slice(0, Number(top ?? 30)) }, per ? Number(per) : undefined));
}
