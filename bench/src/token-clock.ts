/**
 * The bench's clock and token format.
 *
 * Every token the paced upstream emits is `@@` + the emit time as 16 decimal
 * digits of microseconds on the machine's monotonic clock + a space: 19 ASCII
 * characters, identical length for every token. `process.hrtime.bigint()` is
 * CLOCK_MONOTONIC on Linux, one clock domain for every process on the
 * machine, so the harness subtracts the emit time from its own receive time
 * without any clock sync. Because the text travels verbatim through every
 * system (inside JSON, Protobuf binary, SSE, gRPC frames), clients find the
 * tokens by scanning the raw response bytes for `@@`: the same cheap
 * measurement for every protocol, with no decoding in the harness.
 * @module
 */

/** Microseconds on the monotonic clock shared by every process on this machine. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Length of one token's text, in characters (and UTF-8 bytes). */
export const tokenLength = 19;

/** The token text for an emit time in µs: `@@` + 16 digits + space. */
export function tokenText(emitUs: number): string {
  return `@@${String(emitUs).padStart(16, "0")} `;
}

const AT = 0x40;

/**
 * Finds tokens in a byte stream split into arbitrary chunks. `feed` calls
 * `onToken(emitUs)` once for every complete token; a token split across two
 * chunks is found once the second arrives (at most 17 bytes are carried).
 * The bytes right before a token must not be `@` (no framing the bench
 * reads ends so).
 */
export class TokenScanner {
  #carry: Buffer | undefined;
  /** Tokens found so far. */
  count = 0;
  readonly #onToken: (emitUs: number) => void;
  constructor(onToken: (emitUs: number) => void) {
    this.#onToken = onToken;
  }
  /** Scans one chunk. */
  feed(chunk: Uint8Array): void {
    let b = chunk as Buffer;
    if (this.#carry) {
      b = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    const n = b.length;
    let i = b.indexOf(AT);
    while (i !== -1) {
      if (i + 1 >= n) {
        this.#carry = Buffer.from(b.subarray(i));
        return;
      }
      if (b[i + 1] !== AT) {
        i = b.indexOf(AT, i + 1);
        continue;
      }
      if (i + 18 > n) {
        this.#carry = Buffer.from(b.subarray(i));
        return;
      }
      let v = 0;
      for (let k = i + 2; k < i + 18; k++) v = v * 10 + ((b[k] as number) - 48);
      this.count++;
      this.#onToken(v);
      i = b.indexOf(AT, i + 18);
    }
  }
}
