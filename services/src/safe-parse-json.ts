/** The result of {@link safeParseJson}: the value, or why the text is not JSON. */
export type ParseResult<T> =
  | { readonly success: true; readonly value: T }
  | { readonly success: false; readonly error: string; readonly text: string };

/**
 * Parses JSON text without throwing.
 *
 * @returns `{success: true, value}` for valid JSON, otherwise
 * `{success: false, error, text}` with the parser's message and the text
 * (for logs; never send it to clients).
 * @see https://github.com/vercel/ai/blob/main/packages/provider-utils/src/parse-json.ts
 */
export function safeParseJson(text: string): ParseResult<unknown> {
  try {
    return { success: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { success: false, error: e instanceof Error ? e.message : String(e), text };
  }
}
