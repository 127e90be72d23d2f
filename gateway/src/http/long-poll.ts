import { isTerminal, type StreamEvent } from "@airwave/proto";
import { cursorOf, jsonOf } from "../stream/encoder.js";

/** Most logged events in one long-poll answer. */
export const pollMaxEvents = 1000;
/** Most bytes of event JSON in one long-poll answer (an answer ends after the event that crosses it). */
export const pollMaxBytes = 1 << 20;

/**
 * One long-poll answer, as JSON:
 * `{"streamId":…,"events":[…StreamEvent…],"cursor":"<epoch>:<seq>","done":false}`.
 * `cursor` is what the next poll passes as `?after=`; `done` is true once
 * the terminal event was delivered (in this batch or before): nothing will
 * follow.
 */
export interface PollBatch {
  /** The events in canonical Protobuf JSON, already serialised. */
  readonly eventsJson: readonly string[];
  readonly cursor: string;
  readonly done: boolean;
}

/**
 * Collects one long-poll batch from a watch (`hub.watch`, which yields the
 * `resumed` result first when given a cursor): everything ready at once,
 * else waits up to `waitMs` for the first logged event, then takes what
 * follows without waiting, up to {@link pollMaxEvents} / {@link pollMaxBytes}.
 * Closes the watch before returning (`stop` aborts the signal the watch was
 * given, so a pending wait on the log ends).
 *
 * Rethrows the watch's errors (NOT_FOUND, INVALID_ARGUMENT, …) when
 * nothing was collected yet; after some events, answers those instead.
 *
 * @param after the cursor the poll started after ("" from the start).
 * @param waitMs how long to wait for the first logged event, in ms.
 */
export async function collectBatch(
  events: AsyncGenerator<StreamEvent>,
  after: string,
  waitMs: number,
  stop: AbortController,
): Promise<PollBatch> {
  const out: string[] = [];
  let cursor = after;
  let logged = 0;
  let bytes = 0;
  let done = false;
  let pending: Promise<IteratorResult<StreamEvent>> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), waitMs)));
  try {
    while (logged < pollMaxEvents && bytes < pollMaxBytes) {
      pending ??= events.next();
      // Once something was logged, take only what is ready now: events
      // already in the log arrive within microtasks, before setImmediate.
      const r = await Promise.race([pending, logged > 0 ? nextMacrotask() : timedOut]);
      if (r === "timeout") break;
      pending = undefined;
      if (r.done) {
        done = true;
        break;
      }
      const json = jsonOf(r.value);
      out.push(json);
      bytes += json.length;
      cursor = cursorOf(r.value) ?? cursor;
      if (r.value.seq > 0) logged++;
      if (isTerminal(r.value)) {
        done = true;
        break;
      }
    }
  } catch (err) {
    // A watch that fails after some events (e.g. ABORTED: fell behind the
    // log) answers what it has; the next poll resumes from its cursor and
    // meets the error there if it persists.
    if (out.length === 0 || stop.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    stop.abort();
    await pending?.catch(() => {});
    await events.return(undefined).catch(() => {});
  }
  return { eventsJson: out, cursor, done };
}

/** The JSON text of a batch. */
export function batchJson(streamId: string, b: PollBatch): string {
  return `{"streamId":${JSON.stringify(streamId)},"events":[${b.eventsJson.join(",")}],"cursor":${JSON.stringify(b.cursor)},"done":${b.done}}`;
}

function nextMacrotask(): Promise<"timeout"> {
  return new Promise((resolve) => setImmediate(() => resolve("timeout")));
}
