import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
};

/** Paths answered with another file: the page, and the icon browsers and tools ask for by its historical name. */
const aliases: Record<string, string> = { "/": "/index.html", "/favicon.ico": "/favicon.svg" };

/**
 * Serves the built demo page from `dir` (GET/HEAD only; `/` is index.html,
 * `/favicon.ico` is favicon.svg, as `image/svg+xml`),
 * subdirectories included (the bundle's lazily loaded chunks are in
 * `chunks/`), each file with the content type of its extension (`.js` as
 * `text/javascript`, which module scripts and `import()` require under
 * `nosniff`); other extensions are not served. A path cannot leave `dir`
 * (`..` segments stop at its root). Returns false when no file matches, so
 * the caller answers 404.
 */
export async function serveStatic(dir: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const rel = normalize(decodeURIComponent(aliases[path] ?? path));
  if (rel.includes("\0")) return false;
  const type = types[extname(rel)];
  if (!type) return false;
  let body: Buffer;
  try {
    body = await readFile(join(dir, rel));
  } catch {
    return false;
  }
  res.writeHead(200, {
    "content-type": type,
    "content-length": body.length,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  if (req.method === "HEAD") res.end();
  else res.end(body);
  return true;
}
