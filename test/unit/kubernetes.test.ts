import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseCommand } from '../../src/cli/args';
import { SETTING_NAMES, TargetListSchema } from '../../src/config';
import { ROUTES } from '../../src/routes';

/**
 * deploy/kubernetes is held to what the cluster and the image expect, without a cluster: every document parses,
 * has its kind's required fields, and agrees with the rest — probes on routes that exist and are anonymous, env names
 * that are settings, the pod label workload identity needs, a non-root read-only container as the Dockerfile's user,
 * the Job's arguments a valid CLI command whose targets file is mounted.
 */

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(ROOT, 'deploy', 'kubernetes');

// Parsed YAML is checked field by field below; a looser type keeps those checks readable.
type Obj = Record<string, any>;

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: { file: string; doc: Obj }[] = files.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return { file, doc: d.toJS() as Obj };
  }),
);
const ofKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const one = (kind: string) => {
  const all = ofKind(kind);
  if (all.length !== 1) throw new Error(`expected one ${kind} in deploy/kubernetes, found ${all.length}`);
  return all[0]!;
};

const API_VERSIONS: Record<string, string> = {
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  Job: 'batch/v1',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The USER of the image's final stage (Dockerfile). */
const IMAGE_UID = Number(/^USER\s+(\d+)/m.exec(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1]);
const anonymousPaths = ROUTES.filter((r) => r.authLevel === 'anonymous').map((r) => `/api/${r.route}`);

/** What the pod spec of a Deployment or a Job must hold for the doctor to run as the workload's identity, safely. */
function expectWorkloadIdentityPod(template: Obj, serviceAccount: Obj) {
  expect(template.metadata.labels['azure.workload.identity/use']).toBe('true');
  const spec = template.spec;
  expect(spec.serviceAccountName).toBe(serviceAccount.metadata.name);
  expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: IMAGE_UID, seccompProfile: { type: 'RuntimeDefault' } });
  const [container, ...others] = spec.containers as Obj[];
  expect(others).toEqual([]);
  expect(container!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  expect(container!.resources.limits.memory).toBeDefined();
  // Read-only root: the one place Node writes (its compile cache, under the temp dir) is an emptyDir.
  const tmp = (container!.volumeMounts as Obj[]).find((m) => m.mountPath === '/tmp');
  expect((spec.volumes as Obj[]).find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  for (const e of (container!.env ?? []) as Obj[]) expect(SETTING_NAMES).toContain(e.name);
}

describe('deploy/kubernetes', () => {
  it('holds only documents of known kinds with their apiVersion and a name', () => {
    expect(docs.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of docs) {
      expect({ file, kind: doc.kind, apiVersion: doc.apiVersion }).toEqual({ file, kind: doc.kind, apiVersion: API_VERSIONS[doc.kind] });
      if (doc.kind !== 'Kustomization') expect({ file, name: doc.metadata?.name ?? doc.metadata?.generateName }).toEqual({ file, name: expect.stringMatching(/^[a-z0-9-]+$/) });
    }
  });

  it('lists in kustomization.yaml every file but the Job, which is created apart after each rollout', () => {
    const k = one('Kustomization');
    const jobFile = docs.find((d) => d.doc.kind === 'Job')!.file;
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml' && f !== jobFile).sort());
  });

  it('annotates the service account with the client id of a managed identity', () => {
    const sa = one('ServiceAccount');
    expect(sa.metadata.annotations['azure.workload.identity/client-id']).toMatch(GUID);
  });

  it('keeps valid targets in the ConfigMap (the DIAGNOSE_TARGETS shape)', () => {
    const targets = JSON.parse(one('ConfigMap').data['targets.json']) as unknown;
    expect(TargetListSchema.safeParse(targets).success).toBe(true);
  });

  describe('the Deployment', () => {
    const deployment = one('Deployment');
    const template = deployment.spec.template;
    const container = template.spec.containers[0] as Obj;
    const env = Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e]));

    it('runs as the workload identity, non-root, on a read-only root file system, with only settings in its env', () => {
      expectWorkloadIdentityPod(template, one('ServiceAccount'));
    });

    it('selects its own pods', () => {
      expect(template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    });

    it('probes liveness on /api/health/live and readiness on /api/health — anonymous routes — on the port it serves', () => {
      expect(container.livenessProbe.httpGet.path).toBe('/api/health/live');
      expect(container.readinessProbe.httpGet.path).toBe('/api/health');
      const ports = container.ports as Obj[];
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        expect(anonymousPaths).toContain(probe.httpGet.path);
        expect(ports.find((p) => p.name === probe.httpGet.port)?.containerPort).toBe(Number(env.PORT?.value ?? 8080));
      }
      // The image listens on 0.0.0.0; a loopback HOST would leave the probes (and the Service) unanswered.
      expect(env.HOST).toBeUndefined();
    });

    it('takes the key from a Secret mounted where DIAGNOSE_API_KEY_FILE points, never from a literal', () => {
      expect(env.DIAGNOSE_API_KEY).toBeUndefined();
      const keyFile = env.DIAGNOSE_API_KEY_FILE.value as string;
      const mount = (container.volumeMounts as Obj[]).find((m) => keyFile.startsWith(`${m.mountPath}/`))!;
      expect(mount.readOnly).toBe(true);
      const volume = (template.spec.volumes as Obj[]).find((v) => v.name === mount.name)!;
      expect(volume.secret.secretName).toMatch(/^[a-z0-9-]+$/);
    });

    it('reads its targets from the ConfigMap', () => {
      expect(env.DIAGNOSE_TARGETS.valueFrom.configMapKeyRef).toEqual({ name: one('ConfigMap').metadata.name, key: 'targets.json' });
    });

    it('is reached through a Service that selects its pods only, on the named port', () => {
      const svc = one('Service');
      expect(template.metadata.labels).toMatchObject(svc.spec.selector);
      expect(one('Job').spec.template.metadata.labels).not.toMatchObject(svc.spec.selector);
      expect((container.ports as Obj[]).map((p) => p.name)).toContain(svc.spec.ports[0].targetPort);
    });
  });

  describe('the Job', () => {
    const job = one('Job');
    const template = job.spec.template;
    const container = template.spec.containers[0] as Obj;

    it('runs as the workload identity, non-root, on a read-only root file system', () => {
      expectWorkloadIdentityPod(template, one('ServiceAccount'));
    });

    it('runs once: its success is the CLI\'s exit code', () => {
      expect(job.metadata.generateName).toMatch(/-$/);
      expect(job.spec.backoffLimit).toBe(0);
      expect(template.spec.restartPolicy).toBe('Never');
      expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(120);
    });

    it('runs the same image as the Deployment, with arguments the CLI accepts and a targets file that is mounted', () => {
      expect(container.image).toBe(one('Deployment').spec.template.spec.containers[0].image);
      const [script, ...argv] = container.args as string[];
      expect(script).toBe('dist/src/cli/main.js');
      expect(fs.existsSync(path.join(ROOT, 'src/cli/main.ts'))).toBe(true);
      const command = parseCommand(argv);
      if (command.command !== 'diagnose') throw new Error(`the Job runs ${command.command}`);
      // The wait must end before the Job's deadline cuts it.
      expect((command.waitSeconds ?? 0) + 60).toBeLessThan(job.spec.activeDeadlineSeconds);
      const file = command.targetsFile!;
      const mount = (container.volumeMounts as Obj[]).find((m) => file === `${m.mountPath}/${path.basename(file)}`)!;
      const volume = (template.spec.volumes as Obj[]).find((v) => v.name === mount.name)!;
      expect(volume.configMap.name).toBe(one('ConfigMap').metadata.name);
      expect(Object.keys(one('ConfigMap').data)).toContain(path.basename(file));
    });
  });
});
