import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (bound and released; for processes that need a fixed port across restarts). @private test support */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, "close");
  return port;
}

/** Resolves once something accepts TCP connections on `port`, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A redis-server of the test's own (Debian's `redis-server`), on a port and a data directory of its own. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Starts it again on the same port and directory (after {@link stop} or {@link kill}). */
  start(): Promise<void>;
  /** `SHUTDOWN` (with AOF, everything written is on disk), then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts a redis-server for one test file. `appendonly`: AOF with
 * `appendfsync always` (nothing acknowledged is lost, even on SIGKILL);
 * otherwise no persistence at all (a restart loses everything).
 * @private test support
 */
export async function startTestRedis(o: { appendonly: boolean; args?: readonly string[] }): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "airwave-redis-"));
  let child: ChildProcess | undefined;
  const args = ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", ""];
  args.push(...(o.appendonly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]), ...(o.args ?? []));
  const exited = async (c: ChildProcess) => {
    if (c.exitCode === null && c.signalCode === null) await once(c, "exit");
  };
  const r: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn("redis-server", args, { stdio: "ignore" });
      await waitForPort(port);
    },
    async stop() {
      const c = child;
      if (!c) return;
      spawn("redis-cli", ["-p", String(port), "shutdown"], { stdio: "ignore" });
      await exited(c);
      child = undefined;
    },
    async kill() {
      const c = child;
      if (!c) return;
      c.kill("SIGKILL");
      await exited(c);
      child = undefined;
    },
    async close() {
      await r.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await r.start();
  return r;
}

/** HAProxy (Debian's `haproxy`) in front of gateway replicas: round-robin, no stickiness, health checks on `/healthz`. */
export interface TestHaproxy {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts HAProxy on a free port in HTTP mode, balancing every request
 * round-robin over `backends` (ports on 127.0.0.1) with no stickiness;
 * `/healthz` is checked every 100 ms, a refused connection is retried on
 * another replica (`option redispatch`), and the timeouts never cut a long
 * stream (`timeout server/tunnel` 1 h). @private test support
 */
export async function startHaproxy(backends: readonly number[]): Promise<TestHaproxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "airwave-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    [
      "global",
      "  maxconn 4000",
      "defaults",
      "  mode http",
      "  timeout connect 1s",
      "  timeout client 1h",
      "  timeout server 1h",
      "  timeout tunnel 1h",
      "  timeout http-keep-alive 5s",
      "  retries 3",
      "  option redispatch 1",
      "  retry-on conn-failure empty-response",
      "frontend fe",
      `  bind 127.0.0.1:${port}`,
      "  default_backend replicas",
      "backend replicas",
      "  balance roundrobin",
      "  option httpchk GET /healthz",
      ...backends.map((p, i) => `  server r${i} 127.0.0.1:${p} check inter 100 fall 1 rise 1`),
      "",
    ].join("\n"),
  );
  const child = spawn("haproxy", ["-f", cfg, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  child.on("error", (e) => (err += `${e.message} (is haproxy installed? .ci/run installs it)`));
  await waitForPort(port).catch((e: unknown) => {
    throw new Error(`haproxy did not start: ${err}`, { cause: e });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Sentinel (Debian's `redis-server --sentinel`) monitoring one primary. */
export interface TestSentinel {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts a Sentinel that monitors the primary on `primaryPort` as `name`,
 * with a quorum of 1 and fast failover (down after 500 ms).
 * @private test support
 */
export async function startSentinel(primaryPort: number, name = "mymaster"): Promise<TestSentinel> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "airwave-sentinel-"));
  const conf = join(dir, "sentinel.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${name} 500`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      "",
    ].join("\n"),
  );
  const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
  await waitForPort(port);
  return {
    port,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
