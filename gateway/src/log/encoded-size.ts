import { toBinary } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type StreamEvent, StreamEventSchema, utf8Length } from "@airwave/proto";

/**
 * The exact length in bytes of `toBinary(StreamEventSchema, e)`, the
 * Protobuf binary encoding the log's byte limits count (LogLimits.maxBytes,
 * ReadLimits.maxBytes).
 *
 * Computed without encoding for the events of the hot path: `text_delta`,
 * `reasoning_delta` and `tool_call_delta` with the position fields
 * (stream_id, epoch, seq, agent_id, appended_at, choice_index) set or not,
 * no provider metadata and no unknown fields. Any other event is encoded
 * once to measure it. The rules are those of the Protobuf encoding
 * (https://protobuf.dev/programming-guides/encoding/) as protobuf-es writes
 * proto3 fields: a scalar or string field equal to its default is left
 * out; a string is its UTF-8 bytes (lone surrogates become U+FFFD, 3
 * bytes, as TextEncoder writes them); an `int32`/`int64` below 0 is a
 * 10-byte varint; a set message field, even empty, is written.
 */
export function encodedSize(e: StreamEvent): number {
  if (e.providerMetadata !== undefined || e.$unknown !== undefined) return slow(e);
  const v = e.event;
  let body: number;
  switch (v.case) {
    case "textDelta":
      if (v.value.$unknown !== undefined) return slow(e);
      body = stringField(v.value.text) + uint32Field(v.value.blockIndex);
      break;
    case "reasoningDelta":
      if (v.value.$unknown !== undefined) return slow(e);
      body = stringField(v.value.text) + uint32Field(v.value.blockIndex) + stringField(v.value.signature) + (v.value.redacted ? 2 : 0);
      break;
    case "toolCallDelta":
      if (v.value.$unknown !== undefined) return slow(e);
      body = stringField(v.value.callId) + stringField(v.value.argumentsDelta);
      break;
    default:
      return slow(e);
  }
  let size = 1 + varintSize(body) + body; // fields 11, 12 and 14 have a 1-byte tag
  size += stringField(e.streamId) + stringField(e.epoch) + uint32Field(e.seq) + stringField(e.agentId) + uint32Field(e.choiceIndex);
  if (e.appendedAt !== undefined) {
    const t = timestampSize(e.appendedAt);
    if (t < 0) return slow(e);
    size += 1 + varintSize(t) + t;
  }
  return size;
}

function slow(e: StreamEvent): number {
  return toBinary(StreamEventSchema, e).length;
}

/** A Timestamp's body length, or -1 when it has unknown fields. */
function timestampSize(t: Timestamp): number {
  if (t.$unknown !== undefined) return -1;
  let n = 0;
  if (t.seconds !== 0n) n += 1 + int64Size(t.seconds);
  if (t.nanos !== 0) n += 1 + (t.nanos < 0 ? 10 : varintSize(t.nanos));
  return n;
}

/** A proto3 string field with a 1-byte tag: nothing when empty. */
function stringField(s: string): number {
  if (s === "") return 0;
  const n = utf8Length(s);
  return 1 + varintSize(n) + n;
}

/** A proto3 uint32 field with a 1-byte tag: nothing when 0. */
function uint32Field(v: number): number {
  return v === 0 ? 0 : 1 + varintSize(v);
}

/** Bytes of the varint of a non-negative integer below 2^53. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function int64Size(v: bigint): number {
  if (v < 0n) return 10;
  if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return varintSize(Number(v));
  let n = 1;
  while (v >= 128n) {
    v >>= 7n;
    n++;
  }
  return n;
}
