import { create, type DescFile, type DescMessage, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import { reflectionV1 as v1, reflectionV1alpha as v1alpha } from "@airwave/proto";

/**
 * Serves gRPC server reflection — `grpc.reflection.v1.ServerReflection` and
 * the older `grpc.reflection.v1alpha` one, which grpcurl, grpcui, Postman
 * and `buf curl` ask for to list services and fetch their schemas — for the
 * given services (and reflection itself). It answers from the descriptors
 * protobuf-es generated: each file as a serialized `FileDescriptorProto`,
 * with every file it imports, transitively.
 *
 * A request for an unknown file or symbol gets an `error_response` with
 * NOT_FOUND (5) on the same stream, as the protocol asks; extensions are
 * not used by the contract, so `file_containing_extension` is NOT_FOUND and
 * `all_extension_numbers_of_type` an empty list for a known message.
 * Reflection is a bidirectional stream: gRPC (and Connect) over HTTP/2.
 *
 * @see https://github.com/grpc/grpc/blob/master/doc/server-reflection.md
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const answer = createReflectionAnswerer([...services, v1.ServerReflection, v1alpha.ServerReflection]);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield answer(req);
    },
  });
  // v1alpha is v1 under another package name: the same fields and numbers, so
  // its messages convert through their bytes.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const res = answer(fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, req)));
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, res));
      }
    },
  });
}

/** Answers one reflection request for `services`; never throws (failures are `error_response`s). */
function createReflectionAnswerer(services: readonly DescService[]) {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const addFile = (f: DescFile): void => {
    if (files.has(f.proto.name)) return;
    files.set(f.proto.name, f);
    for (const d of f.dependencies) addFile(d);
    for (const s of f.services) {
      symbols.set(s.typeName, f);
      for (const m of s.methods) symbols.set(`${s.typeName}.${m.name}`, f);
    }
    for (const e of f.enums) symbols.set(e.typeName, f);
    for (const x of f.extensions) symbols.set(x.typeName, f);
    for (const m of f.messages) addMessage(m, f);
  };
  const messages = new Set<string>();
  const addMessage = (m: DescMessage, f: DescFile): void => {
    symbols.set(m.typeName, f);
    messages.add(m.typeName);
    for (const e of m.nestedEnums) symbols.set(e.typeName, f);
    for (const x of m.nestedExtensions) symbols.set(x.typeName, f);
    for (const n of m.nestedMessages) addMessage(n, f);
  };
  for (const s of services) addFile(s.file);
  const serviceNames = services.map((s) => ({ name: s.typeName }));

  /** The file and all it imports, transitively, each once, the file first. */
  const withImports = (f: DescFile): Uint8Array[] => {
    const out: DescFile[] = [];
    const visit = (g: DescFile): void => {
      if (out.includes(g)) return;
      out.push(g);
      for (const d of g.dependencies) visit(d);
    };
    visit(f);
    return out.map(encoded);
  };
  // Each file serialized once, on first request.
  const bytes = new Map<DescFile, Uint8Array>();
  const encoded = (g: DescFile): Uint8Array => {
    let b = bytes.get(g);
    if (b === undefined) bytes.set(g, (b = toBinary(FileDescriptorProtoSchema, g.proto)));
    return b;
  };
  const notFound = (what: string): v1.ServerReflectionResponse["messageResponse"] => ({
    case: "errorResponse",
    value: create(v1.ErrorResponseSchema, { errorCode: Code.NotFound, errorMessage: `${what} not found` }),
  });

  return (req: v1.ServerReflectionRequest): v1.ServerReflectionResponse => {
    const q = req.messageRequest;
    let messageResponse: v1.ServerReflectionResponse["messageResponse"];
    switch (q.case) {
      case "listServices":
        messageResponse = { case: "listServicesResponse", value: create(v1.ListServiceResponseSchema, { service: serviceNames }) };
        break;
      case "fileByFilename":
      case "fileContainingSymbol": {
        const file = q.case === "fileByFilename" ? files.get(q.value) : symbols.get(q.value);
        messageResponse = file
          ? { case: "fileDescriptorResponse", value: create(v1.FileDescriptorResponseSchema, { fileDescriptorProto: withImports(file) }) }
          : notFound(q.case === "fileByFilename" ? `file ${q.value.slice(0, 200)}` : `symbol ${q.value.slice(0, 200)}`);
        break;
      }
      case "fileContainingExtension":
        messageResponse = notFound(`extension ${q.value.extensionNumber} of ${q.value.containingType.slice(0, 200)}`);
        break;
      case "allExtensionNumbersOfType":
        messageResponse = messages.has(q.value)
          ? { case: "allExtensionNumbersResponse", value: create(v1.ExtensionNumberResponseSchema, { baseTypeName: q.value }) }
          : notFound(`type ${q.value.slice(0, 200)}`);
        break;
      default:
        messageResponse = {
          case: "errorResponse",
          value: create(v1.ErrorResponseSchema, { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" }),
        };
    }
    return create(v1.ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse });
  };
}
