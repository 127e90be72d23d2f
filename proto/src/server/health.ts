import { health } from "@airwave/proto";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";

const { HealthCheckResponse_ServingStatus: ServingStatus } = health;

/**
 * The serving status of a server's services, shared by the health service
 * and the code that starts and stops the server.
 */
export interface HealthState {
  /** The status of `service` (`""` is the whole server); undefined for a service the server does not have. */
  get(service: string): health.HealthCheckResponse_ServingStatus | undefined;
  /** Sets the status of every service (e.g. NOT_SERVING when shutting down). */
  setAll(status: health.HealthCheckResponse_ServingStatus): void;
  /** A counter that grows on every status change. */
  version(): number;
  /** Resolves once the version differs from `since` (at once if it already does); rejects with the signal's reason when it aborts. */
  changed(since: number, signal: AbortSignal): Promise<void>;
}

/**
 * Creates a {@link HealthState} for the given fully-qualified service names
 * plus the whole server (`""`), all SERVING.
 */
export function createHealthState(services: readonly string[]): HealthState {
  const known = new Set(["", ...services]);
  let status = ServingStatus.SERVING;
  let version = 0;
  let waiters: (() => void)[] = [];
  return {
    get: (service) => (known.has(service) ? status : undefined),
    setAll(s) {
      if (s === status) return;
      status = s;
      version++;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    version: () => version,
    changed: (since, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        if (since !== version) return resolve();
        const onAbort = () => {
          waiters = waiters.filter((f) => f !== done);
          reject(signal.reason);
        };
        const done = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        waiters.push(done);
        signal.addEventListener("abort", onAbort, { once: true });
      }),
  };
}

/**
 * Creates the standard `grpc.health.v1.Health` service over a {@link HealthState}.
 *
 * - `Check` returns the status; raises a ConnectError with Code.NotFound for
 *   a service the server does not have.
 * - `Watch` sends the status at once and again on every change, until the
 *   call ends; an unknown service is SERVICE_UNKNOWN (not an error), as the
 *   protocol says.
 *
 * @see https://github.com/grpc/grpc/blob/master/doc/health-checking.md
 */
export function createHealthService(state: HealthState): ServiceImpl<typeof health.Health> {
  return {
    check(req) {
      const status = state.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service.slice(0, 128)}"`, Code.NotFound);
      return { status };
    },
    async *watch(req, ctx) {
      for (;;) {
        const seen = state.version();
        yield { status: state.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN };
        await state.changed(seen, ctx.signal);
      }
    },
  };
}
