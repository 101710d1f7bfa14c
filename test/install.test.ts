/**
 * The install paths the README gives, each run for real by npm: the packed tarball installed
 * globally and as a project dependency (the library and a plugin copied out of the repository),
 * and the checkout itself installed globally (a link to its build). Offline: the tarball bundles
 * its dependencies, so none of this reaches a registry.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers/env.js';
import { npm, packCheckout } from './helpers/install.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

function run(cmd: string, args: string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8' });
}

describe('install paths', () => {
  it(`npm pack → npm install -g ./m365fw-${VERSION}.tgz: m365fw on PATH, no warning, the sample compiles`, () => {
    const { tarball } = packCheckout();
    expect(tarball).toMatch(new RegExp(`m365fw-${VERSION.replace(/\./g, '\\.')}\\.tgz$`));
    const prefix = tmpDir('npm-g');
    const r = npm(['install', '--global', '--prefix', prefix, tarball], tmpDir('cwd'));
    expect(r.status, r.stderr).toBe(0);
    // no EBADENGINE, no install-script notice: nothing at warn level
    expect(r.stderr).toBe('');
    const bin = join(prefix, 'bin', 'm365fw');
    expect(run(bin, ['--version'], prefix).stdout).toBe(`${VERSION}\n`);
    const out = join(tmpDir('g-out'), 'out');
    const c = run(
      bin,
      ['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out],
      prefix,
    );
    expect(c.status, c.stderr).toBe(0);
    expect(existsSync(join(out, 'm365fw.nft'))).toBe(true);
    // its dependencies came in the tarball
    expect(existsSync(join(prefix, 'lib/node_modules/m365fw/node_modules/yaml/package.json'))).toBe(
      true,
    );
  });

  it('npm install -g . from a built checkout: a link to it', () => {
    const prefix = tmpDir('npm-link');
    const r = npm(['install', '--global', '--prefix', prefix, ROOT], tmpDir('cwd'));
    expect(r.status, r.stderr).toBe(0);
    expect(realpathSync(join(prefix, 'lib/node_modules/m365fw'))).toBe(realpathSync(ROOT));
    expect(run(join(prefix, 'bin', 'm365fw'), ['--version'], prefix).stdout).toBe(`${VERSION}\n`);
  });

  it('a project dependency: the library API and the example plugin, copied out of the repository', () => {
    const { tarball } = packCheckout();
    const proj = tmpDir('proj');
    writeFileSync(
      join(proj, 'package.json'),
      JSON.stringify({ name: 'corp-firewall', private: true, type: 'module' }),
    );
    const r = npm(['install', tarball], proj);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // the library, as its doc comment shows it
    writeFileSync(
      join(proj, 'lib.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "import { readFeed, compile, render } from 'm365fw';",
        `const feed = readFeed(readFileSync(${JSON.stringify(SAMPLE)}), { name: 'sample-feed.json' });`,
        "const run = render(compile(feed, { serviceAreas: ['Exchange'] }), { targets: ['nftables'] });",
        "process.stdout.write(run.artifacts.map((a) => a.path).join(',') + '\\n');",
      ].join('\n'),
    );
    const lib = run(process.execPath, ['lib.mjs'], proj);
    expect(lib.stderr).toBe('');
    expect(lib.stdout).toBe('m365fw.nft,report.json\n');
    // the plugin of examples/, in the project's own folder, loaded by the project's m365fw
    mkdirSync(join(proj, 'plugins'));
    copyFileSync(join(ROOT, 'examples/plugin-target/pf-table.mjs'), join(proj, 'plugins/pf.mjs'));
    const out = join(proj, 'out');
    const c = run(
      join(proj, 'node_modules/.bin/m365fw'),
      [
        'compile',
        '--input',
        SAMPLE,
        '--target-module',
        'plugins/pf.mjs',
        '--target',
        'pf',
        '--pf-dir',
        '/etc/pf.m365',
        '--out',
        out,
      ],
      proj,
    );
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(join(out, 'm365fw-pf.conf'), 'utf8')).toContain(
      'table <m365_v4_tcp_80_443>',
    );
  });
});
