// A test that needs a tool or a built artefact fails when it is missing, naming it and the setup step
// that provides it: a green run must prove what it claims, so nothing skips for a missing tool (only
// GPU and TensorRT tests may skip, saying why).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';
const SETUP = 'scripts/setup.sh installs it (run it once; `bash scripts/setup.sh`)';

/** The Debian package that brings each Python module the tests import. */
const DEBIAN_PYTHON_PACKAGE: Record<string, string> = {
  numpy: 'python3-numpy',
  scipy: 'python3-scipy',
  'scipy.ndimage': 'python3-scipy',
  PIL: 'python3-pil',
  torch: 'python3-torch',
  torchvision: 'python3-torchvision',
  sklearn: 'python3-sklearn',
  onnx: 'python3-onnx',
  regex: 'python3-regex',
};

const checked = new Map<string, string | undefined>();
function once(key: string, probe: () => string | undefined): void {
  if (!checked.has(key)) checked.set(key, probe());
  const why = checked.get(key);
  if (why !== undefined) throw new Error(why);
}

/** Throws unless `python` imports every module, naming the missing ones and their Debian packages. */
export function requirePython(modules: string[], python = PYTHON): void {
  for (const m of modules) {
    once(`py:${python}:${m}`, () => {
      const r = spawnSync(python, ['-c', `import ${m}`], { encoding: 'utf8', timeout: 120_000 });
      if (r.status === 0) return undefined;
      const pkg = DEBIAN_PYTHON_PACKAGE[m] ?? `the package of Python module ${m}`;
      const detail = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? '');
      return `${python} cannot import ${m} (${detail}): this test needs Debian ${pkg}; ${SETUP}`;
    });
  }
}

/** Throws unless `command` is on PATH, naming the Debian package that provides it. */
export function requireCommand(command: string, debianPackage: string): void {
  once(`cmd:${command}`, () => {
    const r = spawnSync('sh', ['-c', `command -v '${command}'`], { stdio: 'ignore' });
    return r.status === 0
      ? undefined
      : `${command} not found on PATH: this test needs Debian ${debianPackage}; ${SETUP}`;
  });
}

/** Throws unless `path` exists; `what` names it and `madeBy` the step that makes it. */
export function requireFile(path: string, what: string, madeBy: string): void {
  if (!existsSync(path)) throw new Error(`${what} missing at ${path}: ${madeBy}`);
}

/** Throws unless the demo bundle (made by setup) is at `bundle`. */
export function requireDemoBundle(bundle: string): void {
  requireFile(
    `${bundle}/manifest.json`,
    'the demo model bundle',
    'scripts/setup.sh makes it (models/export/make_demo_bundle.sh)',
  );
}
