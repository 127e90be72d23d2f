/**
 * Thrown by a spec's `decode` stream when the body cannot be framed: a line
 * or event longer than the framer's bound (e.g. an NDJSON line over its
 * buffer), or bytes that are not the framing at all. The runtime
 * (`createHttpProvider`) turns it into a terminal `failed` INTERNAL, reason
 * UPSTREAM_MALFORMED, like eventsource-parser's `ParseError`.
 *
 * Recognised by `instanceof` or by `name === "FramingError"`, so a spec may
 * also define its own error class with that name.
 */
export class FramingError extends Error {
  override readonly name = "FramingError";
  /**
   * @param message - what was wrong, for logs (never shown to clients).
   * @param o.cause - the underlying error, if any.
   */
  constructor(message: string, o: { cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
  }
}
