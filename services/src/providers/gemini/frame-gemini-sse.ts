import { createParser, type EventSourceParser } from "eventsource-parser";
import { FramingError } from "@airwave/proto";
import { type ParseResult, safeParseJson } from "../../safe-parse-json.js";
import { type GeminiChunk, geminiChunkSchema } from "./gemini-chunk.js";

/** Bound on one buffered line, SSE event or bare JSON block, in characters: 4 MiB. */
export const maxGeminiFrameChars = 4 * 1024 * 1024;

/** SSE lines: a field eventsource-parser knows, or a comment. */
const sseLine = /^(?::|(?:data|event|id|retry)(?::|$))/;
/** An SSE field this framing does not know; ignored, as the SSE spec says. */
const unknownField = /^[A-Za-z][\w-]*:/;

/**
 * Frames a Gemini `alt=sse` body (decoded text) into the chunks it carries:
 * one {@link ParseResult} per SSE event's `data`, in order, parsed as JSON
 * and checked against {@link geminiChunkSchema} (the typed parse stage).
 *
 * Lines are split here (LF, CRLF or CR, also when a CRLF pair is split
 * across chunks) so that text which is not SSE at all is not lost:
 * Google's servers may end a 200 stream with a bare, pretty-printed JSON
 * error object (`{\n  "error": {…}\n}`) without a `data:` prefix, which an
 * SSE parser silently drops. SSE lines (`data:`, `event:`, `id:`, `retry:`,
 * comments, blank lines) go to eventsource-parser's `createParser`, one whole
 * line at a time; other field-shaped lines (`name: value`) are ignored as
 * the SSE spec says; any other run of consecutive lines is a "bare block",
 * passed on as the ParseResult of its text once a blank line, an SSE line
 * or the end of the body ends it (so the mapper sees the error object, or a
 * malformed chunk). An SSE event without its final blank line at the end of
 * the body is dropped, per the SSE spec.
 *
 * Errors the stream with {@link FramingError} when a line, event or bare
 * block exceeds `maxChars`. The result does not depend on how the text is
 * split into chunks.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
export function frameGeminiSse(maxChars = maxGeminiFrameChars): TransformStream<string, ParseResult<GeminiChunk>> {
  let out!: TransformStreamDefaultController<ParseResult<GeminiChunk>>;
  const pending: string[] = [];
  let pendingChars = 0;
  let skipLineFeed = false;
  let bare: string[] = [];
  let bareChars = 0;
  const parser: EventSourceParser = createParser({
    maxBufferSize: maxChars,
    onEvent(m) {
      if (m.data.trim() !== "") out.enqueue(safeParseJson(m.data, geminiChunkSchema));
    },
    onError(e) {
      if ((e as { type?: unknown }).type === "max-buffer-size-exceeded") {
        throw new FramingError(`an SSE event exceeded ${maxChars} characters`, { cause: e });
      }
    },
  });

  const flushBare = () => {
    if (bare.length === 0) return;
    const text = bare.join("\n");
    bare = [];
    bareChars = 0;
    if (text.trim() !== "") out.enqueue(safeParseJson(text, geminiChunkSchema));
  };

  const line = (text: string) => {
    if (text === "" || sseLine.test(text)) {
      flushBare();
      parser.feed(`${text}\n`);
    } else if (unknownField.test(text)) {
      flushBare();
    } else {
      bare.push(text);
      bareChars += text.length + 1;
      if (bareChars > maxChars) throw new FramingError(`a non-SSE block exceeded ${maxChars} characters`);
    }
  };

  return new TransformStream<string, ParseResult<GeminiChunk>>({
    start(controller) {
      out = controller;
    },
    transform(chunk) {
      let start = 0;
      if (skipLineFeed) {
        skipLineFeed = false;
        if (chunk.charCodeAt(0) === 10) start = 1;
      }
      for (let i = start; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        pending.push(chunk.slice(start, i));
        const text = pending.join("");
        pending.length = 0;
        pendingChars = 0;
        if (c === 13) {
          if (i + 1 === chunk.length) skipLineFeed = true;
          else if (chunk.charCodeAt(i + 1) === 10) i++;
        }
        start = i + 1;
        line(text);
      }
      if (start < chunk.length) {
        pending.push(chunk.slice(start));
        pendingChars += chunk.length - start;
        if (pendingChars > maxChars) throw new FramingError(`a line exceeded ${maxChars} characters`);
      }
    },
    flush() {
      if (pending.length > 0) line(pending.join(""));
      flushBare();
    },
  });
}
