/**
 * The bench's outputs: result rows, the printed table, the goals check and
 * the SVG chart of the headline comparison.
 * @module
 */
import type { Histogram } from "hdr-histogram-js";

/** Percentiles of a histogram, in ms (3 decimals). */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles of an HDR histogram of µs, in ms. */
export function percentiles(h: Histogram): Percentiles {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** One line of results: one system in one scenario. */
export interface ResultRow {
  scenario: string;
  system: string;
  /** Streams started / ended normally / failed. */
  streams: { started: number; ok: number; failed: number };
  /** Tokens delivered to reading clients. */
  tokens: number;
  /** Delivered tokens per second of wall time. */
  eventsPerS?: number;
  /** Request → first token, ms. */
  ttfe?: Percentiles;
  /** Upstream emit → client receipt, ms. */
  latency?: Percentiles;
  /** ttfe/latency minus the floor's in the same scenario, ms. */
  addedTtfeP50?: number;
  addedLatencyP50?: number;
  addedLatencyP99?: number;
  /** CPU of the system's processes per delivered token, µs, and the capacity it implies (tokens/s on one core). */
  cpuUsPerEvent?: number;
  capacityPerCore?: number;
  /** Free-form extra figures (memory, starts/s, resume checks). */
  extra?: Record<string, number | string>;
  errors?: string[];
  note?: string;
}

/** One goal of the issue, checked against the results. */
export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean | undefined;
  gap: string;
}

const fmt = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? "—" : n.toFixed(d));

/** The printed table. */
export function formatTable(rows: ResultRow[]): string {
  const head = [
    "scenario",
    "system",
    "ok/fail",
    "tokens",
    "ev/s",
    "TTFE p50",
    "p99",
    "lat p50",
    "p99",
    "p99.9",
    "+TTFE",
    "+lat p50",
    "+lat p99",
    "CPU µs/ev",
    "ev/s/core",
    "extra",
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.system,
    `${r.streams.ok}/${r.streams.failed}`,
    String(r.tokens),
    fmt(r.eventsPerS, 0),
    fmt(r.ttfe?.p50),
    fmt(r.ttfe?.p99),
    fmt(r.latency?.p50, 3),
    fmt(r.latency?.p99),
    fmt(r.latency?.p999),
    fmt(r.addedTtfeP50, 3),
    fmt(r.addedLatencyP50, 3),
    fmt(r.addedLatencyP99, 2),
    fmt(r.cpuUsPerEvent, 1),
    fmt(r.capacityPerCore, 0),
    [
      r.extra
        ? Object.entries(r.extra)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")
        : "",
      r.note ?? "",
      r.errors?.length ? `errors: ${r.errors.join(" | ")}` : "",
    ]
      .filter((s) => s !== "")
      .join("; "),
  ]);
  const widths = head.map((h, i) =>
    Math.min(i === head.length - 1 ? 200 : 40, Math.max(h.length, ...body.map((b) => (b[i] as string).length))),
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** The goals, printed as met / not met with the gap. */
export function formatGoals(goals: GoalCheck[]): string {
  return goals
    .map(
      (g) =>
        `${g.met === undefined ? "[ n/a ]" : g.met ? "[ met ]" : "[ NOT ]"} ${g.goal}: ${g.measured}${g.met === false ? ` (gap ${g.gap})` : ""}`,
    )
    .join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** One panel of the chart: a title, a unit and a value per system. */
export interface ChartPanel {
  title: string;
  unit: string;
  bars: { label: string; value: number | undefined; highlight?: boolean }[];
  /** A goal line, drawn dashed. */
  goal?: number;
}

/** Horizontal bar charts, one panel under another, as a standalone SVG document. */
export function barChartSvg(title: string, panels: ChartPanel[]): string {
  const width = 860;
  const labelW = 230;
  const barH = 22;
  const gap = 6;
  let y = 40;
  const parts: string[] = [];
  for (const p of panels) {
    parts.push(`<text x="10" y="${y}" font-size="15" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`);
    y += 12;
    const max = Math.max(p.goal ?? 0, ...p.bars.map((b) => b.value ?? 0)) || 1;
    const scale = (width - labelW - 90) / max;
    for (const b of p.bars) {
      const w = Math.max(1, (b.value ?? 0) * scale);
      parts.push(`<text x="${labelW - 8}" y="${y + barH * 0.7}" font-size="13" text-anchor="end">${esc(b.label)}</text>`);
      if (b.value === undefined) parts.push(`<text x="${labelW + 4}" y="${y + barH * 0.7}" font-size="12" fill="#888">not measured</text>`);
      else {
        parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.highlight ? "#1f6feb" : "#9aa4b2"}"/>`);
        parts.push(`<text x="${labelW + w + 6}" y="${y + barH * 0.7}" font-size="12">${b.value.toFixed(b.value < 10 ? 2 : 1)}</text>`);
      }
      y += barH + gap;
    }
    if (p.goal !== undefined) {
      const gx = labelW + p.goal * scale;
      const top = y - p.bars.length * (barH + gap);
      parts.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${y}" stroke="#d1242f" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${gx + 3}" y="${y + 12}" font-size="11" fill="#d1242f">goal ${p.goal}</text>`);
    }
    y += 36;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="17" font-weight="bold">${esc(title)}</text>
${parts.join("\n")}
</svg>
`;
}
