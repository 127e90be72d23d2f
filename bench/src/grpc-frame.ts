/**
 * The gRPC length-prefixed message, for the bench's raw HTTP/2 clients and
 * servers: 1 byte compressed-flag (0) + 4 bytes big-endian length + the
 * message (gRPC over HTTP/2, "Length-Prefixed-Message",
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 */
export function grpcFrame(message: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(5 + message.length);
  b[0] = 0;
  b.writeUInt32BE(message.length, 1);
  b.set(message, 5);
  return b;
}
