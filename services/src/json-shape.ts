/**
 * Small shape helpers shared by every provider mapper: lenient reads of
 * upstream JSON, never throwing.
 */

/** Returns `v` as a record when it is a non-null, non-array object; otherwise undefined. */
export function asRecord(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** True when `text` parses as a JSON value (tool-call arguments are checked with it before they are passed on as complete). */
export function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * An upstream message made safe to show in one line: whitespace runs become
 * one space, and it is cut to at most 300 characters (ending in `…`).
 */
export function oneLine(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > 300 ? `${t.slice(0, 299)}…` : t;
}
