/**
 * The airwave.v1 contract: generated messages and services (protobuf-es v2),
 * plus the few helpers every side shares (cursor text form, stream ids, code
 * mapping, event constructors). Depends on neither Node nor the DOM.
 */
export * from "../gen/airwave/v1/event_pb.js";
export * from "../gen/airwave/v1/generate_pb.js";
export * from "../gen/airwave/v1/inference_service_pb.js";
export * from "../gen/airwave/v1/stream_service_pb.js";
export * from "../gen/airwave/v1/websocket_pb.js";
export * as health from "../gen/grpc/health/v1/health_pb.js";
/** gRPC server reflection, served by `@airwave/proto/server`'s `registerReflection`. */
export * as reflectionV1 from "../gen/grpc/reflection/v1/reflection_pb.js";
/** The pre-standard reflection API that older grpcurl and Postman builds still ask for. */
export * as reflectionV1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
export * from "./codes.js";
export * from "./cursor.js";
export * from "./delay.js";
export * from "./events.js";
export * from "./framing-error.js";
export * from "./ndjson-lines.js";
export * from "./push-queue.js";
export * from "./stream-id.js";
export * from "./utf8-length.js";
