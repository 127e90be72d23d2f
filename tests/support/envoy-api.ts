import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/*
 * Envoy's v3 API, offline. No Envoy binary can be had on the CI machine (no
 * image pull, no Debian package), so `envoy --mode validate` cannot run; the
 * closest check is against Envoy's own API definitions: the .proto files
 * that @grpc/grpc-js-xds vendors (deps/envoy-api, with the xds, udpa,
 * protoc-gen-validate and googleapis files they import), loaded with
 * protobufjs. protoc and buf cannot compile that vendored set (its
 * validate.proto predates options the Envoy files use), and protobufjs does
 * not check option values, which this check does not need.
 */

const packageDir = (url: string) => dirname(fileURLToPath(url));
const deps = join(packageDir(import.meta.resolve("@grpc/grpc-js-xds/package.json")), "deps");
/** Where imports are looked up, in order; `google/protobuf/*.proto` not found here are protobufjs's own. */
const roots = [
  ...["envoy-api", "xds", "protoc-gen-validate", "googleapis"].map((d) => join(deps, d)),
  packageDir(import.meta.resolve("protobufjs/package.json")),
];

/** Envoy's API: `Bootstrap` and whatever package a `@type` URL names, loaded on demand. @private test support */
export class EnvoyApi {
  private readonly root = new protobuf.Root();
  private readonly loadedDirs = new Set<string>();

  constructor() {
    this.root.resolvePath = (_origin, target) => roots.map((r) => join(r, target)).find((p) => existsSync(p)) ?? target;
    this.loadPackage("envoy.config.bootstrap.v3");
  }

  /** Loads every .proto file of `pkg`'s directory (Envoy's layout: `envoy.a.b.v3` is `envoy/a/b/v3/`); false when there is none. */
  private loadPackage(pkg: string): boolean {
    const dir = pkg.split(".").join("/");
    if (this.loadedDirs.has(dir)) return true;
    const abs = join(deps, "envoy-api", dir);
    if (!existsSync(abs)) return false;
    const files = readdirSync(abs).filter((f) => f.endsWith(".proto"));
    if (files.length === 0) return false;
    this.root.loadSync(
      files.map((f) => `${dir}/${f}`),
      { keepCase: true },
    );
    this.root.resolveAll();
    this.loadedDirs.add(dir);
    return true;
  }

  /** The message type a full name or `type.googleapis.com/<name>` URL names, or undefined when Envoy's API has none. */
  type(nameOrUrl: string): protobuf.Type | undefined {
    const name = nameOrUrl.slice(nameOrUrl.lastIndexOf("/") + 1);
    const parts = name.split(".");
    // The package is a prefix of the name: try the longest first (nested messages have more parts).
    for (let n = parts.length - 1; n > 0; n--) {
      if (!this.loadPackage(parts.slice(0, n).join("."))) continue;
      const t = this.root.lookup(name);
      return t instanceof protobuf.Type ? t : undefined;
    }
    return undefined;
  }

  /**
   * Checks `value` (a parsed YAML or JSON configuration) against the message
   * `typeName` in the proto3 JSON mapping Envoy reads its files with: every
   * field name exists (proto or JSON name), one field per oneof, arrays for
   * repeated fields, objects for maps and messages, known enum names, scalar
   * types, the well-known types' JSON forms, and every `Any`'s `@type`
   * resolved and its fields checked in turn.
   *
   * @returns the problems, each as `path: what`; empty when the value conforms.
   */
  check(typeName: string, value: unknown): string[] {
    const type = this.type(typeName);
    if (!type) return [`${typeName}: not a message of Envoy's API`];
    const problems: string[] = [];
    this.message(type, value, typeName.slice(typeName.lastIndexOf(".") + 1), problems);
    return problems;
  }

