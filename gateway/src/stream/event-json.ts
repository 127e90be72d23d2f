import { type DescField, type DescMessage, ScalarType, toJsonString } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  type ReasoningDelta,
  ReasoningDeltaSchema,
  type StreamEvent,
  StreamEventSchema,
  type TextDelta,
  TextDeltaSchema,
} from "@airwave/proto";

/**
 * The canonical Protobuf JSON of a StreamEvent on one line: exactly
 * `toJsonString(StreamEventSchema, e)` (https://protobuf.dev/programming-guides/json/,
 * as protobuf-es writes it: lowerCamelCase names, fields in field-number
 * order, zero values omitted, Timestamp as RFC 3339 in UTC with 0, 3, 6 or 9
 * fractional digits), but without the reflection on the hot path: the
 * envelope and the per-token kinds (`text_delta`, `reasoning_delta`) are
 * written directly, every other kind with protobuf-es. When the schema has
 * fields this writer does not know (the contract grew), the event carries
 * `provider_metadata`, or a timestamp is out of range, protobuf-es writes
 * the whole event, so the output never differs from it; raises what
 * `toJsonString` raises.
 */
export function eventJson(e: StreamEvent): string {
  return (envelopeKnown && fastEventJson(e)) || toJsonString(StreamEventSchema, e);
}

type Shape = readonly (readonly [number, string, ScalarType | string])[];

/** True when `schema`'s fields outside oneofs are exactly `shape`: [number, localName, scalar type or message type name]. */
function hasShape(schema: DescMessage, shape: Shape, oneofFields = 0): boolean {
  const plain = schema.fields.filter((f) => f.oneof === undefined);
  if (plain.length !== shape.length || schema.fields.length - plain.length !== oneofFields) return false;
  return shape.every(([number, localName, type]) => {
    const f = schema.fields.find((x) => x.number === number);
    return f !== undefined && f.localName === localName && f.jsonName === localName && typeOf(f) === type;
  });
}

function typeOf(f: DescField): ScalarType | string | undefined {
  if (f.fieldKind === "scalar") return f.scalar;
  if (f.fieldKind === "message") return f.message.typeName;
  return undefined;
}

const eventOneof = StreamEventSchema.oneofs.find((o) => o.localName === "event");

/** The JSON key and schema of each `event` case, by its localName. */
const members = new Map<string, { key: string; schema: DescMessage }>();
for (const f of eventOneof?.fields ?? [])
  if (f.fieldKind === "message") members.set(f.localName, { key: `"${f.jsonName}":`, schema: f.message });

/** The fields this writer knows, so that a grown contract falls back to protobuf-es. */
const envelopeKnown =
  eventOneof?.fields.every((f) => f.fieldKind === "message") &&
  hasShape(
    StreamEventSchema,
    [
      [1, "streamId", ScalarType.STRING],
      [2, "epoch", ScalarType.STRING],
      [3, "seq", ScalarType.UINT32],
      [4, "agentId", ScalarType.STRING],
      [5, "appendedAt", "google.protobuf.Timestamp"],
      [6, "choiceIndex", ScalarType.UINT32],
      [7, "providerMetadata", "google.protobuf.Struct"],
    ],
    eventOneof.fields.length,
  ) &&
  Math.min(...eventOneof.fields.map((f) => f.number)) > 7;

const textDeltaKnown = hasShape(TextDeltaSchema, [
  [1, "text", ScalarType.STRING],
  [2, "blockIndex", ScalarType.UINT32],
]);

const reasoningDeltaKnown = hasShape(ReasoningDeltaSchema, [
  [1, "text", ScalarType.STRING],
  [2, "blockIndex", ScalarType.UINT32],
  [3, "signature", ScalarType.STRING],
  [4, "redacted", ScalarType.BOOL],
]);

/** The event's JSON, or undefined to let protobuf-es write it (and raise what it raises). */
function fastEventJson(e: StreamEvent): string | undefined {
  let s = "{";
  if (e.streamId !== "") s += `"streamId":${JSON.stringify(e.streamId)},`;
  if (e.epoch !== "") s += `"epoch":${JSON.stringify(e.epoch)},`;
  if (e.seq !== 0) s += `"seq":${e.seq},`;
  if (e.agentId !== "") s += `"agentId":${JSON.stringify(e.agentId)},`;
  if (e.appendedAt !== undefined) {
    const t = timestampJson(e.appendedAt);
    if (t === undefined) return undefined;
    s += `"appendedAt":"${t}",`;
  }
  if (e.choiceIndex !== 0) s += `"choiceIndex":${e.choiceIndex},`;
  // A Struct goes through protobuf-es's own conversion (JsonObject → Struct → JSON).
  if (e.providerMetadata !== undefined) return undefined;
  const c = e.event;
  if (c.case !== undefined) {
    const m = members.get(c.case);
    if (m === undefined) return undefined;
    s += m.key;
    if (c.case === "textDelta" && textDeltaKnown) s += textDeltaJson(c.value);
    else if (c.case === "reasoningDelta" && reasoningDeltaKnown) s += reasoningDeltaJson(c.value);
    else s += toJsonString(m.schema, c.value);
    return `${s}}`;
  }
  return s.length === 1 ? "{}" : `${s.slice(0, -1)}}`;
}

function textDeltaJson(d: TextDelta): string {
  if (d.blockIndex !== 0)
    return d.text === "" ? `{"blockIndex":${d.blockIndex}}` : `{"text":${JSON.stringify(d.text)},"blockIndex":${d.blockIndex}}`;
  return d.text === "" ? "{}" : `{"text":${JSON.stringify(d.text)}}`;
}

function reasoningDeltaJson(d: ReasoningDelta): string {
  let s = "{";
  if (d.text !== "") s += `"text":${JSON.stringify(d.text)},`;
  if (d.blockIndex !== 0) s += `"blockIndex":${d.blockIndex},`;
  if (d.signature !== "") s += `"signature":${JSON.stringify(d.signature)},`;
  if (d.redacted) s += `"redacted":true,`;
  return s.length === 1 ? "{}" : `${s.slice(0, -1)}}`;
}

/** protobuf-es's range of a JSON Timestamp, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in seconds. */
const minSeconds = -62135596800;
const maxSeconds = 253402300799;

/** The "YYYY-MM-DDTHH:MM:SS" of the last second formatted: events appended in the same second share it. */
let lastSeconds: bigint | undefined;
let lastPrefix = "";

/** RFC 3339 text of `t` as protobuf-es writes it, or undefined when out of range (protobuf-es raises then). */
function timestampJson(t: Timestamp): string | undefined {
  if (t.seconds !== lastSeconds) {
    const seconds = Number(t.seconds);
    if (!(seconds >= minSeconds && seconds <= maxSeconds)) return undefined;
    lastPrefix = new Date(seconds * 1000).toISOString().slice(0, 19);
    lastSeconds = t.seconds;
  }
  const nanos = t.nanos;
  if (nanos === 0) return `${lastPrefix}Z`;
  if (!(nanos > 0 && nanos <= 999_999_999 && Number.isInteger(nanos))) return undefined;
  const digits = String(nanos + 1_000_000_000).slice(1);
  if (nanos % 1_000_000 === 0) return `${lastPrefix}.${digits.slice(0, 3)}Z`;
  if (nanos % 1000 === 0) return `${lastPrefix}.${digits.slice(0, 6)}Z`;
  return `${lastPrefix}.${digits}Z`;
}
