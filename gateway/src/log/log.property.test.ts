/**
 * The log, resume and the read loop against a simple model (fast-check):
 * random appends, per-stream trimming (events and bytes), store trimming,
 * expiry, new epochs, readers that lag, and resumes at any cursor. Every
 * read is an exact replay after its cursor or an explicit not-recovered
 * result; never a gap, never a duplicate.
 */
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason, parseCursor, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { followLog } from "./follow-log.js";
import { MemoryStreamLog } from "./memory-stream-log.js";
import { resolveResume } from "./resume.js";

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
  log: MemoryStreamLog;
}

async function run(limits: { maxEvents: number; maxBytes: number }, ops: Op[]): Promise<void> {
  let log = new MemoryStreamLog("s", limits);
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
        const e = log.appendNow(o.usage ? ev.usage({ outputTokens: o.text.length }) : ev.textDelta(o.text));
        m.append({ seq: e.seq, kind: e.event.case ?? "", text: textOf(e), size: sizeOf(e) });
        break;
      }
      case "end": {
        if (m.ended) break;
        const e = log.appendNow(ev.completed(FinishReason.STOP));
        m.append({ seq: e.seq, kind: "completed", text: "", size: sizeOf(e) });
        m.ended = true;
        break;
      }
      case "trim":
        log.trimOldest(o.bytes);
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
        log = new MemoryStreamLog("s", limits);
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

describe("the log against a model", () => {
  it("replays exactly after any cursor, or says explicitly why not; readers never see a gap or a duplicate", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ maxEvents: fc.integer({ min: 1, max: 12 }), maxBytes: fc.integer({ min: 60, max: 800 }) }),
        fc.array(op, { maxLength: 80 }),
        run,
      ),
      { numRuns: 300 },
    );
  });
});
