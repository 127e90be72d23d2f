import type { z } from "zod";

/** The result of {@link safeParseJson}: the value, or why the text is not JSON (or not of the schema's shape). */
export type ParseResult<T> =
  | { readonly success: true; readonly value: T }
  | { readonly success: false; readonly error: string; readonly text: string };

/**
 * Parses JSON text without throwing, and checks it against `schema` when one
 * is given: the typed parse stage every provider chunk passes before its
 * mapper sees it (each provider's `*-chunk.ts` holds its schema).
 *
 * @returns `{success: true, value}` for valid JSON of the schema's shape
 * (`value` is the schema's output: defaults and `.catch` fallbacks applied),
 * otherwise `{success: false, error, text}` with the parser's or the
 * schema's message and the text (for logs; never send it to clients).
 * @see https://github.com/vercel/ai/blob/main/packages/provider-utils/src/parse-json.ts
 */
export function safeParseJson(text: string): ParseResult<unknown>;
export function safeParseJson<S extends z.ZodType>(text: string, schema: S): ParseResult<z.output<S>>;
export function safeParseJson(text: string, schema?: z.ZodType): ParseResult<unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    return { success: false, error: e instanceof Error ? e.message : String(e), text };
  }
  if (schema === undefined) return { success: true, value };
  const checked = schema.safeParse(value);
  return checked.success ? { success: true, value: checked.data } : { success: false, error: checked.error.message, text };
}
