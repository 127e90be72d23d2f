/**
 * Races over one stream (fast-check's scheduler decides every interleaving):
 * upstream events and completion, cancel, watch, resume and disconnect.
 * Whatever the order: exactly one terminal event in the log, every watcher
 * that stays sees it after a gapless, duplicate-free sequence, and nothing
 * is left open.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import {
  CreateStreamRequestSchema,
  ev,
  FinishReason,
  type GenerateRequest,
  InferenceService,
  isTerminal,
  OnDetach,
  ResumeOutcome,
  type StreamEvent,
} from "@airwave/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hub } from "./hub.js";
import { MemoryLogStore } from "../log/memory-log-store.js";
import type { MemoryStreamLog } from "../log/memory-stream-log.js";
import type { StreamLog, StreamLogStore } from "../log/stream-log.js";
import { interactWith } from "../testing/interact-with.js";

type Action = "cancel" | "watch" | "resume" | "disconnect";

/** An inference service whose every event waits for the scheduler. */
function scheduledUpstream(s: fc.Scheduler, deltas: number) {
  const signals: AbortSignal[] = [];
  const transport = createRouterTransport(({ service }) => {
    async function* generate(_req: GenerateRequest, ctx: HandlerContext) {
      signals.push(ctx.signal);
      await s.schedule(Promise.resolve(), "upstream started");
      yield { event: ev.started("m", "fake") };
      for (let i = 0; i < deltas; i++) {
        await s.schedule(Promise.resolve(), `upstream delta ${i}`);
        ctx.signal.throwIfAborted();
        yield { event: ev.textDelta(`t${i} `) };
        if (i === 0) yield { event: ev.usage({ inputTokens: 2, outputTokens: 1 }) };
      }
      await s.schedule(Promise.resolve(), "upstream completed");
      ctx.signal.throwIfAborted();
      yield { event: ev.completed(FinishReason.STOP, { inputTokens: 2, outputTokens: deltas }) };
    }
    service(InferenceService, { generate, interact: (reqs, ctx) => interactWith(generate, reqs, ctx) });
  });
  return { client: createClient(InferenceService, transport), signals };
}

/** A store that remembers the logs it made, to inspect them afterwards. */
function recordingStore(): StreamLogStore & { logs: MemoryStreamLog[] } {
  const inner = new MemoryLogStore({ maxEvents: 10_000, maxBytes: Number.POSITIVE_INFINITY, maxTotalBytes: 0 });
  const logs: MemoryStreamLog[] = [];
  return {
    logs,
    create(id: string): StreamLog {
      const log = inner.create(id) as MemoryStreamLog;
      logs.push(log);
      return log;
    },
    release: (log) => inner.release(log),
    get totalBytes() {
      return inner.totalBytes;
    },
  };
}

interface Watcher {
  ac: AbortController;
  events: StreamEvent[];
  error?: ConnectError;
  left: boolean;
  done: Promise<void>;
}

