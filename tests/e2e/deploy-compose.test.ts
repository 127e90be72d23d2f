/**
 * deploy/compose: the compose file validates (`docker-compose config` from
 * Debian's package; images are neither pulled nor run here), the
 * Prometheus configuration passes `promtool check config`, and the Envoy
 * configuration keeps what streaming needs: no route timeout, an idle
 * timeout well above the heartbeat interval, WebSocket upgrades, gRPC-Web
 * through the grpc_web filter, gRPC over HTTP/2 to the gateways, health
 * checks on /healthz, /metrics kept off the public port. And the Envoy
 * configuration conforms to Envoy's v3 API: every field name, enum, oneof and
 * `@type` URL, checked against Envoy's .proto files (tests/support/envoy-api.ts;
 * no Envoy binary can be had on this machine, so `envoy --mode validate`
 * cannot run).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EnvoyApi } from "../support/envoy-api.js";

const root = join(import.meta.dirname, "..", "..");
const dir = join(root, "deploy", "compose");
const have = (bin: string, arg: string) => !spawnSync(bin, [arg]).error;
const tools = have("docker-compose", "version") && have("promtool", "--version");
if (!tools && process.env.CI) throw new Error("docker-compose and promtool are needed (.ci/run installs docker-compose and prometheus)");
if (!tools) console.warn("deploy/compose checks skipped: docker-compose or promtool is not installed; with CI set this fails");

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked field by field
type Obj = any;
const envoy = parse(readFileSync(join(dir, "envoy.yaml"), "utf8")) as Obj;
const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const seconds = (d: string) => Number(d.replace(/s$/, ""));

describe.runIf(tools)("deploy/compose", () => {
  it("validates with docker-compose config (with the example env file as .env)", () => {
    const tmp = mkdtempSync(join(tmpdir(), "airwave-compose-"));
    try {
      // A copy of the folder, so no .env is written into the repository.
      for (const f of ["compose.yaml", "envoy.yaml", "prometheus.yml"]) copyFileSync(join(dir, f), join(tmp, f));
      copyFileSync(join(dir, ".env.example"), join(tmp, ".env"));
      const r = spawnSync("docker-compose", ["-f", join(tmp, "compose.yaml"), "config", "-q"], { encoding: "utf8" });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(readFileSync(join(root, ".gitignore"), "utf8")).toMatch(/^deploy\/compose\/\.env$/m);
  });

  it("runs two gateway replicas on Redis, hardened, with a stop grace above the shutdown grace", () => {
    const compose = parse(readFileSync(join(dir, "compose.yaml"), "utf8")) as Obj;
    for (const name of ["gateway-1", "gateway-2"]) {
      const g = compose.services[name];
      expect(g.environment.AIRWAVE_REDIS_URL).toMatch(/^redis:\/\/redis:/);
      expect(seconds(g.stop_grace_period)).toBeGreaterThanOrEqual(Number(g.environment.AIRWAVE_SHUTDOWN_GRACE_MS) / 1000 + 5);
      expect(g).toMatchObject({ read_only: true, cap_drop: ["ALL"] });
    }
  });

  it("scrapes every replica and loads the alert rules (promtool check config)", () => {
    const tmp = mkdtempSync(join(tmpdir(), "airwave-prom-"));
    try {
      const rules = join(root, "deploy", "prometheus", "airwave-alerts.yml");
      const cfg = readFileSync(join(dir, "prometheus.yml"), "utf8").replace("/etc/prometheus/airwave-alerts.yml", rules);
      writeFileSync(join(tmp, "prometheus.yml"), cfg);
      const r = spawnSync("promtool", ["check", "config", join(tmp, "prometheus.yml")], { encoding: "utf8" });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      const targets = (parse(cfg) as Obj).scrape_configs.flatMap((s: Obj) => s.static_configs[0].targets);
      expect(targets).toEqual(["gateway-1:8080", "gateway-2:8080", "inference:9464"]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("keeps Envoy streaming-safe: no route timeout, idle far above heartbeats, WebSocket, gRPC-Web, gRPC over HTTP/2", () => {
    expect(seconds(hcm.stream_idle_timeout)).toBeGreaterThanOrEqual(60); // heartbeats every 15 s
    expect(seconds(hcm.request_timeout)).toBe(0);
    expect(hcm.upgrade_configs).toEqual([{ upgrade_type: "websocket" }]);
    expect(hcm.http_filters.map((f: Obj) => f.name)).toEqual(["envoy.filters.http.grpc_web", "envoy.filters.http.router"]);
    const routes = hcm.route_config.virtual_hosts[0].routes as Obj[];
    for (const r of routes.filter((x) => x.route)) expect(seconds(r.route.timeout)).toBe(0);
    const grpc = routes.find((r) => r.match.headers?.[0]?.name === "content-type");
    const clusters = envoy.static_resources.clusters as Obj[];
    const h2 = clusters.find((c) => c.name === grpc.route.cluster);
    expect(
      h2.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config,
    ).toHaveProperty("http2_protocol_options");
    for (const c of clusters) expect(c.health_checks[0].http_health_check.path).toBe("/healthz");
    expect(routes[0]).toMatchObject({ match: { path: "/metrics" }, direct_response: { status: 404 } });
  });

  it("conforms to Envoy's v3 API: every field name, enum, oneof and @type URL (Envoy's .proto files)", () => {
    const api = new EnvoyApi();
    expect(api.check("envoy.config.bootstrap.v3.Bootstrap", envoy)).toEqual([]);
    // The check can fail: a misspelt field, an unknown @type, a bad duration, two fields of one oneof.
    const bad = structuredClone(envoy);
    bad.static_resources.clusters[0].connect_timout = "1s";
    bad.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config["@type"] =
      "type.googleapis.com/envoy.extensions.filters.http.grpc_webb.v3.GrpcWeb";
    bad.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stream_idle_timeout = "300";
    bad.static_resources.clusters[0].type = "STRICT_DNSS";
    bad.static_resources.clusters[0].cluster_type = { name: "x" };
    expect(api.check("envoy.config.bootstrap.v3.Bootstrap", bad)).toEqual([
      expect.stringMatching(/stream_idle_timeout: not a valid google.protobuf.Duration/),
      expect.stringMatching(/http_filters\[0\]\.typed_config: @type .*grpc_webb.* is not a message/),
      expect.stringMatching(/clusters\[0\]\.type: STRICT_DNSS is not a value/),
      expect.stringMatching(/clusters\[0\]\.connect_timout: no such field in envoy.config.cluster.v3.Cluster/),
      expect.stringMatching(/clusters\[0\]\.cluster_type: oneof cluster_discovery_type already set by type/),
    ]);
  });
});
