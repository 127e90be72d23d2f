/**
 * deploy/docker, for real (`npm run test:deploy`, run by `.ci/run`): makes
 * the base image where it cannot be pulled (scripts/docker-base-image.sh),
 * builds both images with `docker build --network host`, and runs the
 * inference service and two gateway replicas as containers on the host's
 * Redis, with the restrictions of the Kubernetes manifests (read-only root
 * filesystem, every capability dropped, no new privileges, uid 1000). A
 * stream created on one gateway is resumed exactly on the other, a cancel on
 * the other ends it at the owner, and `docker stop` of the owner mid-stream
 * drains it: the watcher on the other replica gets every event to
 * `completed`. Prints the image sizes and the build times.
 *
 * Needs root and Debian's docker.io and debootstrap (`.ci/run` installs
 * them); starts `dockerd --storage-driver=vfs --iptables=false
 * --bridge=none` when no daemon answers, and stops the one it started.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FinishReason, ResumeOutcome, type StreamEvent } from "@airwave/proto";
import { readSseEvents } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody } from "../support/airwave.js";
import { freePort } from "../support/replica-infra.js";

const root = resolve(import.meta.dirname, "../..");
const base = "node:24-bookworm-slim";
const run = randomUUID().slice(0, 8);
const images = { gateway: `airwave-gateway:test-${run}`, inference: `airwave-inference:test-${run}` };
const redisUrl = process.env.AIRWAVE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const outputTokens = 150;
const tokensPerS = 50;

/** Runs `cmd args`; resolves with stdout, rejects with the command and its stderr. */
function sh(cmd: string, args: string[], o: { cwd?: string } = {}): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { cwd: o.cwd ?? root, maxBuffer: 64 << 20, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-4000)}`));
      else ok(stdout);
    });
  });
}
const docker = (...args: string[]) => sh("docker", args);
const daemonUp = () =>
  docker("info", "--format", "{{.ServerVersion}}").then(
    () => true,
    () => false,
  );

/** Polls `check` every 100 ms until it is true; throws `what` after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dockerd: ChildProcess | undefined;
const containers: string[] = [];
const figures: string[] = [];

beforeAll(async () => {
  if (!(await daemonUp())) {
    if (process.getuid?.() !== 0)
      throw new Error("no Docker daemon answers, and starting dockerd needs root (apt-get install -y docker.io)");
    const log = join(mkdtempSync(join(tmpdir(), "airwave-dockerd-")), "dockerd.log");
    dockerd = spawn("dockerd", ["--storage-driver=vfs", "--iptables=false", "--bridge=none"], {
      stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
    });
    dockerd.on("error", () => {}); // reported by the wait below
    await until(`dockerd (log: ${log})`, 60_000, daemonUp);
  }
  if (!(await docker("images", "-q", base)).trim()) {
    const t = performance.now();
    await sh("bash", ["scripts/docker-base-image.sh", base]);
    figures.push(`base image made in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  for (const [name, tag] of Object.entries(images)) {
    const t = performance.now();
    await docker("build", "--network", "host", "-q", "-f", `deploy/docker/${name}.Dockerfile`, "-t", tag, ".");
    const bytes = Number(await docker("image", "inspect", "-f", "{{.Size}}", tag));
    figures.push(`${name} image: ${(bytes / 1e6).toFixed(0)} MB, built in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  figures.push(`base image: ${(Number(await docker("image", "inspect", "-f", "{{.Size}}", base)) / 1e6).toFixed(0)} MB`);
}, 1_800_000);

afterAll(async () => {
  if (containers.length) await docker("rm", "-f", ...containers).catch(() => {});
  await docker("rmi", images.gateway, images.inference).catch(() => {});
  console.log(`deploy/docker:\n  ${figures.join("\n  ")}`);
  if (dockerd) {
    dockerd.kill("SIGTERM");
    if (dockerd.exitCode === null) await once(dockerd, "exit");
  }
}, 120_000);

/** `docker run -d` with the manifests' restrictions, on the host's network; the container id. */
async function start(image: string, env: Record<string, string>): Promise<string> {
  const flags = ["--network", "host", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
  const id = (await docker("run", "-d", ...flags, ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), image)).trim();
  containers.push(id);
  return id;
}
const health = (id: string) => docker("inspect", "-f", "{{.State.Health.Status}}", id).then((s) => s.trim());

/** POST /v1/streams (SSE) on `url`. */
const create = (url: string, tokens = outputTokens) =>
  fetch(`${url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(createBody("deploy test", {}, { metadata: { "simulator.output_tokens": String(tokens) } })),
  });
/** GET the events of `id` on `url` after `cursor` (Last-Event-ID). */
const events = (url: string, id: string, cursor?: string) =>
  fetch(`${url}/v1/streams/${id}/events`, { headers: cursor ? { "last-event-id": cursor } : {} });
const cursorOf = (e: StreamEvent) => `${e.epoch}:${e.seq}`;
const isEnd = (e: StreamEvent) => e.event.case === "completed" || e.event.case === "failed";
const text = (es: StreamEvent[]) => es.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");

/** Reads an SSE body until the terminal event, or `stopAfterText` text deltas. */
async function read(body: ReadableStream<Uint8Array>, stopAfterText = Number.POSITIVE_INFINITY): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of readSseEvents(body)) {
    out.push(e);
    if (isEnd(e) || out.filter((x) => x.event.case === "textDelta").length === stopAfterText) break;
  }
  return out;
}

