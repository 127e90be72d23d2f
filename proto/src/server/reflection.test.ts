import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { health, reflectionV1 as v1, reflectionV1alpha as v1alpha, StreamService } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { registerReflection } from "./reflection.js";

const transport = createRouterTransport((router) => registerReflection(router, [StreamService, health.Health]));

/** Sends `requests` on one reflection stream (v1) and returns the answers. */
async function ask(...requests: v1.ServerReflectionRequest["messageRequest"][]): Promise<v1.ServerReflectionResponse[]> {
  const client = createClient(v1.ServerReflection, transport);
  const out: v1.ServerReflectionResponse[] = [];
  async function* send() {
    for (const messageRequest of requests) yield { host: "h", messageRequest };
  }
  for await (const res of client.serverReflectionInfo(send())) out.push(res);
  return out;
}

const fileNames = (r: v1.ServerReflectionResponse | undefined) =>
  r?.messageResponse.case === "fileDescriptorResponse"
    ? r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)
    : [];

describe("registerReflection", () => {
  it("lists the services it was given and reflection itself", async () => {
    const [res] = await ask({ case: "listServices", value: "" });
    expect(res?.messageResponse.case).toBe("listServicesResponse");
    const names = res?.messageResponse.case === "listServicesResponse" ? res.messageResponse.value.service.map((s) => s.name) : [];
    expect(names).toEqual([
      "airwave.v1.StreamService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
    expect(res?.validHost).toBe("h");
    expect(res?.originalRequest?.messageRequest.case).toBe("listServices");
  });

  it("answers a service, a method or a message with its file first and every file it imports", async () => {
    const answers = await ask(
      { case: "fileContainingSymbol", value: "airwave.v1.StreamService" },
      { case: "fileContainingSymbol", value: "airwave.v1.StreamService.CreateStream" },
      { case: "fileContainingSymbol", value: "airwave.v1.StreamEvent" },
      { case: "fileByFilename", value: "airwave/v1/stream_service.proto" },
    );
    for (const a of [answers[0], answers[1], answers[3]]) {
      const names = fileNames(a);
      expect(names[0]).toBe("airwave/v1/stream_service.proto");
      expect(names).toContain("airwave/v1/event.proto");
      expect(new Set(names).size).toBe(names.length);
    }
    expect(fileNames(answers[2])[0]).toBe("airwave/v1/event.proto");
    // The descriptor is whole: the service with its methods.
    const file = fromBinary(
      FileDescriptorProtoSchema,
      (answers[0]!.messageResponse.value as v1.FileDescriptorResponse).fileDescriptorProto[0]!,
    );
    expect(file.service.find((s) => s.name === "StreamService")?.method.map((m) => m.name)).toContain("WatchStream");
  });

  it("answers an unknown file, symbol or extension with NOT_FOUND on the same stream", async () => {
    const answers = await ask(
      { case: "fileContainingSymbol", value: "nope.Service" },
      { case: "fileByFilename", value: "nope.proto" },
      {
        case: "fileContainingExtension",
        value: { $typeName: "grpc.reflection.v1.ExtensionRequest", containingType: "airwave.v1.StreamEvent", extensionNumber: 100 },
      },
      { case: "allExtensionNumbersOfType", value: "airwave.v1.StreamEvent" },
      { case: undefined },
    );
    expect(
      answers.map((a) => (a.messageResponse.case === "errorResponse" ? a.messageResponse.value.errorCode : a.messageResponse.case)),
    ).toEqual([Code.NotFound, Code.NotFound, Code.NotFound, "allExtensionNumbersResponse", Code.InvalidArgument]);
  });

  it("serves v1alpha with the same answers", async () => {
    const client = createClient(v1alpha.ServerReflection, transport);
    async function* send() {
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "grpc.health.v1.Health" } };
    }
    const out = [];
    for await (const res of client.serverReflectionInfo(send())) out.push(res);
    expect(out[0]?.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionResponse");
    const r = out[0]?.messageResponse;
    expect(r?.case === "fileDescriptorResponse" && fromBinary(FileDescriptorProtoSchema, r.value.fileDescriptorProto[0]!).name).toBe(
      "grpc/health/v1/health.proto",
    );
  });
});
