import { create, toBinary } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { ev, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodedSize } from "./encoded-size.js";

const want = (e: StreamEvent) => toBinary(StreamEventSchema, e).length;

/** Strings over the whole UTF-16 range: ASCII, 2- and 3-byte chars, pairs, lone surrogates. */
const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
  fc.constantFrom("", "a", "é", "€", "😀", "\ud800", "\udc00x", "x\ud83d", "a".repeat(200)),
);
const u32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 }));
const timestamp: fc.Arbitrary<Timestamp | undefined> = fc.option(
  fc
    .record({
      seconds: fc.oneof(fc.constantFrom(0n, 1n, -1n, 1_763_740_000n, 2n ** 62n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      nanos: fc.oneof(fc.constantFrom(0, 1, 999_999_999, -1), fc.integer({ min: -999_999_999, max: 999_999_999 })),
    })
    .map((t) => create(TimestampSchema, t)),
  { nil: undefined },
);
const payload = fc.oneof(
  fc.record({ text, blockIndex: u32 }).map((value) => ({ case: "textDelta" as const, value })),
  fc
    .record({ text, blockIndex: u32, signature: text, redacted: fc.boolean() })
    .map((value) => ({ case: "reasoningDelta" as const, value })),
  fc.record({ callId: text, argumentsDelta: text }).map((value) => ({ case: "toolCallDelta" as const, value })),
  fc
    .record({ text, progress: fc.option(fc.float({ noNaN: true }), { nil: undefined }) })
    .map((value) => ({ case: "status" as const, value })),
  fc.constant({ case: undefined, value: undefined }),
);
const event = fc
  .record({ streamId: text, epoch: text, seq: u32, agentId: text, choiceIndex: u32, appendedAt: timestamp, event: payload })
  .map(({ appendedAt, ...r }) => {
    const e = create(StreamEventSchema, r as Parameters<typeof create<typeof StreamEventSchema>>[1]);
    if (appendedAt) e.appendedAt = appendedAt;
    return e;
  });

describe("encodedSize", () => {
  it("equals the length of the binary encoding, for any event", () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(encodedSize(e)).toBe(want(e));
      }),
      { numRuns: 3000 },
    );
  });

  it("counts what takes the slow path too: provider metadata, unknown fields, other kinds", () => {
    const withMeta = ev.textDelta("hi");
    withMeta.providerMetadata = { $typeName: "google.protobuf.Struct", fields: {} };
    const withUnknown = ev.textDelta("hi");
    withUnknown.$unknown = [{ no: 99, wireType: 2, data: new Uint8Array([1, 2, 3]) }];
    const innerUnknown = ev.textDelta("hi");
    if (innerUnknown.event.case === "textDelta") innerUnknown.event.value.$unknown = [{ no: 9, wireType: 0, data: new Uint8Array([5]) }];
    for (const e of [withMeta, withUnknown, innerUnknown, ev.started("m", "p"), ev.completed(1), ev.failed(14, "x", "R")]) {
      expect(encodedSize(e)).toBe(want(e));
    }
  });
});
