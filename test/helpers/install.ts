/**
 * The package as users get it: `npm pack` of this checkout (built by `npm test` first), made once
 * per test file into a temporary directory. The tarball bundles its dependencies, so installing it
 * needs no registry (the tests install with --offline: they never reach the internet).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './env.js';
import { tmpDir } from './tmp.js';

let packed: { tarball: string; sha256: string } | undefined;

/** npm with the registry out of reach and no notices: what a test may run. */
export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=warn'], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_update_notifier: 'false',
      // the parent npm (npm test) passes its own settings down; these installs have their own
      npm_config_global: undefined,
      npm_config_prefix: undefined,
      ...env,
    },
  });
}

export function packCheckout(): { tarball: string; sha256: string } {
  if (packed) return packed;
  const dir = tmpDir('pack');
  const out = execFileSync(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dir, '--loglevel=error'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  const tarball = join(dir, filename);
  packed = { tarball, sha256: createHash('sha256').update(readFileSync(tarball)).digest('hex') };
  return packed;
}
