/**
 * The in-process compile the target tests use (helpers/here.ts) writes what the CLI writes: the
 * same files, byte for byte, and the same report (key order aside), for each target and the
 * flags those tests pass. (Not part of npm run mutate: it compares two runs, not a run with the
 * truth.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FIXTURES, runCli } from './helpers/env.js';
import { compileHere, runHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

it.each([
  ['nftables', ['--nft-mode', 'include', '--nft-table', 'egress']],
  ['iptables', ['--no-ipset', '--categories', 'Optimize,Allow']],
  ['azure-nsg', ['--nsg-priority-step', '10', '--express-route-only']],
  ['paloalto', ['--panos-ip-edl', '--panos-edl-url-base', 'https://edl.example/m365/']],
  ['pac', ['--pac-proxy', 'PROXY proxy.example:8080', '--pac-type', '2', '--tenant', 'Contoso']],
  ['terraform-azure-nsg', ['--required-only']],
  ['nftables,iptables', ['--no-ipv6', '--service-areas', 'Exchange', '--nft-hook', 'output']],
  ['all', ['--no-ipv4', '--pac-proxy', 'DIRECT']],
])('--target %s %j', (t, extra) => {
  const cli = tmpDir('here'),
    here = tmpDir('here');
  const args = (out: string) => [
    '--input',
    join(FIXTURES, 'sample-feed.json'),
    '--target',
    t,
    '--out',
    out,
    ...extra,
  ];
  const a = runCli(['compile', ...args(cli)]);
  expect(a.code, a.stderr).toBe(0);
  const b = compileHere(args(here));
  const ms = (s: string) => s.replace(/ in [0-9]+ ms:/, ' in … ms:');
  expect({ ...b, stdout: ms(b.stdout) }).toEqual({ code: 0, stdout: ms(a.stdout), stderr: '' });
  const files = readdirSync(cli).sort();
  expect(readdirSync(here).sort()).toEqual(files);
  for (const f of files) {
    const [x, y] = [readFileSync(join(cli, f), 'utf8'), readFileSync(join(here, f), 'utf8')];
    if (f === 'report.json') expect(JSON.parse(y)).toEqual(JSON.parse(x));
    else expect(y, f).toBe(x);
  }
});

it("an error is the CLI's one line, exit 1, nothing written; so is a usage error", () => {
  const out = tmpDir('here');
  const args = ['--input', join(FIXTURES, 'sample-feed.json'), '--target', 'pac', '--out', out];
  expect(runCli(['compile', ...args]).stderr).toMatch(/^error: .*--pac-proxy.*\n$/);
  expect(compileHere(args)).toEqual({ ...runCli(['compile', ...args]), code: 1 });
  expect(readdirSync(out)).toEqual([]);
  const bad = [...args, '--frobnicate'];
  expect(compileHere(bad)).toEqual({ ...runCli(['compile', ...bad]), code: 1 });
});

it('plan: the same Markdown, JSON and exit code (0 no change, 2 changes) as the CLI', () => {
  const prev = tmpDir('here');
  const feed = join(FIXTURES, 'sample-feed.json');
  expect(compileHere(['--input', feed, '--out', prev]).code).toBe(0);
  for (const extra of [[], ['--json'], ['--no-ipv6'], ['--no-ipv6', '--json'], ['--target', 'x']]) {
    const args = ['plan', '--input', feed, '--previous', prev, ...extra];
    expect(runHere(args), extra.join(' ')).toEqual(runCli(args));
  }
});
