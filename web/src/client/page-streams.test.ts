import { create } from "@bufbuild/protobuf";
import { ev, FinishReason, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createPageStreams, type PageWindow } from "./page-streams.js";
import type { ResumableStream } from "./resume-loop.js";

/** A Storage in memory, counting writes. */
class MemoryStorage {
  readonly data = new Map<string, string>();
  writes = 0;
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.writes++;
    this.data.set(k, v);
  }
  removeItem(k: string): void {
    this.writes++;
    this.data.delete(k);
  }
}

/** A window whose animation frames and pagehide the test fires. */
class FakeWindow implements PageWindow {
  readonly listeners = new Map<string, Set<() => void>>();
  frames: (() => void)[] = [];
  addEventListener(type: string, f: () => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)?.add(f);
  }
  removeEventListener(type: string, f: () => void): void {
    this.listeners.get(type)?.delete(f);
  }
  requestAnimationFrame = (f: () => void): number => this.frames.push(f);
  frame(): void {
    const due = this.frames;
    this.frames = [];
    for (const f of due) f();
  }
  fire(type: string): void {
    for (const f of this.listeners.get(type) ?? []) f();
  }
}

const at = (seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId: "s1", epoch: "E", seq });

/** A stream the test feeds one event (or error) at a time. */
function scripted(streamId: string) {
  const steps: ((StreamEvent | ConnectError) | undefined)[] = [];
  let wake: (() => void) | undefined;
  const stream: ResumableStream = {
    streamId,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (steps.length === 0) await new Promise<void>((r) => (wake = r));
        const s = steps.shift();
        if (s === undefined) return;
        if (s instanceof ConnectError) throw s;
        yield s;
      }
    },
  };
  const push = (s: StreamEvent | ConnectError | undefined) => {
    steps.push(s);
    wake?.();
  };
  return { stream, push };
}

function setup(o: { onPageHide?: "detach" | "cancel"; storage?: MemoryStorage } = {}) {
  const storage = o.storage ?? new MemoryStorage();
  const win = new FakeWindow();
  const beacons: { url: string; data: unknown }[] = [];
  const page = createPageStreams({
    baseUrl: "http://127.0.0.1:8080/",
    storage,
    window: win,
    onPageHide: o.onPageHide,
    sendBeacon: (url, data) => (beacons.push({ url, data }), true),
  });
  return { storage, win, beacons, page };
}
const saved = (s: MemoryStorage) => JSON.parse(s.getItem("airwave.streams") ?? "null") as unknown;

