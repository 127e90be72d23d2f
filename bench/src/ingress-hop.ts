/**
 * `node bench/src/ingress-hop.ts [--streams=N] [--rate=R] [--tokens=T] [--reps=K]`:
 * the gateway's hop from the inference service, measured alone. The
 * clients the gateway could use read `InferenceService.Interact` from the
 * paced upstream (its own process) and decode every message into
 * `InteractResponse` objects, as the generation pump needs them:
 *
 * - `connect-node` — `createClient(InferenceService, createGrpcTransport())`
 *   and `for await` over the response, exactly the gateway's client today;
 * - `grpc-js (data events)` — `@grpc/grpc-js` `makeBidiStreamRequest` with
 *   protobuf-es (de)serialisers, messages taken in its `data` callback;
 * - `grpc-js (for await)` — the same call consumed as an async iterable (what
 *   a drop-in replacement behind the pump's `AsyncIterable` would cost);
 * - `node:http2 (reference)` — the lower bound: one `node:http2` session,
 *   gRPC framing split by hand, `fromBinary` per message (no status
 *   trailers, deadlines or errors handled: not a client, a floor).
 *
 * N streams of T tokens at R tokens/s run at once per repetition, the
 * clients alternating (K repetitions each, after a warm-up). Reported: this
 * process's CPU (user + system, `process.cpuUsage`) per message received,
 * µs, with the spread over repetitions. The harness process runs on CPU 1
 * and the upstream on CPU 0 when `taskset` is available.
 * @module
 */
import { execFileSync } from "node:child_process";
import * as http2 from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  GenerateRequestSchema,
  InferenceService,
  type InteractRequest,
  InteractRequestSchema,
  type InteractResponse,
  InteractResponseSchema,
  isTerminal,
  Role,
} from "@airwave/proto";
import { create } from "@bufbuild/protobuf";
import { pinning, startChild } from "./bench-child.ts";
import { grpcFrame } from "./grpc-frame.ts";

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);
const streams = arg("streams", 100);
const rate = arg("rate", 50);
const tokens = arg("tokens", 100);
const reps = arg("reps", 3);

if (pinning) execFileSync("taskset", ["-cp", "1", String(process.pid)], { stdio: "ignore" });
const up = await startChild("upstream.ts", { name: "upstream", cpu: 0 });
const model = `paced-r${rate}-n${tokens}`;
const start = (): InteractRequest =>
  create(InteractRequestSchema, {
    message: {
      case: "start",
      value: create(GenerateRequestSchema, {
        model,
        messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "Say something." } }] }],
      }),
    },
  });

/** One client: opens one Interact call and resolves with the number of messages once it ended. */
type Client = { name: string; run(): Promise<number>; close(): void };

function connectClient(): Client {
  const client = createClient(InferenceService, createGrpcTransport({ baseUrl: up.url }));
  return {
    name: "connect-node (for await)",
    async run() {
      // The request side stays open until the response ends, as in the gateway.
      let close!: () => void;
      const closed = new Promise<void>((r) => (close = r));
      async function* requests() {
        yield start();
        await closed;
      }
      let n = 0;
      try {
        for await (const m of client.interact(requests())) {
          n++;
          if (m.event && isTerminal(m.event)) break;
        }
      } finally {
        close();
      }
      return n;
    },
    close() {},
  };
}

function grpcJsClient(forAwait: boolean): Client {
  const client = new grpc.Client(up.url.replace(/^http:\/\//, ""), grpc.credentials.createInsecure());
  const serialize = (m: InteractRequest) => Buffer.from(toBinary(InteractRequestSchema, m));
  const deserialize = (b: Buffer): InteractResponse => fromBinary(InteractResponseSchema, b);
  const open = () => {
    const call = client.makeBidiStreamRequest("/airwave.v1.InferenceService/Interact", serialize, deserialize);
    call.write(start());
    return call;
  };
  return {
    name: forAwait ? "grpc-js (for await)" : "grpc-js (data events)",
    run: forAwait
      ? async () => {
          const call = open();
          let n = 0;
          for await (const m of call as AsyncIterable<InteractResponse>) {
            n++;
            if (m.event && isTerminal(m.event)) break;
          }
          call.end();
          return n;
        }
      : () =>
          new Promise<number>((resolve, reject) => {
            const call = open();
            let n = 0;
            call.on("data", (m: InteractResponse) => {
              n++;
              if (m.event && isTerminal(m.event)) call.end();
            });
            call.on("error", reject);
            call.on("end", () => resolve(n));
          }),
    close: () => client.close(),
  };
}

function rawHttp2Client(): Client {
  const session = http2.connect(up.url);
  return {
    name: "node:http2 (reference)",
    run: () =>
      new Promise<number>((resolve, reject) => {
        const s = session.request({
          ":method": "POST",
          ":path": "/airwave.v1.InferenceService/Interact",
          "content-type": "application/grpc",
          te: "trailers",
        });
        s.write(grpcFrame(toBinary(InteractRequestSchema, start())));
        let n = 0;
        let buf: Buffer = Buffer.alloc(0);
        s.on("data", (chunk: Buffer) => {
          buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
          while (buf.length >= 5) {
            const len = buf.readUInt32BE(1);
            if (buf.length < 5 + len) break;
            const m = fromBinary(InteractResponseSchema, buf.subarray(5, 5 + len));
            buf = buf.subarray(5 + len);
            n++;
            if (m.event && isTerminal(m.event)) s.end();
          }
        });
        s.on("error", reject);
        s.on("close", () => resolve(n));
      }),
    close: () => session.close(),
  };
}

async function load(c: Client): Promise<{ messages: number; cpuUs: number; wallMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Arrivals spread over one token period, like independent requests.
  const runs: Promise<number>[] = [];
  for (let i = 0; i < streams; i++) {
    runs.push(c.run());
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1000 / rate / 10));
  }
  const messages = (await Promise.all(runs)).reduce((a, b) => a + b, 0);
  const d = process.cpuUsage(cpu0);
  return { messages, cpuUs: d.user + d.system, wallMs: performance.now() - t0 };
}

const clients = [connectClient(), grpcJsClient(false), grpcJsClient(true), rawHttp2Client()];
for (const c of clients) await load(c); // warm-up: JIT, connections
const results = new Map<string, number[]>();
for (let r = 0; r < reps; r++) {
  for (const c of clients) {
    const x = await load(c);
    const per = x.cpuUs / x.messages;
    results.set(c.name, [...(results.get(c.name) ?? []), per]);
    console.log(`rep ${r + 1} ${c.name.padEnd(26)} ${x.messages} messages in ${x.wallMs.toFixed(0)} ms: ${per.toFixed(2)} µs CPU/message`);
  }
}
console.log(
  `\n${streams} streams × ${tokens} tokens at ${rate} tok/s, ${reps} reps; CPU µs per message received and decoded (median, min–max):`,
);
for (const [name, xs] of results) {
  const s = [...xs].sort((a, b) => a - b);
  console.log(
    `  ${name.padEnd(26)} ${(s[Math.floor(s.length / 2)] as number).toFixed(2).padStart(7)}   (${(s[0] as number).toFixed(2)}–${(s[s.length - 1] as number).toFixed(2)})`,
  );
}
for (const c of clients) c.close();
await up.stop();
process.exit(0);
