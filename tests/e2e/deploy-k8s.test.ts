/**
 * deploy/k8s: every overlay renders with `kubectl kustomize` (kubectl is on
 * the machine; in CI a missing kubectl fails the suite), every object
 * validates against the Kubernetes OpenAPI schemas (kubernetes-models:
 * types, required fields and enums) and has no unknown field anywhere
 * (TypeScript's excess-property check of every object against the
 * kubernetes-models interfaces generated from the same schemas), and the
 * streaming-specific settings hold: probes, a restrictive securityContext,
 * memory limits, a termination grace that covers preStop + the gateway's
 * shutdown grace + its close margin, h2c `appProtocol` for gRPC, and an
 * ingress with buffering off and hour-long timeouts. There is no cluster
 * here: nothing is applied.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as apps from "kubernetes-models/apps/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as core from "kubernetes-models/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { describe, expect, it } from "vitest";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

const root = join(import.meta.dirname, "..", "..");
const overlays = ["dev", "prod"] as const;
const installed = !spawnSync("kubectl", ["version", "--client"]).error;
if (!installed && process.env.CI) throw new Error("kubectl is not installed; CI must render the kustomize overlays");
if (!installed) console.warn("deploy/k8s checks skipped: kubectl is not installed; with CI set this fails");

// biome-ignore lint/suspicious/noExplicitAny: rendered YAML objects, checked field by field below
type Obj = any;

/** The model class of each kind used, for its schema validation. */
const models: Record<string, new (o: Obj) => { validate(): void }> = {
  "v1/ConfigMap": core.ConfigMap,
  "v1/Secret": core.Secret,
  "v1/Service": core.Service,
  "v1/Namespace": core.Namespace,
  "apps/v1/Deployment": apps.Deployment,
  "policy/v1/PodDisruptionBudget": policy.PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": autoscaling.HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": networking.NetworkPolicy,
  "networking.k8s.io/v1/Ingress": networking.Ingress,
  "monitoring.coreos.com/v1/ServiceMonitor": monitoring.ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": monitoring.PrometheusRule,
};

/** The kubernetes-models module of an apiVersion (its interfaces are `I<Kind>`). */
const moduleOf = (apiVersion: string) =>
  apiVersion === "monitoring.coreos.com/v1"
    ? "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"
    : `kubernetes-models/${apiVersion}`;

/**
 * Fields the Kubernetes API does not know, in any object at any depth: each
 * object becomes an object literal that `satisfies` its kubernetes-models
 * interface, type-checked by the TypeScript compiler, whose excess-property
 * check reports an unknown field (the first of each object; the strict
 * validation `kubectl apply --validate=strict` would do against a cluster).
 * @returns `Kind/name: message` per problem; empty when none.
 */
