import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveStatic } from "./static-files.js";

let root: string;
let server: Server;
let base: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "airwave-static-"));
  const dir = join(root, "dist");
  await mkdir(join(dir, "chunks"), { recursive: true });
  await writeFile(join(dir, "index.html"), "<!doctype html><title>demo</title>");
  await writeFile(join(dir, "demo.js"), 'import("./chunks/python-AB12CD34.js");');
  await writeFile(join(dir, "chunks", "python-AB12CD34.js"), "export default function python() {}");
  await writeFile(join(dir, "favicon.svg"), "<svg/>");
  await writeFile(join(dir, "notes.bin"), "x");
  await writeFile(join(root, "secret.js"), "outside");
  server = createServer((req, res) => {
    void serveStatic(dir, req, res).then((served) => {
      if (!served) res.writeHead(404).end("not found");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(root, { recursive: true, force: true });
});

describe("serveStatic", () => {
  it("serves index.html at / and a lazily loaded chunk from a subdirectory as JavaScript", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const chunk = await fetch(`${base}/chunks/python-AB12CD34.js`);
    expect(chunk.status).toBe(200);
    expect(chunk.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(chunk.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await chunk.text()).toBe("export default function python() {}");
    for (const path of ["/favicon.svg", "/favicon.ico"]) {
      const icon = await fetch(`${base}${path}`);
      expect([icon.status, icon.headers.get("content-type"), await icon.text()], path).toEqual([200, "image/svg+xml", "<svg/>"]);
    }
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await fetch(`${base}/chunks/python-AB12CD34.js`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String("export default function python() {}".length));
    expect(await res.text()).toBe("");
  });

  it("serves nothing outside the directory, of an unknown type, missing, or for other methods", async () => {
    // Sent as written (fetch would resolve the dot segments itself).
    for (const path of [
      "/../secret.js",
      "/chunks/../../secret.js",
      "/%2e%2e/secret.js",
      "/..%2fsecret.js",
      "/chunks/..%2f..%2fsecret.js",
    ]) {
      expect(await rawStatus(path), path).toBe(404);
    }
    expect(await rawStatus("/chunks/../demo.js")).toBe(200);
    expect((await fetch(`${base}/notes.bin`)).status).toBe(404);
    expect((await fetch(`${base}/chunks/missing-0000.js`)).status).toBe(404);
    expect((await fetch(`${base}/demo.js`, { method: "POST", body: "x" })).status).toBe(404);
  });
});

/** The status of GET `path`, sent byte for byte as given. */
function rawStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