  private message(type: protobuf.Type, value: unknown, path: string, problems: string[]): void {
    const wkt = type.fullName.slice(1);
    if (wkt === "google.protobuf.Any") {
      this.any(value, path, problems);
      return;
    }
    const special = wellKnown[wkt];
    if (special) {
      if (!special(value)) problems.push(`${path}: not a valid ${wkt} in the JSON mapping`);
      return;
    }
    if (!isObject(value)) return void problems.push(`${path}: ${type.name} must be an object`);
    const setOneofs = new Map<string, string>();
    for (const [key, v] of Object.entries(value)) {
      const field = type.fields[key] ?? type.fieldsArray.find((f) => protobuf.util.camelCase(f.name) === key);
      if (!field) {
        problems.push(`${path}.${key}: no such field in ${type.fullName.slice(1)}`);
        continue;
      }
      if (field.partOf && v !== null) {
        const other = setOneofs.get(field.partOf.name);
        if (other) problems.push(`${path}.${key}: oneof ${field.partOf.name} already set by ${other}`);
        setOneofs.set(field.partOf.name, key);
      }
      this.field(field, v, `${path}.${key}`, problems);
    }
  }

  private field(field: protobuf.Field, value: unknown, path: string, problems: string[]): void {
    if (field instanceof protobuf.MapField) {
      if (!isObject(value)) return void problems.push(`${path}: a map must be an object`);
      for (const [k, v] of Object.entries(value)) this.single(field, v, `${path}.${k}`, problems);
    } else if (field.repeated) {
      if (!Array.isArray(value)) return void problems.push(`${path}: a repeated field must be an array`);
      value.forEach((v, i) => {
        this.single(field, v, `${path}[${i}]`, problems);
      });
    } else this.single(field, value, path, problems);
  }

  private single(field: protobuf.Field, value: unknown, path: string, problems: string[]): void {
    const t = field.resolvedType;
    if (t instanceof protobuf.Type) {
      this.message(t, value, path, problems);
      return;
    }
    if (t instanceof protobuf.Enum) {
      if (!(typeof value === "string" ? value in t.values : Number.isInteger(value)))
        problems.push(`${path}: ${String(value)} is not a value of ${t.fullName.slice(1)}`);
      return;
    }
    if (!scalar(field.type, value)) problems.push(`${path}: ${JSON.stringify(value)} is not a ${field.type}`);
  }

  private any(value: unknown, path: string, problems: string[]): void {
    if (!isObject(value) || typeof value["@type"] !== "string") return void problems.push(`${path}: an Any needs "@type"`);
    const url = value["@type"];
    const target = url.startsWith("type.googleapis.com/") ? this.type(url) : undefined;
    if (!target) return void problems.push(`${path}: @type ${url} is not a message of Envoy's API`);
    const { "@type": _, ...rest } = value;
    this.message(target, wellKnown[target.fullName.slice(1)] ? rest["value"] : rest, `${path}<${target.name}>`, problems);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown) => typeof v === "number" || (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)));

/** The JSON forms of the well-known types (https://protobuf.dev/programming-guides/json/). */
const wellKnown: Record<string, (v: unknown) => boolean> = {
  "google.protobuf.Duration": (v) => typeof v === "string" && /^-?\d+(\.\d{1,9})?s$/.test(v),
  "google.protobuf.Timestamp": (v) => typeof v === "string" && !Number.isNaN(Date.parse(v)),
  "google.protobuf.FieldMask": (v) => typeof v === "string",
  "google.protobuf.Empty": (v) => isObject(v) && Object.keys(v).length === 0,
  "google.protobuf.Struct": isObject,
  "google.protobuf.Value": () => true,
  "google.protobuf.ListValue": Array.isArray,
  "google.protobuf.BoolValue": (v) => typeof v === "boolean",
  "google.protobuf.StringValue": (v) => typeof v === "string",
  "google.protobuf.BytesValue": (v) => typeof v === "string",
  ...Object.fromEntries(["Double", "Float", "Int64", "UInt64", "Int32", "UInt32"].map((n) => [`google.protobuf.${n}Value`, isNumber])),
};

/** Whether `v` is a JSON value of the proto scalar type `type`. */
function scalar(type: string, v: unknown): boolean {
  switch (type) {
    case "string":
    case "bytes":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    default:
      return isNumber(v) && (type === "double" || type === "float" || Number.isInteger(Number(v)));
  }
}