function unknownFields(objs: Obj[]): string[] {
  const file = join(root, "tests", "e2e", "k8s-objects.virtual.ts");
  const modules = [...new Set(objs.map((o) => moduleOf(o.apiVersion)))];
  const source = [
    ...modules.map((m, i) => `import type * as m${i} from "${m}";`),
    ...objs.map((o, i) => `export const o${i} = ${JSON.stringify(o)} satisfies m${modules.indexOf(moduleOf(o.apiVersion))}.I${o.kind};`),
  ].join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  const virtual = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022);
  host.getSourceFile = (name, ...rest) => (name === file ? virtual : getSourceFile.call(host, name, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  return ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).map((d) => {
    const o =
      d.file === virtual && d.start !== undefined ? objs[virtual.getLineAndCharacterOfPosition(d.start).line - modules.length] : undefined;
    return `${o ? `${o.kind}/${o.metadata?.name}` : (d.file?.fileName ?? "?")}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
  });
}

function render(overlay: string): Obj[] {
  const r = spawnSync("kubectl", ["kustomize", join(root, "deploy", "k8s", "overlays", overlay)], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
}

describe.runIf(installed).each(overlays)("deploy/k8s/overlays/%s", (overlay) => {
  const objs = installed ? render(overlay) : [];
  const byKind = (kind: string) => objs.filter((o) => o.kind === kind);
  const deployment = (name: string) => byKind("Deployment").find((d) => d.metadata.name === name);

  it("renders, and every object validates against its Kubernetes schema", () => {
    expect(objs.length).toBeGreaterThan(10);
    for (const o of objs) {
      const Model = models[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has no schema here`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it("has no field the Kubernetes API does not know, in any object at any depth", () => {
    expect(unknownFields(objs)).toEqual([]);
    // The check can fail: a misspelt field deep in a pod template, another at the top of a spec
    // (TypeScript reports the first unknown field of each object).
    const deep = structuredClone(deployment("airwave-gateway"));
    deep.spec.template.spec.containers[0].readinessProbe.httpGett = {};
    const top = structuredClone(deployment("airwave-inference"));
    top.spec.replica = 2;
    expect(unknownFields([deep, top])).toEqual([
      expect.stringMatching(/^Deployment\/airwave-gateway: .*'"httpGett"' does not exist in type 'IProbe'/),
      expect.stringMatching(/^Deployment\/airwave-inference: .*'"replica"' does not exist in type 'IDeploymentSpec'/),
    ]);
  });

  it("runs every Airwave container non-root, read-only, without capabilities, with probes and a memory limit", () => {
    for (const name of ["airwave-gateway", "airwave-inference"]) {
      const d = deployment(name);
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext, name).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.startupProbe && c.readinessProbe && c.livenessProbe, name).toBeTruthy();
        expect(c.resources.limits.memory, name).toBeDefined();
        expect(c.resources.requests.cpu, name).toBeDefined();
        expect(c.lifecycle.preStop, name).toBeDefined();
      }
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    }
    // The gateway: readiness on /healthz (503 from the first moment of a drain), the inference service on gRPC health.
    expect(deployment("airwave-gateway").spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe("/healthz");
    expect(deployment("airwave-inference").spec.template.spec.containers[0].readinessProbe.grpc.port).toBe(50051);
  });

  it("gives the gateway a termination grace covering preStop, AIRWAVE_SHUTDOWN_GRACE_MS and the close margin", () => {
    const d = deployment("airwave-gateway");
    const pod = d.spec.template.spec;
    const cm = byKind("ConfigMap").find((c) => c.metadata.name.startsWith("airwave-gateway"));
    const graceMs = Number(cm.data.AIRWAVE_SHUTDOWN_GRACE_MS);
    const preStopS = Number(pod.containers[0].lifecycle.preStop.exec.command[1]);
    const closeMarginS = 5; // gateway/src/run-gateway.ts closeMarginMs
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopS + graceMs / 1000 + closeMarginS);
  });

  it("names the protocol of every Service port: h2c for gRPC, http for HTTP/1.1", () => {
    for (const s of byKind("Service").filter((x) => x.metadata.name !== "airwave-redis")) {
      for (const p of s.spec.ports) expect(p.appProtocol, `${s.metadata.name}:${p.name}`).toMatch(/^(http|kubernetes\.io\/h2c)$/);
    }
    const inference = byKind("Service").find((s) => s.metadata.name === "airwave-inference");
    expect(inference.spec.ports.find((p: Obj) => p.name === "grpc").appProtocol).toBe("kubernetes.io/h2c");
  });

  it("takes keys and the Redis URL from Secrets, never from a ConfigMap", () => {
    for (const cm of byKind("ConfigMap")) {
      expect(JSON.stringify(cm.data)).not.toMatch(/API_KEY=|COOKIE_SECRET|REDIS_URL|password/i);
    }
    const env = deployment("airwave-gateway").spec.template.spec.containers[0].env as Obj[];
    for (const n of ["AIRWAVE_REDIS_URL", "AIRWAVE_API_KEYS", "AIRWAVE_COOKIE_SECRET"]) {
      expect(env.find((e) => e.name === n)?.valueFrom?.secretKeyRef, n).toBeDefined();
    }
  });

  if (overlay === "prod") {
    it("scrapes every replica (ServiceMonitors) and carries the alert rules and the dashboard", () => {
      expect(
        byKind("ServiceMonitor")
          .map((m) => m.metadata.name)
          .sort(),
      ).toEqual(["airwave-gateway", "airwave-inference"]);
      const rule = byKind("PrometheusRule")[0];
      expect(rule.spec.groups[0].rules.map((r: Obj) => r.alert)).toContain("AirwaveNoFirstToken");
      const dash = byKind("ConfigMap").find((c) => c.metadata.name.startsWith("airwave-grafana-dashboard"));
      expect(JSON.parse(dash.data["airwave-dashboard.json"]).uid).toBe("airwave");
    });

    it("routes through an ingress with response buffering off and hour-long timeouts, gRPC to the h2c port", () => {
      const [web, grpc] = byKind("Ingress");
      expect(web.metadata.annotations).toMatchObject({
        "nginx.ingress.kubernetes.io/proxy-buffering": "off",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
      });
      expect(grpc.metadata.annotations["nginx.ingress.kubernetes.io/backend-protocol"]).toBe("GRPC");
      expect(grpc.spec.rules[0].http.paths.every((p: Obj) => p.backend.service.port.name === "h2c")).toBe(true);
    });
  }
});
