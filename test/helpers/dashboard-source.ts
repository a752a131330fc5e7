// A stand-in for the service behind the real DashboardServer: the given status, an API whose
// actions nobody in the test takes throw "unused" (overrides give the ones it does take), no
// trigger, no snapshots, a fixed metrics text.
import type { ApiDeps } from '../../src/dashboard/routes/deps.js';
import type { DashboardSource, ServiceStatus } from '../../src/dashboard/types.js';

export function stubDashboardSource(
  status: () => ServiceStatus,
  api: Partial<ApiDeps> = {},
): DashboardSource {
  const unused = () => {
    throw new Error('unused');
  };
  return {
    status,
    trigger: () => ({ refused: 'not a trigger camera' }),
    snapshotFile: () => undefined,
    metricsText: async () => 'm 1\n',
    metricsContentType: 'text/plain',
    api: {
      status,
      cameraIds: () => [],
      acknowledge: unused,
      review: () => Promise.reject(new Error('unused')),
      suspend: unused,
      resume: () => true,
      setThresholds: () => ({}),
      liveFrame: () => undefined,
      readiness: () => ({ ready: true, reasons: [] }) as unknown as ReturnType<ApiDeps['readiness']>,
      subscribe: () => () => undefined,
      statusIntervalMs: 60_000,
      ...api,
    },
  };
}
