/**
 * The {@link StreamLog} contract as a test suite, run by every
 * implementation with its own factory (`describeStreamLogContract`; the
 * memory log in memory-stream-log.test.ts). Only the interface is used, so
 * a shared implementation (Redis Streams) fills the same suite:
 *
 * - examples: positions, retention by events and bytes, bounded reads, the
 *   terminal event, expiry, waiting;
 * - a model-based property (fast-check): random appends, per-stream
 *   trimming, store trimming (when the factory can trim), expiry, new
 *   epochs, readers that lag, and resumes at any cursor. Every read is an
 *   exact replay after its cursor or an explicit not-recovered result;
 *   never a gap, never a duplicate.
 */
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason, parseCursor, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { followLog } from "./follow-log.js";
import { resolveResume } from "./resume.js";
import type { LogLimits, StreamLog } from "./stream-log.js";

/** How the contract suite makes and drives the logs of one implementation. */
export interface StreamLogFactory {
  /** A new, empty log of stream `streamId` with these per-stream limits. */
  create(streamId: string, limits: LogLimits): StreamLog | Promise<StreamLog>;
  /**
   * Drops the oldest retained events of `log` until at least `bytes` were
   * freed, never the newest event (what the store's total limit does);
   * returns the bytes freed. Absent where the store trims on its own terms:
   * the property then has no store-trimming step.
   */
  trimOldest?(log: StreamLog, bytes: number): number | Promise<number>;
}

type Op =
  | { k: "append"; text: string; usage: boolean }
  | { k: "end" }
  | { k: "trim"; bytes: number }
  | { k: "expire" }
  | { k: "newEpoch" }
  | { k: "startReader"; lag: number }
  | { k: "step"; reader: number; n: number }
  | { k: "resume"; cursor: CursorPick; lag: number };

type CursorPick =
  | { k: "valid"; at: number }
  | { k: "oldEpoch"; at: number }
  | { k: "future"; by: number }
  | { k: "otherEpoch"; seq: number }
  | { k: "garbage"; text: string }
  | { k: "empty" };

const cursorPick: fc.Arbitrary<CursorPick> = fc.oneof(
  fc.record({ k: fc.constant("valid" as const), at: fc.nat() }),
  fc.record({ k: fc.constant("oldEpoch" as const), at: fc.nat() }),
  fc.record({ k: fc.constant("future" as const), by: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ k: fc.constant("otherEpoch" as const), seq: fc.nat({ max: 50 }) }),
  fc.record({ k: fc.constant("garbage" as const), text: fc.oneof(fc.string(), fc.constantFrom("abc", ":1", "e:-1", "e:01", "e:1:2")) }),
  fc.record({ k: fc.constant("empty" as const) }),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ k: fc.constant("append" as const), text: fc.string({ maxLength: 12 }), usage: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("end" as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("trim" as const), bytes: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("expire" as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("newEpoch" as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("startReader" as const), lag: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant("step" as const), reader: fc.nat({ max: 3 }), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("resume" as const), cursor: cursorPick, lag: fc.integer({ min: 0, max: 3 }) }) },
);

/** What the model knows of an event: enough to check a replay. */
interface ModelEvent {
  seq: number;
  kind: string;
  text: string;
  size: number;
}

/** The model: every event ever appended in this epoch, and the retained window's start. */
class Model {
  events: ModelEvent[] = [];
  first = 1;
  ended = false;
  expired = false;
  constructor(readonly limits: { maxEvents: number; maxBytes: number }) {}
  get top() {
    return this.events.length;
  }
  retained() {
    return this.events.slice(this.first - 1);
  }
  bytes() {
    return this.retained().reduce((n, e) => n + e.size, 0);
  }
  append(e: ModelEvent) {
    this.events.push(e);
    while (this.top - this.first + 1 > 1 && (this.top - this.first + 1 > this.limits.maxEvents || this.bytes() > this.limits.maxBytes)) {
      this.first++;
    }
  }
  trim(bytes: number) {
    let freed = 0;
    while (freed < bytes && this.top - this.first + 1 > 1) freed += this.events[this.first++ - 1]!.size;
  }
}

/** An event's size as the log counts it: its binary encoding. */
function sizeOf(e: StreamEvent): number {
  return toBinary(StreamEventSchema, e).length;
}

