/** Bound on an upstream error body read for its message, in bytes. */
export const maxErrorBodyBytes = 64 * 1024;

/**
 * Reads at most `maxBytes` of a response body as UTF-8 text, then cancels
 * the rest; "" when there is no body or reading fails (e.g. the connection
 * broke: the status alone still says what happened).
 */
export async function readErrorBody(body: ReadableStream<Uint8Array> | null, maxBytes = maxErrorBodyBytes): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < maxBytes) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
      n += r.value.byteLength;
    }
  } catch {
    // keep what was read
  } finally {
    void reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}
