/** One step of a JSON path: an object key or an array index. */
export type JsonPathSegment = string | number;

/**
 * Parses the RFC 9535 JSON paths Gemini puts in `partialArgs[].jsonPath`:
 * `$` followed by `.name`, `[0]`, `['name']` or `["name"]` steps (the
 * normalized-path subset: no wildcards, slices or filters). Returns
 * undefined for anything else.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc9535#name-normalized-paths
 */
export function parseJsonPath(path: string): JsonPathSegment[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const out: JsonPathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === ".") {
      const m = /^[^.[\]'"]+/.exec(path.slice(i + 1));
      if (!m) return undefined;
      out.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === "[") {
      const rest = path.slice(i);
      const index = /^\[(\d+)\]/.exec(rest);
      const quoted = /^\[(['"])((?:\\.|(?!\1)[^\\])*)\1\]/.exec(rest);
      if (index?.[1] !== undefined) {
        out.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted?.[2] !== undefined) {
        out.push(quoted[2].replace(/\\(.)/g, "$1"));
        i += quoted[0].length;
      } else {
        return undefined;
      }
    } else {
      return undefined;
    }
  }
  return out;
}

/** A value written at a path: JSON text as is, or (part of) a string. */
export type PartialLeaf =
  | { readonly kind: "json"; readonly json: string }
  | { readonly kind: "string"; readonly text: string; readonly willContinue: boolean };

/** An open container of the JSON text being written. @private */
interface Frame {
  readonly segment: JsonPathSegment | undefined;
  readonly isArray: boolean;
  count: number;
  readonly keys: Set<string>;
}

/**
 * Writes the arguments of a streamed Gemini function call (`partialArgs`,
 * one value per JSON path, in document order) as JSON text, incrementally:
 * each {@link apply} returns the text it adds, so the fragments of all calls
 * plus {@link finish} concatenate to the whole arguments JSON. Containers
 * are opened when a path enters them and closed when a later path leaves
 * them (Gemini sends no explicit end of an object or array).
 *
 * A path that goes back into a container already closed, skips array
 * indexes, or treats an object as an array (or the reverse) cannot be
 * written incrementally: `apply` returns an `Error`, and the writer must not
 * be used any more (the call is malformed).
 *
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/function-calling#streaming-function-call-arguments
 */
export class PartialArgsWriter {
  private readonly frames: Frame[] = [];
  private openString: JsonPathSegment[] | undefined;
  private written = "";

  /** All text written so far (the raw partial arguments when the call is cut). */
  get text(): string {
    return this.written;
  }

  /** True while a string value waits for its continuation (`willContinue`). */
  get inString(): boolean {
    return this.openString !== undefined;
  }

  /** Writes `leaf` at `path`; returns the text added, or an Error (nothing written). */
  apply(path: readonly JsonPathSegment[], leaf: PartialLeaf): string | Error {
    if (path.length === 0) return new Error("a partial argument must be inside the arguments object");
    let out = "";
    if (this.openString) {
      if (leaf.kind === "string" && samePath(this.openString, path)) {
        out = escapeJsonString(leaf.text) + (leaf.willContinue ? "" : '"');
        if (!leaf.willContinue) this.openString = undefined;
        return this.emit(out);
      }
      out += '"'; // the string ended without saying so: close it
      this.openString = undefined;
    }
    if (this.frames.length === 0) {
      out += "{";
      this.frames.push({ segment: undefined, isArray: false, count: 0, keys: new Set() });
    }
    const open = this.frames.slice(1).map((f) => f.segment);
    const parent = path.slice(0, -1);
    let common = 0;
    while (common < open.length && common < parent.length && open[common] === parent[common]) common++;
    // Check before writing anything, so an Error leaves the text unchanged.
    const check = this.check(path, common);
    if (check) return check;
    while (this.frames.length > common + 1) out += this.frames.pop()?.isArray ? "]" : "}";
    for (let i = common; i < path.length; i++) {
      const seg = path[i] as JsonPathSegment;
      const frame = this.frames[this.frames.length - 1] as Frame;
      if (frame.count > 0) out += ",";
      if (!frame.isArray) {
        out += `${JSON.stringify(seg)}:`;
        frame.keys.add(String(seg));
      }
      frame.count++;
      if (i < path.length - 1) {
        const isArray = typeof path[i + 1] === "number";
        out += isArray ? "[" : "{";
        this.frames.push({ segment: seg, isArray, count: 0, keys: new Set() });
      } else if (leaf.kind === "json") {
        out += leaf.json;
      } else {
        out += `"${escapeJsonString(leaf.text)}${leaf.willContinue ? "" : '"'}`;
        if (leaf.willContinue) this.openString = [...path];
      }
    }
    return this.emit(out);
  }

  /**
   * Closes what is open (a continued string, then every container; `{}` when
   * nothing was written) and returns that closing text. After it, {@link text}
   * is the whole arguments JSON.
   */
  finish(): string {
    let out = "";
    if (this.openString) out += '"';
    this.openString = undefined;
    if (this.frames.length === 0 && this.written === "") out += "{}";
    while (this.frames.length > 0) out += this.frames.pop()?.isArray ? "]" : "}";
    return this.emit(out);
  }

  private check(path: readonly JsonPathSegment[], common: number): Error | undefined {
    // Containers at depth <= common stay open; the one at `common` receives path[common].
    const frame = this.frames[common] as Frame;
    const seg = path[common] as JsonPathSegment;
    if (frame.isArray !== (typeof seg === "number")) return new Error(`path step ${String(seg)} does not fit its container`);
    if (frame.isArray ? seg !== frame.count : frame.keys.has(String(seg))) {
      return new Error(`path step ${String(seg)} goes back into or skips part of the arguments`);
    }
    // Containers opened by this path are new: an array starts at index 0.
    if (path.slice(common + 1).some((s) => typeof s === "number" && s !== 0)) {
      return new Error("a new array must start at index 0");
    }
    return undefined;
  }

  private emit(text: string): string {
    this.written += text;
    return text;
  }
}

/**
 * Flattens a whole `args` object into the leaves {@link PartialArgsWriter}
 * writes, in key order (for a streamed call whose first part already carries
 * `args`). Empty objects and arrays are leaves of their own; a root that is
 * not an object gives no leaves.
 */
export function flattenArgs(value: unknown, path: JsonPathSegment[] = []): { path: JsonPathSegment[]; leaf: PartialLeaf }[] {
  const isContainer = typeof value === "object" && value !== null;
  if (path.length === 0 && (!isContainer || Array.isArray(value))) return [];
  if (!isContainer) return [{ path, leaf: { kind: "json", json: JSON.stringify(value) } }];
  const entries: [JsonPathSegment, unknown][] = Array.isArray(value)
    ? value.map((v, i): [JsonPathSegment, unknown] => [i, v])
    : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 && path.length > 0) return [{ path, leaf: { kind: "json", json: Array.isArray(value) ? "[]" : "{}" } }];
  return entries.flatMap(([k, v]) => flattenArgs(v, [...path, k]));
}

function samePath(a: readonly JsonPathSegment[], b: readonly JsonPathSegment[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** The JSON escape of `s` without the quotes; escaping pieces separately equals escaping the whole. */
function escapeJsonString(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
