import { PassThrough } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { errorResponse } from "./http-status.js";
import { writeUpgradeError } from "./write-error.js";

const retryLater = () =>
  new ConnectError("too many streams", Code.ResourceExhausted, { "airwave-reason": "OWNER_STREAM_LIMIT", "retry-after-ms": "1500" });

describe("the HTTP edge's one error writer", () => {
  it("refuses a WebSocket upgrade with the same headers as a route, Retry-After included, and closes the socket", async () => {
    const socket = new PassThrough();
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    writeUpgradeError(socket, retryLater());
    await new Promise((resolve) => socket.once("close", resolve));
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n/);
    expect(text.toLowerCase()).toContain("\r\nretry-after: 2\r\n");
    expect(text.toLowerCase()).toContain("\r\nairwave-reason: owner_stream_limit\r\n");
    expect(text.toLowerCase()).toContain("\r\nconnection: close\r\n");
    expect(text.split("\r\n\r\n")[1]).toBe(errorResponse(retryLater()).body);
  });
});