function textOf(e: StreamEvent): string {
  return e.event.case === "textDelta" ? e.event.value.text : "";
}

/**
 * Checks one event a reader got after `after`: the next event exactly, or
 * (coalesced) one text delta covering a run of text deltas whose texts it
 * concatenates. Returns the new cursor seq.
 */
function checkNext(m: Model, after: number, e: StreamEvent): number {
  expect(e.seq).toBeGreaterThan(after); // never a duplicate
  const covered = m.events.slice(after, e.seq);
  expect(covered.length).toBe(e.seq - after);
  if (e.seq === after + 1) {
    expect(e.event.case).toBe(covered[0]!.kind);
  } else {
    // Coalesced: nothing skipped but text deltas, and their text is all here.
    expect(e.event.case).toBe("textDelta");
    expect(covered.every((c) => c.kind === "textDelta")).toBe(true);
  }
  expect(textOf(e)).toBe(covered.map((c) => c.text).join(""));
  return e.seq;
}

interface Reader {
  it: AsyncGenerator<StreamEvent>;
  after: number;
  log: StreamLog;
}

async function run(factory: StreamLogFactory, limits: LogLimits, ops: Op[]): Promise<void> {
  let log = await factory.create("s", limits);
  let m = new Model(limits);
  const oldEpochs: { epoch: string; top: number }[] = [];
  let readers: Reader[] = [];
  const signal = new AbortController().signal;

  /** Pulls one event from a reader that has something to read (never blocks). */
  async function pull(r: Reader): Promise<"ok" | "done" | "lagged"> {
    try {
      const x = await r.it.next();
      if (x.done) {
        expect(r.after).toBe(m.top); // ends only after the terminal event
        expect(m.ended).toBe(true);
        return "done";
      }
      r.after = checkNext(m, r.after, x.value);
      return "ok";
    } catch (err) {
      // Behind the retention: an explicit, retryable error, never a gap.
      expect(ConnectError.from(err).code).toBe(Code.Aborted);
      expect(m.first).toBeGreaterThan(r.after + 1);
      return "lagged";
    }
  }

  const canPull = (r: Reader) => r.after < m.top || m.ended;

  for (const o of ops) {
    switch (o.k) {
      case "append": {
        if (m.ended) break;
        const e = await log.append(o.usage ? ev.usage({ outputTokens: o.text.length }) : ev.textDelta(o.text));
        m.append({ seq: e.seq, kind: e.event.case ?? "", text: textOf(e), size: sizeOf(e) });
        break;
      }
      case "end": {
        if (m.ended) break;
        const e = await log.append(ev.completed(FinishReason.STOP));
        m.append({ seq: e.seq, kind: "completed", text: "", size: sizeOf(e) });
        m.ended = true;
        break;
      }
      case "trim":
        if (!factory.trimOldest) break;
        await factory.trimOldest(log, o.bytes);
        m.trim(o.bytes);
        break;
      case "expire":
        log.expire();
        if (m.ended && !m.expired) {
          m.expired = true;
          m.first = m.top;
        }
        break;
      case "newEpoch":
        oldEpochs.push({ epoch: log.epoch, top: m.top });
        log = await factory.create("s", limits);
        m = new Model(limits);
        for (const r of readers) await r.it.return(undefined);
        readers = [];
        break;
      case "startReader":
        readers.push({ it: followLog(log, m.top, { signal, coalesceLagEvents: o.lag }), after: m.top, log });
        break;
      case "step": {
        const r = readers[o.reader % Math.max(1, readers.length)];
        if (!r) break;
        for (let i = 0; i < o.n && canPull(r); i++) {
          const res = await pull(r);
          if (res !== "ok") {
            readers = readers.filter((x) => x !== r);
            break;
          }
        }
        break;
      }
      case "resume":
        await resume(o.cursor, o.lag);
        break;
    }
    // The log's retention is the model's.
    expect(log.top).toBe(m.top);
    expect(log.first).toBe(Math.min(m.first, m.top + 1));
    expect(log.bytes).toBe(m.bytes());
  }
  for (const r of readers) await r.it.return(undefined);

  async function resume(pick: CursorPick, lag: number): Promise<void> {
    let text: string;
    switch (pick.k) {
      case "valid":
        text = `${log.epoch}:${pick.at % (m.top + 1)}`;
        break;
      case "oldEpoch": {
        const old = oldEpochs[pick.at % Math.max(1, oldEpochs.length)];
        text = old ? `${old.epoch}:${pick.at % (old.top + 1)}` : `${log.epoch}:0`;
        break;
      }
      case "future":
        text = `${log.epoch}:${m.top + pick.by}`;
        break;
      case "otherEpoch":
        text = `zzzOtherEpoch:${pick.seq}`;
        break;
      case "garbage":
        text = pick.text;
        break;
      case "empty":
        text = "";
        break;
    }
    let parsed: { epoch: string; seq: number } | undefined;
    if (text !== "") {
      try {
        parsed = parseCursor(text);
      } catch {
        // A malformed cursor is an INVALID_ARGUMENT error, not a resume.
        expect(() => resolveResume(log, text)).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
        return;
      }
    }
    const start = resolveResume(log, text);
    const oldest = Math.min(m.first, m.top + 1) - 1;
    const exact = parsed === undefined ? oldest === 0 : parsed.epoch === log.epoch && parsed.seq <= m.top && parsed.seq >= oldest;
    if (exact) {
      expect(start.after).toBe(parsed?.seq ?? 0);
      if (parsed) expect(start.notice).toEqual({ outcome: ResumeOutcome.RECOVERED, cursor: text });
      else expect(start.notice).toBeUndefined();
    } else {
      expect(start.after).toBe(oldest);
      expect(start.notice?.outcome).not.toBe(ResumeOutcome.RECOVERED);
      expect(start.notice?.cursor).toBe(`${log.epoch}:${oldest}`);
      const want =
        parsed && parsed.epoch !== log.epoch
          ? ResumeOutcome.EPOCH_CHANGED
          : parsed && parsed.seq > m.top
            ? ResumeOutcome.UNKNOWN_CURSOR
            : m.expired
              ? ResumeOutcome.EXPIRED
              : ResumeOutcome.TRIMMED;
      expect(start.notice?.outcome).toBe(want);
    }
    // Replay everything available now: consecutive from the start, ending
    // at the top (or after the terminal event).
    const r: Reader = { it: followLog(log, start.after, { signal, coalesceLagEvents: lag }), after: start.after, log };
    while (canPull(r)) if ((await pull(r)) !== "ok") break;
    expect(r.after).toBe(m.top);
    await r.it.return(undefined);
  }
}

