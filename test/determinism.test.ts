/** Same input and options, byte-identical output: whatever the order of the sets or the targets, and whatever the clock says. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const tree = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
const compile = (feed: string, targets: string, env: NodeJS.ProcessEnv = {}) => {
  const out = tmpDir('det');
  const r = runCli(
    [
      'compile',
      '--input',
      feed,
      '--target',
      targets,
      '--pac-proxy',
      'PROXY p.example:8080',
      '--out',
      out,
    ],
    { env },
  );
  expect(r.code, r.stderr).toBe(0);
  return tree(out);
};

describe('determinism', () => {
  it('shuffled endpoint sets (and their URL and prefix lists) and --target b,a give the same bytes as the original and a,b', () => {
    const sets = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { ips?: string[]; urls?: string[] }[];
    // a fixed permutation: reversed sets, each list reversed
    const shuffled = sets
      .map((s) => ({
        ...s,
        ...(s.ips ? { ips: [...s.ips].reverse() } : {}),
        ...(s.urls ? { urls: [...s.urls].reverse() } : {}),
      }))
      .reverse();
    const p = join(tmpDir('det-in'), 'sample-feed.json'); // same file name: the name is provenance
    writeFileSync(p, JSON.stringify(shuffled, null, 2));
    const a = compile(SAMPLE, 'nftables,iptables,azure-nsg,paloalto,pac');
    const b = compile(p, 'pac,paloalto,azure-nsg,iptables,nftables');
    // the input hash differs (other bytes); everything else is the same
    const strip = (t: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(t).map(([k, v]) => [
          k,
          v
            .replace(/sha256:[0-9a-f]{64}/g, 'sha256:x')
            .replace(/"sha256": "[0-9a-f]{64}"/g, '"sha256": "x"')
            .replace(/^[0-9a-f]{64} {2}/gm, 'x  '),
        ]),
      );
    for (const f of Object.keys(a)) expect(strip(b)[f], f).toBe(strip(a)[f]);
    expect(Object.keys(b)).toEqual(Object.keys(a));
  });

  it('two runs with the clock a year apart are byte-identical (no time in the output unless --timestamp)', () => {
    // the whole Date is replaced: new Date() and Date.now() both read the controlled clock
    const faketime = (iso: string) => ({
      NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(`const t=Date.parse('${iso}');const R=Date;class D extends R{constructor(...a){super(...(a.length?a:[t]))}static now(){return t}};globalThis.Date=D;`)}`,
    });
    const a = compile(SAMPLE, 'all', faketime('2026-01-01T00:00:00Z'));
    const b = compile(SAMPLE, 'all', faketime('2027-06-30T12:34:56Z'));
    expect(b).toEqual(a);
    // and the clock does reach the output when asked
    const out = tmpDir('det');
    expect(
      runCli(['compile', '--input', SAMPLE, '--out', out, '--timestamp'], {
        env: faketime('2027-06-30T12:34:56Z'),
      }).code,
    ).toBe(0);
    expect(readFileSync(join(out, 'm365fw.nft'), 'utf8')).toContain(
      'generated-at: 2027-06-30T12:34:56.000Z',
    );
  });
});
