/**
 * The Airwave browser client: one AsyncIterable API over Connect, gRPC-Web
 * and SSE, with one resume loop for every transport.
 */
export * from "./client/index.js";
