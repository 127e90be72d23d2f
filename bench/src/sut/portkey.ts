/**
 * Child process: the Portkey AI gateway (`@portkey-ai/gateway`, its own
 * Node build `build/start-server.js`: a Hono app on @hono/node-server) on
 * PORTKEY_PORT. Clients call `POST /v1/chat/completions` with
 * `x-portkey-provider: openai` and `x-portkey-custom-host: <paced upstream>/v1`.
 *
 * The fetch shim: Portkey appends its own headers (`x-portkey-trace-id`, …)
 * to the upstream's Response, which works on Workers, but on Node the
 * Response that undici's `fetch` returns has an immutable header guard, so
 * every streamed request fails with `TypeError: immutable` (HTTP 500). The
 * shim re-wraps each fetched Response (same body stream, copied headers),
 * which is what Portkey would need to do itself on Node.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { reportReady } from "./child-control.ts";

const realFetch = globalThis.fetch;
globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
  const r = await realFetch(input, init);
  return new Response(r.body, { status: r.status, statusText: r.statusText, headers: new Headers(r.headers) });
};

const port = process.env.PORTKEY_PORT as string;
process.argv.push(`--port=${port}`, "--headless");
process.env.NODE_ENV = "production";
const entry = createRequire(import.meta.url).resolve("@portkey-ai/gateway/build/start-server.js");
const log = console.log;
console.log = () => {}; // its banner and spinner
console.clear = () => {};
await import(pathToFileURL(entry).href);
console.log = log;
reportReady(`http://127.0.0.1:${port}`);