describe("Hub races (fc.scheduler)", () => {
  it("cancel, watch, resume, disconnect and completion in any order: one terminal event, seen by every watcher; nothing left open", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom<Action>("cancel", "watch", "resume", "disconnect"), { maxLength: 8 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(OnDetach.CONTINUE, OnDetach.CANCEL_AFTER_GRACE, OnDetach.CANCEL),
        fc.constantFrom(0, 1),
        async (s, actions, deltas, onDetach, coalesceLagEvents) => {
          const up = scheduledUpstream(s, deltas);
          const store = recordingStore();
          const hub = new Hub(up.client, {
            detachGraceMs: 60_000,
            streamTtlMs: 60_000,
            logMaxEvents: 10_000,
            maxStreams: 10,
            generationTimeoutMs: 60_000,
            coalesceLagEvents,
            logs: store,
          });
          const streamId = "race-stream-0123456789ab";
          const watchers: Watcher[] = [];

          const watch = (cursor: string) => {
            const w: Watcher = { ac: new AbortController(), events: [], left: false, done: Promise.resolve() };
            w.done = (async () => {
              try {
                for await (const e of hub.watch("alice", streamId, cursor, w.ac.signal)) w.events.push(e);
              } catch (e) {
                w.error = ConnectError.from(e);
              }
            })();
            watchers.push(w);
          };
          const lastCursor = () => {
            for (const w of [...watchers].reverse()) {
              const e = w.events.filter((x) => x.seq > 0).at(-1);
              if (e) return `${e.epoch}:${e.seq}`;
            }
            return "";
          };
          const perform = (a: Action) => {
            switch (a) {
              case "cancel":
                return hub.cancel("alice", streamId).then(
                  () => undefined,
                  (e: unknown) => expect(ConnectError.from(e).code).toBe(Code.NotFound), // refused before start
                );
              case "watch":
                return watch("");
              case "resume":
                return watch(lastCursor());
              case "disconnect": {
                const w = watchers.find((x) => !x.left);
                if (w) {
                  w.left = true;
                  w.ac.abort(new ConnectError("client went away", Code.Canceled));
                }
                return;
              }
            }
          };

          const created = hub.create(
            "alice",
            create(CreateStreamRequestSchema, {
              request: { model: "m", messages: [{ role: 2, parts: [{ part: { case: "text", value: "hi" } }] }] },
              streamId,
              onDetach,
            }),
          );
          created.catch(() => {});
          watch(""); // the creator's own watch
          const done = actions.map((a, i) => s.schedule(Promise.resolve(i), `${a} #${i}`).then(() => perform(a)));
          // Release scheduled steps until everything settled (the upstream
          // schedules its next step only after the previous one went through).
          let pending = true;
          void Promise.all(done)
            .then(async () => {
              for (let n = -1; n !== watchers.length; ) {
                n = watchers.length;
                await Promise.all(watchers.map((w) => w.done));
              }
            })
            .finally(() => (pending = false));
          for (let i = 0; pending || s.count() > 0; i++) {
            if (i > 10_000) throw new Error("did not settle");
            await s.waitAll();
            await new Promise((r) => setImmediate(r));
          }
          const accepted = await created.then(
            () => true,
            (e: unknown) => {
              expect(ConnectError.from(e).code).toBe(Code.Canceled); // cancelled before `started`
              return false;
            },
          );

          // Exactly one terminal event, the last one in the log.
          expect(store.logs).toHaveLength(1);
          const log = store.logs[0]!;
          const all = log.readNow(0, { maxEvents: 1e6, maxBytes: Number.POSITIVE_INFINITY });
          expect(all.filter(isTerminal)).toHaveLength(1);
          expect(isTerminal(all.at(-1)!)).toBe(true);
          expect(all.map((e) => e.seq)).toEqual(all.map((_, k) => k + 1));
          if (!accepted) expect(all.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "NOT_STARTED" } });

          // Every watcher that stayed saw the terminal event, after a gapless,
          // duplicate-free sequence (coalesced deltas carry the text they cover).
          const text = (es: StreamEvent[]) => es.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");
          for (const w of watchers) {
            if (w.left) continue;
            if (w.error) {
              expect(w.error.code).toBe(Code.NotFound); // watched after a refused stream was removed
              continue;
            }
            const logged = w.events.filter((e) => e.seq > 0);
            const notice = w.events[0]?.event.case === "resumed" ? w.events[0].event.value : undefined;
            if (notice) expect(notice.outcome).toBe(ResumeOutcome.RECOVERED);
            const after = notice ? Number(notice.cursor.split(":")[1]) : 0;
            expect(logged.at(-1)).toBe(all.at(-1));
            const seqs = logged.map((e) => e.seq);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
            expect(new Set(seqs).size).toBe(seqs.length);
            expect(text(logged)).toBe(text(all.slice(after)));
          }

          // Nothing left open.
          expect(hub.stats).toMatchObject({ running: 0, watchers: 0 });
          expect(up.signals.every((sig) => sig.aborted || isTerminal(all.at(-1)!))).toBe(true);
          await hub.close();
          expect(hub.stats.timers).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
