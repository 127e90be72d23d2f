/**
 * The alert rules and the Grafana dashboard under deploy/ against the
 * metrics the processes really export: `promtool check rules` accepts the
 * rules, `promtool test rules` proves each alert fires on the series that
 * should raise it and not on healthy ones, every dashboard query parses as
 * PromQL (promtool checks them as recording rules), and every `airwave_*`
 * series named in either exists in the gateway's or the inference
 * service's registry (no alert on a typo that never fires). Needs promtool
 * (Debian's prometheus package; `.ci/run` installs it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayMetrics } from "@airwave/gateway";
import { ServicesMetrics } from "@airwave/services";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const rules = join(root, "deploy", "prometheus", "airwave-alerts.yml");
const rulesTest = join(root, "deploy", "prometheus", "airwave-alerts.test.yml");
const dashboard = JSON.parse(readFileSync(join(root, "deploy", "grafana", "airwave-dashboard.json"), "utf8")) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

const installed = !spawnSync("promtool", ["--version"]).error;
if (!installed && process.env.CI) throw new Error("promtool is not installed; CI must check the alert rules (.ci/run installs prometheus)");
if (!installed) console.warn("deploy observability checks skipped: promtool is not installed; with CI set this fails");

function promtool(...args: string[]): string {
  const r = spawnSync("promtool", args, { encoding: "utf8" });
  expect(r.error).toBeUndefined();
  const out = `${r.stdout}${r.stderr}`;
  expect(r.status, out).toBe(0);
  return out;
}

/** Every series name the two registries can export (histograms with their _bucket, _sum and _count). */
async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const r of [new GatewayMetrics().registry, new ServicesMetrics().registry]) {
    for (const m of await r.getMetricsAsJSON()) {
      names.add(m.name);
      if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
    }
  }
  return names;
}

const named = (text: string) => new Set(text.match(/\bairwave_[a-z_]+\b/g) ?? []);

describe.runIf(installed)("deploy/ alert rules and dashboard", () => {
  it("the alert rules pass promtool check rules and their unit tests", () => {
    expect(promtool("check", "rules", rules)).toMatch(/SUCCESS: 7 rules found/);
    expect(promtool("test", "rules", rulesTest)).toMatch(/SUCCESS/);
  });

  it("every dashboard query is valid PromQL", () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr.replaceAll("$__rate_interval", "5m")));
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    const dir = mkdtempSync(join(tmpdir(), "airwave-dashboard-"));
    const file = join(dir, "queries.yml");
    const lines = ["groups:", "  - name: dashboard", "    rules:"];
    for (const [i, e] of exprs.entries()) lines.push(`      - record: dashboard_query_${i}`, `        expr: ${JSON.stringify(e)}`);
    writeFileSync(file, `${lines.join("\n")}\n`);
    expect(promtool("check", "rules", file)).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });

  it("names only series the gateway and the inference service export", async () => {
    const have = await exported();
    const used = new Set([...named(readFileSync(rules, "utf8")), ...named(JSON.stringify(dashboard))]);
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => !have.has(n))).toEqual([]);
  });
});
