import { create } from "@bufbuild/protobuf";
import { type StreamEvent, StreamEventSchema } from "@airwave/proto";

/**
 * Merges runs of adjacent deltas that a lagging watcher reads at once into
 * one event each: same text, fewer frames. Mergeable are
 * `text_delta`s, and `reasoning_delta`s without signature or redaction, of
 * the same agent, choice and block, without provider metadata. A merged
 * event is a new object carrying the concatenated text and the position
 * (seq, append time) of the last delta of its run, so a cursor taken from
 * it is exact. Other events, and the logged objects, are left untouched.
 *
 * @param events consecutive logged events, in seq order.
 */
export function coalesceDeltas(events: readonly StreamEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  let run: StreamEvent[] = [];
  const flush = () => {
    if (run.length === 1) out.push(run[0] as StreamEvent);
    else if (run.length > 1) out.push(merge(run));
    run = [];
  };
  for (const e of events) {
    const prev = run[run.length - 1];
    if (prev && !mergeable(prev, e)) flush();
    if (deltaKey(e) === undefined) {
      flush();
      out.push(e);
    } else run.push(e);
  }
  flush();
  return out;
}

/** A key equal for deltas that may be merged; undefined for any other event. */
function deltaKey(e: StreamEvent): string | undefined {
  if (e.providerMetadata !== undefined) return undefined;
  const ev = e.event;
  if (ev.case === "textDelta") return `t\0${e.agentId}\0${e.choiceIndex}\0${ev.value.blockIndex}`;
  if (ev.case === "reasoningDelta" && ev.value.signature === "" && !ev.value.redacted) {
    return `r\0${e.agentId}\0${e.choiceIndex}\0${ev.value.blockIndex}`;
  }
  return undefined;
}

function mergeable(a: StreamEvent, b: StreamEvent): boolean {
  const k = deltaKey(b);
  return k !== undefined && k === deltaKey(a) && a.epoch === b.epoch && b.seq === a.seq + 1;
}

function merge(run: readonly StreamEvent[]): StreamEvent {
  const last = run[run.length - 1] as StreamEvent;
  const text = run.map((e) => (e.event.case === "textDelta" || e.event.case === "reasoningDelta" ? e.event.value.text : "")).join("");
  const merged = create(StreamEventSchema, {
    streamId: last.streamId,
    epoch: last.epoch,
    seq: last.seq,
    agentId: last.agentId,
    choiceIndex: last.choiceIndex,
  });
  if (last.appendedAt) merged.appendedAt = last.appendedAt;
  if (last.event.case === "textDelta") merged.event = { case: "textDelta", value: { ...last.event.value, text } };
  else if (last.event.case === "reasoningDelta") merged.event = { case: "reasoningDelta", value: { ...last.event.value, text } };
  return merged;
}
