import type { StreamEvent } from "@airwave/proto";
import fc from "fast-check";
import { expect } from "vitest";
import { binary } from "./stream-events.js";

/**
 * Test support for feeding response bodies to a decoder in pieces (not part
 * of the build's public surface). @private
 */

/** A decoder under test: the events it yields for a body of these pieces. */
type DecodePieces = (pieces: readonly Uint8Array[]) => Promise<StreamEvent[]>;

/** A body stream that yields `pieces` in order, then closes. */
export function bodyOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of pieces) c.enqueue(p);
      c.close();
    },
  });
}

/** `bytes` cut into pieces of `size` bytes (0 = one piece; an empty body gives no piece). */
export function piecesOf(bytes: Uint8Array, size = 0): Uint8Array[] {
  const step = size > 0 ? size : bytes.byteLength || 1;
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += step) pieces.push(bytes.slice(i, i + step));
  return pieces;
}

/**
 * Property: `decode` gives the same events (byte for byte) for `bytes`
 * whole and for `numRuns` random splits of it into up to `maxCuts + 1`
 * non-empty pieces.
 */
export async function expectSameEventsForAnySplit(
  bytes: Uint8Array,
  decode: DecodePieces,
  o: { numRuns: number; maxCuts: number },
): Promise<void> {
  const whole = binary(await decode([bytes]));
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.byteLength - 1) }), { maxLength: o.maxCuts }),
      async (cuts) => {
        const at = [0, ...cuts.filter((c) => c < bytes.byteLength).sort((a, b) => a - b), bytes.byteLength];
        const pieces = at.slice(1).map((end, i) => bytes.slice(at[i], end));
        expect(binary(await decode(pieces)), `cut at ${at.join(",")}`).toEqual(whole);
      },
    ),
    { numRuns: o.numRuns },
  );
}

/**
 * Checks that `decode` gives the same events (byte for byte) for `bytes`
 * fed whole and in pieces of each of `sizes` bytes; returns the events of
 * the whole body.
 */
export async function expectSameEventsInPieces(
  bytes: Uint8Array,
  decode: (bytes: Uint8Array, size: number) => Promise<StreamEvent[]>,
  sizes: readonly number[] = [1, 7, 64],
): Promise<StreamEvent[]> {
  const [whole = [], ...rest] = await Promise.all([0, ...sizes].map((n) => decode(bytes, n)));
  for (const [i, r] of rest.entries()) expect(binary(r), `pieces of ${sizes[i]} bytes`).toEqual(binary(whole));
  return whole;
}
