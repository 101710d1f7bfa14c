/** Every option changes what a test looks at: each is set to a non-default value and the output follows it. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/env.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const SETS = JSON.parse(readFileSync(SAMPLE, 'utf8')) as {
  id: number;
  expressRoute?: boolean;
  required?: boolean;
}[];
function out(args: string[], input = SAMPLE) {
  const dir = tmpDir('opt');
  const r = compileHere(['--input', input, '--out', dir, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return {
    dir,
    read: (f: string) => readFileSync(join(dir, f), 'utf8'),
    report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')),
  };
}
const ids = (rep: { endpointSets: { id: string }[] }) => rep.endpointSets.map((s) => s.id);

describe('filters', () => {
  it('--express-route-only keeps exactly the ExpressRoute sets (the sample has both kinds)', () => {
    const want = SETS.filter((s) => s.expressRoute).map((s) => String(s.id));
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(SETS.length);
    expect(ids(out(['--express-route-only']).report)).toEqual(want);
  });
  it('--required-only keeps exactly the required sets', () => {
    const want = SETS.filter((s) => s.required).map((s) => String(s.id));
    expect(want.length).toBeLessThan(SETS.length);
    expect(ids(out(['--required-only']).report)).toEqual(want);
  });
  it('--no-ipv4 and --no-ipv6 on a prefix list leave only the other family', () => {
    const list = join(tmpDir('opt-in'), 'list.txt');
    writeFileSync(list, '20.190.128.0/18\n2603:1006::/40\n');
    const v6 = out(['--input-format', 'prefixes', '--tcp-ports', '443', '--no-ipv4'], list).report;
    expect(v6.rules.map((r: { key: string }) => r.key)).toEqual(['v6_tcp_443']);
    const v4 = out(['--input-format', 'prefixes', '--tcp-ports', '443', '--no-ipv6'], list).report;
    expect(v4.rules.map((r: { key: string }) => r.key)).toEqual(['v4_tcp_443']);
  });
  it('--udp-ports on a prefix list makes UDP rules', () => {
    const list = join(tmpDir('opt-in'), 'list.txt');
    writeFileSync(list, '20.190.128.0/18\n');
    expect(
      out(['--input-format', 'prefixes', '--udp-ports', '3478-3481'], list).report.rules.map(
        (r: { key: string }) => r.key,
      ),
    ).toEqual(['v4_udp_3478to3481']);
  });
});

describe('target options', () => {
  it('--nsg-priority-step 10: priorities 100, 110, 120 …; --nsg-name is the parameter default', () => {
    const t = JSON.parse(
      out([
        '--target',
        'azure-nsg',
        '--nsg-priority-step',
        '10',
        '--nsg-name',
        'contoso-m365',
      ]).read('azure-nsg.json'),
    );
    const p = t.resources[0].properties.securityRules.map(
      (r: { properties: { priority: number } }) => r.properties.priority,
    );
    expect(p).toEqual(p.map((_: number, i: number) => 100 + 10 * i));
    expect(t.parameters.nsgName.defaultValue).toBe('contoso-m365');
  });
  it('--nft-table, --nft-policy with --nft-hook forward, --nft-mode include', () => {
    const a = out([
      '--nft-table',
      'corp_m365',
      '--nft-hook',
      'forward',
      '--nft-policy',
      'accept',
    ]).read('m365fw.nft');
    expect(a).toContain('table inet corp_m365 {');
    expect(a).toContain('type filter hook forward priority filter; policy accept;');
    const b = out(['--nft-mode', 'include']).read('m365fw.nft');
    expect(b).not.toMatch(/^table /m);
    expect(b).toMatch(/^set m365_v4_tcp_80_443 \{/m);
  });
  it('--ipt-chain and --ipt-hook FORWARD reach the restore files and the apply script', () => {
    const o = out(['--target', 'iptables', '--ipt-chain', 'CORP_M365', '--ipt-hook', 'FORWARD']);
    expect(o.read('m365fw.v4')).toContain(':CORP_M365 - [0:0]');
    expect(o.read('m365fw-iptables-apply.sh')).toContain(
      'iptables -w -C FORWARD -j CORP_M365 2>/dev/null || iptables -w -A FORWARD -j CORP_M365',
    );
  });
  it('--panos-vsys, zones and source reach every rule', () => {
    const set = out([
      '--target',
      'paloalto',
      '--panos-vsys',
      'vsys2',
      '--panos-from-zone',
      'trust',
      '--panos-to-zone',
      'untrust',
      '--panos-source',
      '192.0.2.0/24',
    ]).read('panos-set.txt');
    const rules = set.split('\n').filter((l) => / rulebase security rules \S+ from /.test(l));
    expect(rules.length).toBeGreaterThan(0);
    for (const l of rules)
      expect(l).toMatch(
        /^set vsys vsys2 rulebase security rules \S+ from trust to untrust source 192\.0\.2\.0\/24 /,
      );
  });
  it('--pac-type 2 sends Allow names DIRECT too', () => {
    const t1 = out(['--target', 'pac', '--pac-proxy', 'PROXY p.example:8080']).report.targets.pac
      .enforces.names.length;
    const t2 = out(['--target', 'pac', '--pac-proxy', 'PROXY p.example:8080', '--pac-type', '2'])
      .report.targets.pac.enforces.names.length;
    expect(t2).toBeGreaterThan(t1);
  });
  it('--tenant fills the placeholder', () => {
    const feed = join(tmpDir('opt-in'), 'sample-feed.json');
    writeFileSync(
      feed,
      JSON.stringify([
        ...SETS,
        {
          id: 900,
          serviceArea: 'Exchange',
          category: 'Allow',
          required: true,
          tcpPorts: '443',
          urls: ['autodiscover.*.onmicrosoft.com'],
        },
      ]),
    );
    const urls = out(['--target', 'paloalto', '--tenant', 'contoso'], feed).report.urlRules.flatMap(
      (u: { entries: { host: string }[] }) => u.entries.map((e) => e.host),
    );
    expect(urls).toContain('autodiscover.contoso.onmicrosoft.com');
    expect(urls).not.toContain('autodiscover.*.onmicrosoft.com');
  });
});