/** The events after `after` must be exactly the seqs that follow it: 0 lost, 0 duplicated. */
function expectExactAfter(after: StreamEvent, rest: StreamEvent[]): void {
  expect(rest[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.RECOVERED, cursor: cursorOf(after) } });
  const seqs = rest.slice(1).map((e) => e.seq);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => after.seq + 1 + i));
}

describe("deploy/docker images", () => {
  let inferencePort: number;
  const gateways: { id: string; url: string }[] = [];

  it("run as uid 1000 with a read-only root filesystem and become healthy", { timeout: 120_000 }, async () => {
    for (const image of Object.values(images)) expect((await docker("run", "--rm", image, "id", "-u")).trim()).toBe("1000");
    inferencePort = await freePort();
    const inference = await start(images.inference, {
      AIRWAVE_SERVICES_HOST: "127.0.0.1",
      AIRWAVE_SERVICES_PORT: String(inferencePort),
      AIRWAVE_SERVICES_METRICS_PORT: String(await freePort()),
      AIRWAVE_SIM_TTFT_MS: "5",
      AIRWAVE_SIM_TOKENS_PER_S: String(tokensPerS),
    });
    const prefix = `test-deploy-${run}:`;
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const id = await start(images.gateway, {
        AIRWAVE_HOST: "127.0.0.1",
        AIRWAVE_PORT: String(port),
        AIRWAVE_REDIS_URL: redisUrl,
        AIRWAVE_REDIS_PREFIX: prefix,
        AIRWAVE_INFERENCE_URL: `http://127.0.0.1:${inferencePort}`,
      });
      gateways.push({ id, url: `http://127.0.0.1:${port}` });
    }
    // The images' HEALTHCHECKs (/healthz on the gateways, the gRPC port on the inference service).
    for (const id of [inference, ...gateways.map((g) => g.id)])
      await until(`${id} healthy`, 60_000, async () => (await health(id)) === "healthy").catch(async (e: Error) => {
        const detail = await docker("inspect", "-f", "{{json .State.Health}}", id);
        throw new Error(`${e.message}: ${detail}\n${await docker("logs", id)}`);
      });
  });

  it("a stream created on gateway 1 resumes on gateway 2 with Last-Event-ID, exact", { timeout: 60_000 }, async () => {
    const [g1, g2] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    const first = await read((await create(g1.url)).body!, 10);
    const last = first.at(-1)!;
    const res = await events(g2.url, last.streamId, cursorOf(last));
    expect(res.status).toBe(200);
    const rest = await read(res.body!);
    expectExactAfter(last, rest);
    expect(rest.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    const all = await read((await events(g1.url, last.streamId)).body!);
    expect(text(first) + text(rest)).toBe(text(all));
  });

  it("a cancel sent to gateway 2 ends the stream at its owner, gateway 1", { timeout: 60_000 }, async () => {
    const [g1, g2] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    const first = await read((await create(g1.url)).body!, 5);
    const id = first[0]!.streamId;
    const watch = read((await events(g2.url, id, cursorOf(first.at(-1)!))).body!);
    const cancelled = await fetch(`${g2.url}/v1/streams/${id}:cancel`, { method: "POST" });
    expect(((await cancelled.json()) as { stream: { state: string } }).stream.state).toBe("STREAM_STATE_CANCELLED");
    const rest = await watch;
    expectExactAfter(first.at(-1)!, rest);
    expect(rest.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.CANCELLED } });
    expect(rest.filter((e) => e.event.case === "textDelta").length).toBeLessThan(outputTokens - 5);
  });

  it("docker stop of the owner mid-stream drains it: the watcher on the other replica gets every event", { timeout: 60_000 }, async () => {
    const [g1, g2] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    const first = await read((await create(g1.url)).body!, 5);
    const after = first.at(-1)!;
    const watch = read((await events(g2.url, after.streamId, cursorOf(after))).body!);
    const t = performance.now();
    await docker("stop", "--time", "30", g1.id); // SIGTERM to node (PID 1); SIGKILL only after 30 s
    const stopMs = performance.now() - t;
    expect(Number(await docker("inspect", "-f", "{{.State.ExitCode}}", g1.id))).toBe(0);
    const rest = await watch;
    expectExactAfter(after, rest);
    expect(rest.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    const all = await read((await events(g2.url, after.streamId)).body!);
    expect(text(first) + text(rest)).toBe(text(all));
    figures.push(
      `docker stop of the owner mid-stream: exited 0 in ${(stopMs / 1000).toFixed(1)} s (the stream's remaining ~${((outputTokens - 5) / tokensPerS).toFixed(1)} s drained)`,
    );
    // The gateway's own logs hold no secret and no error beyond the drain.
    const logs = await sh("docker", ["logs", g1.id]);
    expect(logs).not.toMatch(/"level":(50|60)/);
  });
});
