import type { JsonObject } from "@bufbuild/protobuf";
import { z } from "zod";

/**
 * The lenient field schemas the providers' chunk schemas
 * (`providers/<kind>/<kind>-chunk.ts`) are built from: a field of the wrong
 * type reads as absent (`.catch(undefined)`), so one odd field never fails a
 * whole chunk, and the mapper reads typed values. Each is built once, here.
 */

/** A string (or null); any other value reads as absent. */
export const optionalString = z.string().nullish().catch(undefined);

/** A number (or null); any other value reads as absent. */
export const optionalNumber = z.number().nullish().catch(undefined);

/** A boolean (or null); any other value reads as absent. */
export const optionalBoolean = z.boolean().nullish().catch(undefined);

/** Any JSON value, passed on as it is. */
export const passThrough = z.unknown().optional();

/** A JSON object, passed on as it is; any other value reads as absent. */
export const passThroughObject = z
  .custom<JsonObject>((v) => typeof v === "object" && v !== null && !Array.isArray(v))
  .optional()
  .catch(undefined);

/** An array whose entries that do not match `entry` read as `undefined` (the others keep their positions); a non-array reads as absent. */
export function lenientArray<T extends z.ZodType>(entry: T) {
  return z.array(entry.optional().catch(undefined)).nullish().catch(undefined);
}

/** Returns `v` when it is a non-empty string. */
export function nonEmpty(v: string | null | undefined): string | undefined {
  return v ? v : undefined;
}
