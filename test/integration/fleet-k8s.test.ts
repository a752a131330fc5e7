// `kubectl kustomize` renders every overlay of deploy/k8s (kubectl from apt: scripts/setup.sh;
// KUBECTL=path picks another), and the rendered objects are checked: each against the Kubernetes
// OpenAPI schema of its kind (the kubernetes-models package: validators generated from the
// official OpenAPI spec of Kubernetes 1.33, compiled with ajv), only API versions served by 1.29
// and later, and what the deployment promises: probes, resources, a non-root read-only container,
// the volumes, one pod per node updated in place, and station configs the service accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { ROOT } from '../helpers/fixtures.js';

const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const OVERLAYS_DIR = join(ROOT, 'deploy', 'k8s', 'overlays');

/**
 * The Kubernetes 1.x release in which each API version we render became GA (Kubernetes release
 * notes and API deprecation guide). GA versions are never removed, so each is served from then on.
 */
const GA_SINCE_MINOR: Record<string, number> = {
  'v1/Namespace': 0,
  'v1/ConfigMap': 0,
  'v1/Service': 0,
  'v1/PersistentVolume': 0,
  'v1/PersistentVolumeClaim': 0,
  'apps/v1/DaemonSet': 9,
  'node.k8s.io/v1/RuntimeClass': 20,
  'policy/v1/PodDisruptionBudget': 21,
};
const OLDEST_SUPPORTED_MINOR = 29;

/** What differs between the overlays; a new overlay fails here until it is described. */
const EXPECTED: Record<string, { backend: string; arch: string; gpu: boolean }> = {
  'jetson-orin': { backend: 'tensorrt', arch: 'arm64', gpu: true },
  'x86-cpu': { backend: 'onnxruntime', arch: 'amd64', gpu: false },
};

/** Created by the operator (deploy/README.md), never rendered from the repository. */
const OPERATOR_SECRETS = ['adaclip-edge-mqtt', 'adaclip-edge-mqtt-tls'];
/** Volume types the namespace's "restricted" Pod Security level allows. */
const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
const NAMESPACE = 'adaclip-edge';
const STATE_DIR = '/var/lib/adaclip-edge';