const all = { maxEvents: 1000, maxBytes: Number.POSITIVE_INFINITY };
const seqs = (es: StreamEvent[]) => es.map((e) => e.seq);

/** Registers the contract suite for one implementation. */
export function describeStreamLogContract(name: string, factory: StreamLogFactory): void {
  describe(`${name}: the StreamLog contract`, () => {
    const make = async (limits: LogLimits) => factory.create(`s-${crypto.randomUUID()}`, limits);

    it("stamps stream id, epoch, a gapless seq from 1 and the append time", async () => {
      const log = await make(all);
      expect([log.top, log.first, log.bytes, log.ended]).toEqual([0, 1, 0, false]);
      const a = await log.append(ev.started("m", "p"));
      const b = await log.append(ev.textDelta("a"));
      expect(a).toMatchObject({ streamId: log.streamId, epoch: log.epoch, seq: 1 });
      expect(b).toMatchObject({ streamId: log.streamId, epoch: log.epoch, seq: 2 });
      expect(a.appendedAt).toBeDefined();
      expect(log.epoch).not.toBe("");
      expect(seqs(await log.read(0, all))).toEqual([1, 2]);
      expect(await log.read(2, all)).toEqual([]);
      expect(await log.read(99, all)).toEqual([]);
    });

    it("keeps the newest maxEvents; a trimmed cursor reads from the oldest kept", async () => {
      const log = await make({ maxEvents: 3, maxBytes: Number.POSITIVE_INFINITY });
      for (let i = 1; i <= 20; i++) {
        await log.append(ev.textDelta(`t${i}`));
        const kept = Math.min(i, 3);
        expect([log.top, log.first]).toEqual([i, i - kept + 1]);
        expect(seqs(await log.read(0, all))).toEqual(Array.from({ length: kept }, (_, k) => i - kept + 1 + k));
      }
    });

    it("trims by bytes of the binary encoding, but always keeps the newest event", async () => {
      const log = await make({ maxEvents: 1000, maxBytes: 200 });
      const sizes: number[] = [];
      for (let i = 0; i < 30; i++) sizes.push(toBinary(StreamEventSchema, await log.append(ev.textDelta("x".repeat(i)))).length);
      const kept = await log.read(0, all);
      expect(kept.at(-1)?.seq).toBe(30);
      expect(log.bytes).toBe(kept.reduce((n, e) => n + (sizes[e.seq - 1] ?? 0), 0));
      expect(log.bytes).toBeLessThanOrEqual(200);
      // One more event would not have fitted: the trimming is not eager.
      expect(log.bytes + (sizes[kept[0]!.seq - 2] ?? 0)).toBeGreaterThan(200);
      const huge = await log.append(ev.textDelta("y".repeat(1000)));
      expect(seqs(await log.read(0, all))).toEqual([huge.seq]);
      expect(log.bytes).toBeGreaterThan(200);
    });

    it("bounds a read by events and bytes, but returns at least one event", async () => {
      const log = await make({ maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY });
      for (let i = 0; i < 10; i++) await log.append(ev.textDelta("abcdefghij"));
      expect(seqs(await log.read(2, { maxEvents: 3, maxBytes: 1e9 }))).toEqual([3, 4, 5]);
      const one = toBinary(StreamEventSchema, (await log.read(0, all))[0]!).length;
      expect(seqs(await log.read(0, { maxEvents: 100, maxBytes: one * 2 }))).toEqual([1, 2]);
      expect(seqs(await log.read(0, { maxEvents: 100, maxBytes: 1 }))).toEqual([1]);
    });

    it("ends at the terminal event, which is kept through trimming; appending after it is FAILED_PRECONDITION", async () => {
      const log = await make({ maxEvents: 2, maxBytes: Number.POSITIVE_INFINITY });
      await log.append(ev.started("m", "p"));
      await log.append(ev.textDelta("a"));
      const end = await log.append(ev.completed(FinishReason.STOP));
      expect(log.ended).toBe(true);
      expect(log.terminal?.seq).toBe(end.seq);
      await expect(log.append(ev.textDelta("late"))).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.FailedPrecondition);
      expect(log.top).toBe(3);
      if (factory.trimOldest) {
        await factory.trimOldest(log, Number.POSITIVE_INFINITY);
        expect(seqs(await log.read(0, all))).toEqual([3]);
      }
    });

    it("expire drops everything but the terminal event, and only once the stream ended", async () => {
      const log = await make(all);
      await log.append(ev.textDelta("a"));
      log.expire();
      expect(log.expired).toBe(false);
      expect(seqs(await log.read(0, all))).toEqual([1]);
      await log.append(ev.textDelta("b"));
      await log.append(ev.completed(FinishReason.STOP));
      log.expire();
      expect(log.expired).toBe(true);
      expect(log.first).toBe(3);
      expect(seqs(await log.read(0, all))).toEqual([3]);
      expect(log.terminal?.seq).toBe(3);
    });

    it("wakes waiters on an append and on the end; rejects them with the signal's reason", async () => {
      const log = await make(all);
      const woken = log.wait(0, new AbortController().signal);
      await log.append(ev.textDelta("a"));
      await expect(woken).resolves.toBeUndefined();
      // An event already there: resolves at once.
      await expect(log.wait(0, new AbortController().signal)).resolves.toBeUndefined();
      const ac = new AbortController();
      const waiting = log.wait(1, ac.signal);
      ac.abort(new Error("left"));
      await expect(waiting).rejects.toThrow("left");
      const atEnd = log.wait(1, new AbortController().signal);
      await log.append(ev.completed(FinishReason.STOP));
      await expect(atEnd).resolves.toBeUndefined();
    });

    it("replays exactly after any cursor, or says explicitly why not; readers never see a gap or a duplicate (model-based)", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({ maxEvents: fc.integer({ min: 1, max: 12 }), maxBytes: fc.integer({ min: 60, max: 800 }) }),
          fc.array(op, { maxLength: 80 }),
          (limits, ops) => run(factory, limits, ops),
        ),
        { numRuns: 300 },
      );
    });
  });
}
