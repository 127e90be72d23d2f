/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per
 * function and per package/file, highest first.
 *
 * Usage: `node bench/src/profile-summary.ts <file.cpuprofile> [top]`
 * @module
 */
import { readFileSync } from "node:fs";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One row of the summary: time in µs (self, or inclusive in {@link ProfileSummary.inclusive}) and its share of the busy time. */
export interface ProfileRow {
  name: string;
  selfUs: number;
  percent: number;
}

/**
 * Self time by function (`name file:line`) and by location (package or
 * file), and total (inclusive: self plus callees) time by function, top
 * `top` of each. Inclusive time of an async function counts only its
 * synchronous stretches (each resumption from a microtask), which is what
 * it costs.
 */
export interface ProfileSummary {
  totalUs: number;
  idleUs: number;
  functions: ProfileRow[];
  locations: ProfileRow[];
  inclusive: ProfileRow[];
}

function location(url: string): string {
  if (url === "") return "(native/V8)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split("/");
    return (rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]) ?? url;
  }
  if (url.startsWith("node:")) return url;
  const m = /\/(gateway|services|proto|bench)\/(?:dist\/|src\/)?(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

/** Reads and summarises a profile. Throws on a file that is not a V8 CPU profile. */
export function summariseProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples)) throw new Error(`${file} is not a V8 CPU profile`);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const loc = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    total += us;
    if (f.functionName === "(idle)") idle += us;
    const name = `${f.functionName || "(anonymous)"} ${location(f.url)}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const l = f.functionName.startsWith("(") ? f.functionName : location(f.url);
    loc.set(l, (loc.get(l) ?? 0) + us);
  }
  const busy = total - idle;
  // Inclusive: every function on a sample's stack (once per stack) gets the sample's time.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frameName = (n: CpuProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${location(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    if (byId.get(id)?.callFrame.functionName === "(idle)") continue;
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const node = byId.get(n);
      if (!node || node.callFrame.functionName === "(root)") continue;
      const k = frameName(node);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => k !== "(idle)" && !k.startsWith("(idle)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfUs: Math.round(us), percent: Math.round((1000 * us) / Math.max(1, busy)) / 10 }));
  return { totalUs: Math.round(total), idleUs: Math.round(idle), functions: rows(fn), locations: rows(loc), inclusive: rows(incl) };
}

/** Formats a summary as text. */
export function formatProfile(s: ProfileSummary): string {
  const lines = [
    `busy ${Math.round((s.totalUs - s.idleUs) / 1000)} ms of ${Math.round(s.totalUs / 1000)} ms sampled (percent of busy time)`,
    "",
    "self time by package/file:",
  ];
  for (const r of s.locations.slice(0, 15))
    lines.push(`  ${r.percent.toFixed(1).padStart(5)} %  ${String(Math.round(r.selfUs / 1000)).padStart(6)} ms  ${r.name}`);
  lines.push("", "self time by function:");
  for (const r of s.functions)
    lines.push(`  ${r.percent.toFixed(1).padStart(5)} %  ${String(Math.round(r.selfUs / 1000)).padStart(6)} ms  ${r.name}`);
  lines.push("", "total (self + callees) time by function:");
  for (const r of s.inclusive)
    lines.push(`  ${r.percent.toFixed(1).padStart(5)} %  ${String(Math.round(r.selfUs / 1000)).padStart(6)} ms  ${r.name}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node bench/src/profile-summary.ts <file.cpuprofile> [top]");
    process.exit(2);
  }
  console.log(formatProfile(summariseProfile(file, Number(process.argv[3] ?? 25))));
}