// The rendered objects are plain YAML; these are the fields the checks read.
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, string>> }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  [type: string]: unknown;
}
interface PodSpec {
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: Volume[];
}
interface DaemonSet extends Obj {
  spec: {
    selector: { matchLabels: Record<string, string> };
    updateStrategy: {
      type: string;
      rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
    };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

function render(overlay: string): Obj[] {
  let out: string;
  try {
    out = execFileSync(KUBECTL, ['kustomize', join(OVERLAYS_DIR, overlay)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`${KUBECTL} not found: run scripts/setup.sh (apt kubernetes-client)`);
    throw new Error(`${KUBECTL} kustomize ${overlay} failed: ${e.stderr ?? e.message}`);
  }
  return parseAllDocuments(out).map((d) => d.toJS() as Obj);
}

/** Validates against the OpenAPI schema of the object's kind; throws naming every problem. */
async function validateAgainstSchema(obj: Obj): Promise<void> {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const module = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = module[obj.kind];
  assert.ok(Model, `${obj.apiVersion} ${obj.kind}: no such kind in the Kubernetes schemas`);
  new Model(obj).validate();
}

const one = <T extends Obj>(objs: Obj[], kind: string, name?: string): T => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''} in the rendered objects`);
  return found[0] as T;
};

for (const overlay of readdirSync(OVERLAYS_DIR).sort()) {
  test(`kubectl kustomize renders overlays/${overlay} into valid objects for Kubernetes 1.29+`, async () => {
    const expected = EXPECTED[overlay];
    assert.ok(expected, `overlay ${overlay} is not described in this test's EXPECTED table`);
    const objs = render(overlay);

    for (const o of objs) {
      const since = GA_SINCE_MINOR[`${o.apiVersion}/${o.kind}`];
      assert.ok(since !== undefined, `${o.apiVersion} ${o.kind} is not a GA API this test knows`);
      assert.ok(since <= OLDEST_SUPPORTED_MINOR, `${o.apiVersion} ${o.kind} is GA only since 1.${since}`);
      await validateAgainstSchema(o);
      const clusterScoped = ['Namespace', 'PersistentVolume', 'RuntimeClass'].includes(o.kind);
      if (!clusterScoped)
        assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name} namespace`);
    }
    assert.ok(!objs.some((o) => o.kind === 'Secret'), 'no secret is rendered from the repository');
    const ns = one(objs, 'Namespace');
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');

    // One pod per labelled node, replaced in place: the old one stops before the new one starts.
    const ds = one<DaemonSet>(objs, 'DaemonSet');
    assert.equal(ds.spec.updateStrategy.type, 'RollingUpdate');
    assert.equal(ds.spec.updateStrategy.rollingUpdate?.maxSurge, 0);
    assert.equal(ds.spec.updateStrategy.rollingUpdate?.maxUnavailable, 1);
    const podLabels = ds.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) assert.equal(podLabels[k], v);
    const pod = ds.spec.template.spec;
    assert.equal(pod.nodeSelector?.['adaclip-edge.io/station'], 'true');
    assert.equal(pod.nodeSelector?.['kubernetes.io/arch'], expected.arch);

    // Non-root, no privileges, read-only root file system.
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok(Number(pod.securityContext?.runAsUser) > 0, 'a numeric non-root user');
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(pod.containers.length, 1);
    const c = pod.containers[0];
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.notEqual(c.securityContext?.privileged, true);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    assert.match(c.image, /^[a-z0-9.-]+\.[a-z]+\/.+:.+$/, 'the overlay names a registry image with a tag');

    // Probes on the dashboard port: liveness and startup on /healthz, readiness on /readyz.
    const http = c.ports?.find((p) => p.name === 'http');
    assert.ok(http, 'a port named http');
    const probe = (p: Probe | undefined, path: string, what: string) => {
      assert.equal(p?.httpGet?.path, path, `${what} path`);
      assert.ok(p?.httpGet?.port === 'http' || p?.httpGet?.port === http.containerPort, `${what} port`);
    };
    probe(c.livenessProbe, '/healthz', 'liveness');
    probe(c.startupProbe, '/healthz', 'startup');
    probe(c.readinessProbe, '/readyz', 'readiness');

    // Resources: requests to schedule by, a memory limit; the GPU only where there is one.
    assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'cpu and memory requests');
    assert.ok(c.resources?.limits?.memory, 'a memory limit');
    assert.equal(c.resources?.limits?.['nvidia.com/gpu'] !== undefined, expected.gpu, 'nvidia.com/gpu limit');
    if (expected.gpu) {
      assert.equal(pod.runtimeClassName, 'nvidia');
      assert.equal((one(objs, 'RuntimeClass', 'nvidia') as Obj & { handler: string }).handler, 'nvidia');
    } else {
      assert.equal(pod.runtimeClassName, undefined);
      assert.ok(!objs.some((o) => o.kind === 'RuntimeClass'));
    }

    // Volumes: only kinds the restricted level allows; every mount has its volume; the only
    // writable places are the state volume and /tmp; claims are bound to hostPath volumes.
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    const typeOf = (v: Volume) => Object.keys(v).find((k) => k !== 'name')!;
    for (const v of volumes.values())
      assert.ok(RESTRICTED_VOLUMES.includes(typeOf(v)), `volume ${v.name} of type ${typeOf(v)}`);
    const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    for (const m of mounts.values()) assert.ok(volumes.has(m.name), `mount ${m.mountPath} has a volume`);
    const writable = [...mounts.values()].filter((m) => !m.readOnly).map((m) => m.mountPath);
    assert.deepEqual(writable.sort(), ['/tmp', STATE_DIR]);
    const claimOf = (mountPath: string) => {
      const v = volumes.get(mounts.get(mountPath)!.name)!;
      const claim = one<Obj & { spec: { volumeName: string } }>(
        objs,
        'PersistentVolumeClaim',
        (v.persistentVolumeClaim as { claimName: string }).claimName,
      );
      return one<Obj & { spec: { hostPath: { path: string } } }>(
        objs,
        'PersistentVolume',
        claim.spec.volumeName,
      );
    };
    assert.equal(claimOf(STATE_DIR).spec.hostPath.path, STATE_DIR, 'the state directory is on the device');
    assert.equal(claimOf('/opt/adaclip-edge/models').spec.hostPath.path, '/opt/adaclip-edge/models');
    const secretsUsed = [
      ...(c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
      ...[...volumes.values()].flatMap((v) =>
        v.secret ? [(v.secret as { secretName: string }).secretName] : [],
      ),
    ];
    assert.deepEqual([...new Set(secretsUsed)].sort(), OPERATOR_SECRETS);

    // Each node's station config is the ConfigMap key named after it, and the service accepts it
    // with the overlay's environment.
    const nodeName = c.env?.find((e) => e.name === 'NODE_NAME');
    assert.equal(nodeName?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    const configArg = c.args?.[c.args.indexOf('--config') + 1] ?? '';
    assert.match(configArg, /\$\(NODE_NAME\)\.yaml$/);
    const stationsMount = [...mounts.values()].find((m) => configArg.startsWith(m.mountPath + '/'));
    assert.ok(stationsMount, `the config ${configArg} is inside a mounted volume`);
    const stationsVolume = volumes.get(stationsMount.name)!.configMap as { name: string };
    const cm = one<Obj & { data: Record<string, string> }>(objs, 'ConfigMap', stationsVolume.name);
    assert.ok(Object.keys(cm.data).length > 0, 'at least one station');
    const env: NodeJS.ProcessEnv = {};
    for (const e of c.env ?? [])
      if (e.name.startsWith('ADACLIP_EDGE__')) env[e.name] = e.value ?? 'secret-from-k8s';
    for (const [key, text] of Object.entries(cm.data)) {
      assert.match(key, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.yaml$/, `${key}: a node name`);
      const cfg = parseConfigText(text, `${overlay}/${key}`, env);
      assert.equal(cfg.model.engine.backend, expected.backend, `${key}: engine backend`);
      assert.equal(cfg.mqtt.password, 'secret-from-k8s', `${key}: the password comes from the secret`);
      assert.equal(cfg.stateDir, STATE_DIR, `${key}: stateDir is the state volume`);
      for (const [what, path] of [
        ['mqtt.outbox.path', cfg.mqtt.outbox.path],
        ['snapshots.dir', cfg.snapshots.dir],
        ['mqtt.sparkplug.bdSeqFile', cfg.mqtt.sparkplug.bdSeqFile],
        ['history.path', cfg.history.path],
        ['history.reviewsDir', cfg.history.reviewsDir],
      ])
        assert.ok(path.startsWith(STATE_DIR + '/'), `${key}: ${what} ${path} is in the state volume`);
      if (cfg.model.engine.engineCacheDir)
        assert.ok(cfg.model.engine.engineCacheDir.startsWith(STATE_DIR + '/'));
      assert.ok(
        cfg.model.bundle.startsWith('/opt/adaclip-edge/models/'),
        `${key}: the bundle is on the models volume`,
      );
      for (const f of [cfg.mqtt.tls?.ca, cfg.mqtt.tls?.cert, cfg.mqtt.tls?.key])
        assert.ok(f?.startsWith('/etc/adaclip-edge/tls/'), `${key}: TLS file ${f} from the TLS secret`);
      assert.equal(cfg.dashboard.host, '0.0.0.0', `${key}: the probes reach the dashboard`);
      assert.equal(cfg.dashboard.port, http.containerPort, `${key}: dashboard port`);
    }

    // The disruption budget and the Service select the DaemonSet's pods.
    const pdb = one<
      Obj & { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }
    >(objs, 'PodDisruptionBudget');
    assert.equal(pdb.spec.maxUnavailable, 1);
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert.equal(podLabels[k], v);
    const svc = one<Obj & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>(
      objs,
      'Service',
    );
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v);
    assert.equal(svc.spec.ports[0].targetPort, 'http');
  });
}

test('the schema validation catches a malformed object', async () => {
  const ds = one<DaemonSet>(render(Object.keys(EXPECTED)[0]), 'DaemonSet');
  ds.spec.template.spec.containers[0].ports = [{ containerPort: 'http' as unknown as number }];
  await assert.rejects(() => validateAgainstSchema(ds), /containerPort must be integer/);
});
