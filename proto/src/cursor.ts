import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A position in a stream's log: strictly after `seq` within `epoch`.
 * `seq` 0 means "before the first event".
 */
export interface Cursor {
  /** The log incarnation the position belongs to. */
  readonly epoch: string;
  /** The last seq already received, 0-based (0 = nothing yet). */
  readonly seq: number;
}

const cursorPattern = /^([A-Za-z0-9_-]{1,64}):(0|[1-9][0-9]{0,9})$/;

/**
 * Formats a cursor as its text form `"<epoch>:<seq>"`: the SSE `id:` field,
 * `Last-Event-ID`, `?after=` and `WatchStreamRequest.cursor` all carry it.
 */
export function formatCursor(c: Cursor): string {
  return `${c.epoch}:${c.seq}`;
}

/**
 * Parses the text form `"<epoch>:<seq>"`.
 *
 * Raises a ConnectError with Code.InvalidArgument when the text is not a
 * cursor (wrong shape, seq above 2^32-1).
 */
export function parseCursor(text: string): Cursor {
  const m = cursorPattern.exec(text);
  const seq = m ? Number(m[2]) : NaN;
  if (!m || seq > 0xffffffff) {
    throw new ConnectError(`malformed cursor "${text.slice(0, 80)}": want "<epoch>:<seq>"`, Code.InvalidArgument);
  }
  return { epoch: m[1] as string, seq };
}

/**
 * The cursor a watch resumes after when a request names two: `query` (the
 * URL's `?after=`, fixed for the life of a native EventSource) and `header`
 * (`Last-Event-ID`, which the EventSource updates to the last `id:` it
 * received before it reconnects). The later position wins: within one epoch
 * the higher seq; across epochs the header, since a client learns a new
 * epoch only from an event it received after the URL was made. With only
 * one of them (or neither: `""`), that one.
 *
 * Raises a ConnectError with Code.InvalidArgument when both are given and
 * either is not a cursor (see {@link parseCursor}).
 */
export function laterCursor(query: string | undefined, header: string | undefined): string {
  if (!query) return header ?? "";
  if (!header) return query;
  const q = parseCursor(query);
  const h = parseCursor(header);
  return q.epoch === h.epoch && q.seq > h.seq ? query : header;
}
