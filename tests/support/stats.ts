/**
 * Nearest-rank percentiles of `values` (any order), e.g. `[50, 99]` →
 * `{50: …, 99: …}`; NaN for an empty list. @private test support
 */
export function percentiles(values: readonly number[], ps: readonly number[]): Record<number, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Record<number, number> = {};
  for (const p of ps) {
    out[p] = sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  }
  return out;
}
