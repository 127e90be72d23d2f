import type { Tool } from "@airwave/proto";
import { promptKeywords } from "./compose-text.js";
import type { Rng } from "./prng.js";

/**
 * Builds a tool call's arguments object from the tool's JSON Schema
 * `parameters` and the prompt, as a model would: the required properties
 * (or, when none is required, the first property), each with a value of its
 * schema type taken from the prompt where possible.
 *
 * - `const` wins, then an `enum` member mentioned in the prompt (else a seeded pick);
 * - strings: `date`/`date-time`/`email`/`uri` formats get a fixed example;
 *   query-like names (`query`, `q`, `text`, `prompt`, `input`, `message`,
 *   `search`) get the prompt itself (≤ 200 chars); place- and name-like names
 *   get a capitalised word of the prompt; others a prompt keyword;
 * - numbers and integers: the first number in the prompt, else a seeded one,
 *   within `minimum`/`maximum`; booleans: the prompt's yes/no wording, else seeded;
 * - arrays: one item; objects: recursively; `anyOf`/`oneOf`: the first branch.
 *
 * Pure for a given `rng` state. Nesting deeper than 4 levels yields `null`.
 */
export function buildToolArguments(parameters: JsonObject | undefined, prompt: string, rng: Rng): JsonObject {
  const value = objectFor(parameters ?? {}, { prompt, rng, keywords: promptKeywords(prompt) }, 0);
  return value;
}

/** A JSON Schema object, as `Tool.parameters` holds it (a `google.protobuf.Struct`). */
type JsonObject = NonNullable<Tool["parameters"]>;
type JsonValue = JsonObject[string];

interface Context {
  readonly prompt: string;
  readonly rng: Rng;
  readonly keywords: readonly string[];
}

function objectFor(schema: JsonObject, c: Context, depth: number): JsonObject {
  const props = asObject(schema["properties"]) ?? {};
  const names = Object.keys(props);
  const required = Array.isArray(schema["required"])
    ? schema["required"].filter((n): n is string => typeof n === "string" && n in props)
    : [];
  const chosen = required.length > 0 ? required : names.slice(0, 1);
  const out: JsonObject = {};
  for (const name of chosen) out[name] = valueFor(name, asObject(props[name]) ?? {}, c, depth + 1);
  return out;
}

function valueFor(name: string, schema: JsonObject, c: Context, depth: number): JsonValue {
  if (depth > 4) return null;
  if ("const" in schema) return schema["const"] ?? null;
  const options = schema["enum"];
  if (Array.isArray(options) && options.length > 0) {
    const lower = c.prompt.toLowerCase();
    return options.find((o) => lower.includes(String(o).toLowerCase())) ?? c.rng.pick(options);
  }
  const branches = schema["anyOf"] ?? schema["oneOf"];
  if (Array.isArray(branches) && branches.length > 0) return valueFor(name, asObject(branches[0]) ?? {}, c, depth);
  switch (typeOf(schema)) {
    case "string":
      return stringFor(name, schema, c);
    case "integer":
      return numberFor(schema, c, true);
    case "number":
      return numberFor(schema, c, false);
    case "boolean":
      if (/\b(no|false|disable|disabled|without)\b/i.test(c.prompt)) return false;
      if (/\b(yes|true|enable|enabled)\b/i.test(c.prompt)) return true;
      return c.rng.next() < 0.5;
    case "array":
      return [valueFor(name, asObject(schema["items"]) ?? { type: "string" }, c, depth + 1)];
    case "object":
      return objectFor(schema, c, depth);
    case "null":
      return null;
  }
}

type SchemaType = "string" | "integer" | "number" | "boolean" | "array" | "object" | "null";

function typeOf(schema: JsonObject): SchemaType {
  const t = schema["type"];
  const known = ["string", "integer", "number", "boolean", "array", "object", "null"];
  const first = Array.isArray(t) ? t.find((x) => x !== "null" && known.includes(String(x))) : t;
  if (typeof first === "string" && known.includes(first)) return first as SchemaType;
  return "properties" in schema ? "object" : "string";
}

function stringFor(name: string, schema: JsonObject, c: Context): string {
  switch (schema["format"]) {
    case "date":
      return "2025-06-15";
    case "date-time":
      return "2025-06-15T12:00:00Z";
    case "email":
      return "user@example.com";
    case "uri":
    case "url":
      return `https://example.com/${encodeURIComponent((c.keywords[0] ?? "page").toLowerCase())}`;
  }
  const n = name.toLowerCase();
  if (/^(q|query|question|text|prompt|input|message|search|search_query|content)$/.test(n)) {
    return c.prompt.trim().slice(0, 200) || "example";
  }
  if (/(city|location|place|country|region|address|name|destination|origin|person|company)/.test(n)) {
    const proper = c.prompt.match(/(?<=\s)\p{Lu}[\p{L}'’-]+/u)?.[0];
    if (proper) return proper;
    const k = c.keywords[0];
    return k ? k.charAt(0).toUpperCase() + k.slice(1) : "Example";
  }
  return c.keywords.length > 0 ? c.rng.pick(c.keywords) : "example";
}

function numberFor(schema: JsonObject, c: Context, integer: boolean): number {
  const found = c.prompt.match(integer ? /-?\d+/ : /-?\d+(?:\.\d+)?/)?.[0];
  let n = found !== undefined ? Number(found) : c.rng.int(1, 100);
  const min = schema["minimum"];
  const max = schema["maximum"];
  if (typeof min === "number" && n < min) n = min;
  if (typeof max === "number" && n > max) n = max;
  return integer ? Math.round(n) : n;
}

function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined;
}
