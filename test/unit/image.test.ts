import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { ROUTES } from '../../src/routes';
import { SETTING_NAMES } from '../../src/config';
import { ENTRIES, EXTENSION, EXTERNAL, OUT_DIR } from '../../scripts/bundle';
import { execForm, imageCommand, readDockerfile, steps } from '../../scripts/dockerfile';

/**
 * No container engine runs here, so the image is held to its contract by reading the Dockerfile as Docker would:
 * stages, base images, user, entry point, what is copied into the final stage and from where. The build inputs are
 * checked too: the image's tsconfig compiles src and the bundler alone, and src imports nothing `npm ci --omit=dev`
 * leaves out.
 */

const ROOT = path.resolve(__dirname, '../..');

const stages = readDockerfile(path.join(ROOT, 'Dockerfile'));
const final = stages.at(-1)!;
const stageNamed = (name: string) => stages.find((s) => s.name === name);
const image = imageCommand(stages);
const env = image.env;

describe('the container image (Dockerfile)', () => {
  it('builds in stages and runs on a Node 22 base', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^(node:22(-[\w.-]+)?|gcr\.io\/distroless\/nodejs22-[\w.-]+(:[\w.-]+)?)$/);
  });

  it('runs as a non-root user', () => {
    const users = steps(final, 'USER').map((s) => s.args);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
  });

  it('starts the same HTTP service as `npm run serve`: node dist/bundle/server.mjs, the bundle of src/serverMain.ts', () => {
    const { argv } = image;
    expect(path.basename(argv[0]!)).toBe('node');
    expect(argv.slice(1)).toEqual([`${OUT_DIR}/server${EXTENSION}`]);
    expect(ENTRIES.server).toBe('src/serverMain.ts');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.serve).toContain(`node ${argv[1]}`);
    // The CLI the docs tell to run in the image exists too.
    expect(fs.existsSync(path.join(ROOT, 'src/cli/main.ts'))).toBe(true);
  });

  it('copies into the final stage only the compiled src, the bundle, production node_modules and package.json', () => {
    const copies = steps(final, 'COPY').map((s) => s.args);
    expect(copies).toEqual([
      '--from=deps /app/node_modules ./node_modules',
      '--from=build /app/dist/src ./dist/src',
      `--from=build /app/${OUT_DIR} ./${OUT_DIR}`,
      'package.json ./',
    ]);
    expect(steps(final, 'ADD')).toEqual([]);
    expect(steps(final, 'RUN')).toEqual([]);
  });

  it('bundles in the build stage with the same script as `npm run build`, whose packages left outside are production dependencies or the Functions worker\'s', () => {
    const build = stageNamed('build')!;
    const runs = steps(build, 'RUN').map((s) => s.args);
    expect(runs.indexOf('node dist/scripts/bundle.js')).toBeGreaterThan(runs.indexOf('npx tsc -p tsconfig.image.json'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.build).toContain('node dist/scripts/bundle.js');
    // The worker provides @azure/functions-core on Functions; elsewhere @azure/functions runs without it.
    expect(EXTERNAL.filter((p) => p !== '@azure/functions-core' && !(p in pkg.dependencies))).toEqual([]);
  });

  it('takes node_modules from a stage that installs without dev dependencies or install scripts', () => {
    const deps = stageNamed('deps')!;
    const runs = steps(deps, 'RUN').map((s) => s.args);
    expect(runs).toEqual([expect.stringMatching(/^npm ci --omit=dev\b.*--ignore-scripts/)]);
    expect(steps(deps, 'COPY').map((s) => s.args)).toEqual(['package.json package-lock.json ./']);
  });

  it('compiles with tsconfig.image.json, which builds src and the bundler script alone into dist/', () => {
    const build = stageNamed('build')!;
    expect(steps(build, 'RUN').map((s) => s.args)).toContain('npx tsc -p tsconfig.image.json');
    const configFile = path.join(ROOT, 'tsconfig.image.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } })!;
    expect(parsed.errors).toEqual([]);
    expect(path.resolve(parsed.options.outDir!)).toBe(path.join(ROOT, 'dist'));
    expect(path.resolve(parsed.options.rootDir!)).toBe(ROOT);
    const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
    // Our own sources: everything but the libraries (node_modules may be a link elsewhere).
    const ours = program
      .getSourceFiles()
      .filter((f) => !program.isSourceFileDefaultLibrary(f) && !program.isSourceFileFromExternalLibrary(f) && !f.fileName.split('/').includes('node_modules'))
      .map((f) => path.relative(ROOT, f.fileName));
    expect(ours.filter((f) => !f.startsWith(`src${path.sep}`))).toEqual([path.join('scripts', 'bundle.ts')]);
    expect(ours).toContain(path.join('src', 'server.ts'));
    expect(ours).toContain(path.join('src', 'cli', 'main.ts'));
  });

  it('needs nothing at run time that --omit=dev leaves out: src imports only dependencies and node built-ins', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const f of files) {
      const text = fs.readFileSync(path.join(ROOT, 'src', f), 'utf8');
      for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
        if (spec.startsWith('.')) continue;
        seen.add(spec);
        const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (spec.startsWith('node:') || builtinModules.includes(pkgName) || pkgName in pkg.dependencies) continue;
        missing.push(`${f}: ${spec}`);
      }
    }
    expect(seen).toContain('@azure/identity');
    expect(missing).toEqual([]);
  });

  it('checks its health on the anonymous liveness route with node itself (no curl in a distroless image)', () => {
    const [healthcheck] = steps(final, 'HEALTHCHECK').map((s) => s.args);
    expect(healthcheck).toBeDefined();
    const route = /\/api\/(health\/live)\b/.exec(healthcheck!)?.[1];
    expect(ROUTES.find((r) => r.route === route)?.authLevel).toBe('anonymous');
    const cmd = execForm(healthcheck!.replace(/^.*?CMD\s+/, ''));
    expect(path.basename(cmd[0]!)).toBe('node');
  });

  it('listens on all interfaces on the port it exposes, so it starts only with a key (the server refuses otherwise)', () => {
    expect(env.HOST).toBe('0.0.0.0');
    expect(steps(final, 'EXPOSE').map((s) => s.args)).toEqual([env.PORT]);
    for (const name of Object.keys(env).filter((k) => k !== 'NODE_ENV')) expect(SETTING_NAMES).toContain(name);
    // A key is a secret: given at run time, never baked into the image.
    expect(Object.keys(env).filter((k) => /KEY/.test(k))).toEqual([]);
    expect(stages.flatMap((s) => steps(s, 'ARG'))).toEqual([]);
  });
});

describe('the build context (.dockerignore)', () => {
  const lines = fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('starts from nothing and lets in exactly what the stages copy from the context', () => {
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const fromContext = stages
      .flatMap((s) => steps(s, 'COPY'))
      .filter((c) => !c.args.startsWith('--from='))
      .flatMap((c) => c.args.split(' ').slice(0, -1))
      .map((src) => src.replace(/\/$/, ''));
    expect([...new Set(fromContext)].sort()).toEqual([...allowed].sort());
    for (const f of allowed) expect(fs.existsSync(path.join(ROOT, f))).toBe(true);
  });
});