describe("createPageStreams", () => {
  it("saves the stream id and the last cursor at most once per animation frame, and restores them after a reload", async () => {
    const { storage, win, page } = setup();
    const { stream, push } = scripted("s1");
    const it = page.track(stream)[Symbol.asyncIterator]();
    push(at(1, ev.started("m", "p")));
    await it.next();
    push(at(2, ev.textDelta("a")));
    await it.next();
    push(at(3, ev.textDelta("b")));
    await it.next();
    expect(storage.writes).toBe(0);
    win.frame();
    expect(storage.writes).toBe(1);
    expect(saved(storage)).toEqual([{ streamId: "s1", cursor: "E:3" }]);

    const reloaded = setup({ storage }).page;
    expect(reloaded.restore()).toEqual([{ streamId: "s1", cursor: "E:3" }]);
  });

  it("saves no text: the entry stays the same size however long the answer grows", async () => {
    const { storage, win, page } = setup();
    const { stream, push } = scripted("s1");
    const it = page.track(stream)[Symbol.asyncIterator]();
    const piece = "x".repeat(1024);
    const sizes: number[] = [];
    for (let seq = 1; seq <= 2000; seq++) {
      push(at(seq, ev.textDelta(piece)));
      await it.next();
      win.frame();
      sizes.push(storage.getItem("airwave.streams")?.length ?? 0);
    }
    // 2 MB of answer; the entry is the id and a cursor whose digits grow with log10(seq).
    expect(saved(storage)).toEqual([{ streamId: "s1", cursor: "E:2000" }]);
    expect(Math.max(...sizes)).toBeLessThan(50);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBe(3);
  });

  it("records the cursor a not-recovered resume names", async () => {
    const { storage, win, page } = setup();
    const { stream, push } = scripted("s1");
    const it = page.track(stream)[Symbol.asyncIterator]();
    push(
      create(StreamEventSchema, {
        streamId: "s1",
        event: { case: "resumed", value: { outcome: ResumeOutcome.EPOCH_CHANGED, cursor: "F:0" } },
      }),
    );
    await it.next();
    win.fire("pagehide");
    expect(saved(storage)).toEqual([{ streamId: "s1", cursor: "F:0" }]);
  });

  it("removes the entry after the terminal event", async () => {
    const { storage, win, page } = setup();
    const { stream, push } = scripted("s1");
    const it = page.track(stream)[Symbol.asyncIterator]();
    push(at(1, ev.started("m", "p")));
    await it.next();
    win.frame();
    expect(page.restore()).toHaveLength(1);
    push(at(2, ev.completed(FinishReason.STOP)));
    await it.next();
    push(undefined);
    expect((await it.next()).done).toBe(true);
    win.frame();
    expect(page.restore()).toEqual([]);
    expect(storage.getItem("airwave.streams")).toBeNull();
  });

  it("forgets a stream that fails for good, but keeps one stopped locally", async () => {
    const { page } = setup();
    const gone = scripted("gone");
    const stopped = scripted("stopped");
    const a = page.track(gone.stream)[Symbol.asyncIterator]();
    const b = page.track(stopped.stream)[Symbol.asyncIterator]();
    const [na, nb] = [a.next(), b.next()];
    gone.push(new ConnectError("no such stream", Code.NotFound));
    stopped.push(new ConnectError("stopped", Code.Canceled));
    await expect(na).rejects.toMatchObject({ code: Code.NotFound });
    await expect(nb).rejects.toMatchObject({ code: Code.Canceled });
    expect(page.restore()).toEqual([{ streamId: "stopped" }]);
  });

  it('on pagehide with "detach", flushes at once and keeps the entries', async () => {
    const { storage, win, beacons, page } = setup();
    const { stream, push } = scripted("s1");
    const it = page.track(stream)[Symbol.asyncIterator]();
    push(at(4, ev.textDelta("a")));
    await it.next();
    win.fire("pagehide");
    expect(saved(storage)).toEqual([{ streamId: "s1", cursor: "E:4" }]);
    expect(beacons).toEqual([]);
  });

  it('on pagehide with "cancel", sends a cancel beacon per stream and forgets them', async () => {
    const { storage, win, beacons, page } = setup({ onPageHide: "cancel" });
    const { stream, push } = scripted("s/1");
    const it = page.track(stream)[Symbol.asyncIterator]();
    push(at(1, ev.started("m", "p")));
    await it.next();
    win.frame();
    expect(storage.getItem("airwave.streams")).not.toBeNull();
    win.fire("pagehide");
    expect(beacons).toEqual([{ url: "http://127.0.0.1:8080/v1/streams/s%2F1:cancel", data: '{"reason":"pagehide"}' }]);
    expect(storage.getItem("airwave.streams")).toBeNull();
    expect(page.restore()).toEqual([]);
  });

  it("ignores malformed saved data and storage that refuses writes", async () => {
    const storage = new MemoryStorage();
    storage.data.set("airwave.streams", '[{"streamId":"ok"},{"cursor":"E:1"},"x",{"streamId":7}]');
    const { page, win } = setup({ storage });
    expect(page.restore()).toEqual([{ streamId: "ok" }]);
    storage.data.set("airwave.streams", "{not json");
    expect(setup({ storage }).page.restore()).toEqual([]);
    storage.setItem = () => {
      throw new Error("QuotaExceededError");
    };
    page.forget("ok");
    expect(() => win.frame()).not.toThrow();
  });

  it("stops following pagehide after dispose", async () => {
    const { storage, win, page } = setup();
    page.dispose();
    expect([...win.listeners.values()].every((s) => s.size === 0)).toBe(true);
    expect(storage.writes).toBe(0);
  });
});
