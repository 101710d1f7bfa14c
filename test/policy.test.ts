import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/env.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const POLICY = join(FIXTURES, 'corp-policy.yaml');
const tmp = () => tmpDir('pol');
function policy(text: string): string {
  const p = join(tmp(), 'corp.yaml');
  writeFileSync(p, text);
  return p;
}
function compile(args: string[]) {
  const out = tmp();
  const r = compileHere(['--out', out, ...args]);
  return {
    ...r,
    out,
    report: r.code === 0 ? JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) : undefined,
  };
}

describe('YAML policy: own endpoint sets and audited excludes', () => {
  it('the bundled example applies: every override and exclude is reported with its reason', () => {
    const { report, code } = compile([
      '--input',
      SAMPLE,
      '--policy',
      POLICY,
      '--target',
      'all',
      '--pac-proxy',
      'PROXY proxy.corp:8080',
    ]);
    expect(code).toBe(0);
    const f = (k: string) => report.findings.filter((x: any) => x.kind === k);
    expect(f('override').map((x: any) => [x.setIds[0], x.detail])).toEqual([
      ['corp-proxy', 'policy corp-policy.yaml: egress proxy for Teams media'],
      ['corp-turn', 'policy corp-policy.yaml: on-premises TURN relay'],
    ]);
    expect(
      f('excluded')
        .map((x: any) => `${x.setIds[0]} ${x.entry}`)
        .sort(),
    ).toEqual([
      '1 13.107.6.152/31',
      '1 40.96.0.0/16',
      '12 *.lync.com',
      '2 13.107.6.152/31',
      '2 40.96.0.0/16',
    ]);
    expect(f('unmatched-exclude').map((x: any) => x.entry)).toEqual(['*.example.org']);
    expect(report.input.policy).toMatchObject({ file: 'corp-policy.yaml' });
    // the exclude split 40.96.0.0/13 around 40.96.0.0/16, and the user's own sets reached the rules
    const tcp587 = report.rules.find((r: any) => r.key === 'v4_tcp_587').prefixes;
    expect(tcp587).toEqual([
      '13.107.18.10/31',
      '40.97.0.0/16',
      '40.98.0.0/15',
      '40.100.0.0/14',
      '52.96.0.0/14',
    ]);
    expect(report.rules.find((r: any) => r.key === 'v4_tcp_443_8080').provenance.setIds).toEqual([
      'corp-proxy',
    ]);
    expect(
      readFileSync(
        join(compile(['--input', SAMPLE, '--policy', POLICY]).out, 'm365fw.nft'),
        'utf8',
      ),
    ).toContain('198.51.100.64/26');
  });

  it("ports may be a number, a list or the feed's string form", () => {
    const pol = policy(
      'endpointSets:\n  - id: lab\n    serviceArea: Custom\n    category: Allow\n    tcpPorts: 443\n    udpPorts: [3478, "3479-3481"]\n    ips: [192.0.2.0/24]\n    reason: r\n',
    );
    const { report, code } = compile(['--input', SAMPLE, '--policy', pol]);
    expect(code).toBe(0);
    expect(report.endpointSets.find((s: any) => s.id === 'lab')).toMatchObject({
      tcpPorts: '443',
      udpPorts: '3478-3481',
    });
  });

  it('an exclude can split a prefix: 10.0.0.0/8 minus 10.1.0.0/16', () => {
    const list = join(tmp(), 'list.txt');
    writeFileSync(list, '10.0.0.0/8\n');
    const pol = policy('exclude:\n  - prefix: 10.1.0.0/16\n    reason: "lab network"\n');
    const { report } = compile(['--input', list, '--input-format', 'prefixes', '--policy', pol]);
    expect(report.rules[0].prefixes).toEqual([
      '10.0.0.0/16',
      '10.2.0.0/15',
      '10.4.0.0/14',
      '10.8.0.0/13',
      '10.16.0.0/12',
      '10.32.0.0/11',
      '10.64.0.0/10',
      '10.128.0.0/9',
    ]);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'excluded', entry: '10.1.0.0/16' }),
    );
  });

  it.each([
    [
      'unknown key',
      'endpointSets:\n  - id: a\n    serviceArea: Custom\n    category: Allow\n    reason: r\n    tcpport: 443\n',
      /^error: \/\S*\/corp\.yaml:6:5: endpointSets\[0\]: unknown key "tcpport"$/,
    ],
    [
      'unknown top-level key',
      'endpointSet: []\n',
      /^error: \/\S*\/corp\.yaml:1:1: unknown key "endpointSet"$/,
    ],
    [
      'missing reason',
      'exclude:\n  - prefix: 13.107.6.152/31\n',
      /^error: \/\S*\/corp\.yaml:2:5: exclude\[0\]: must have required property 'reason'$/,
    ],
    [
      'prefix and url together',
      'exclude:\n  - prefix: 13.107.6.152/31\n    url: a.example.com\n    reason: r\n',
      /^error: \/\S*\/corp\.yaml:2:5: exclude\[0\]: give exactly one of prefix or url$/,
    ],
    [
      'bad prefix in own set',
      'endpointSets:\n  - id: lab\n    serviceArea: Custom\n    category: Allow\n    tcpPorts: 443\n    ips: [192.0.2.1/24]\n    reason: r\n',
      /^error: \/\S*\/corp\.yaml:2:5: endpoint set lab: field ips: host bits set \(network is 192\.0\.2\.0\/24\): "192\.0\.2\.1\/24"$/,
    ],
    [
      'bad port in own set',
      'endpointSets:\n  - id: lab\n    serviceArea: Custom\n    category: Allow\n    tcpPorts: [443, 70000]\n    reason: r\n',
      /endpoint set lab: field tcpPorts: port 70000 is over 65535/,
    ],
    [
      'id clash',
      'endpointSets:\n  - id: "1"\n    serviceArea: Custom\n    category: Allow\n    reason: r\n',
      /^error: \/\S*\/corp\.yaml:2:9: endpoint set 1: field id: id clashes with an existing endpoint set: "1"$/,
    ],
    [
      'number id',
      'endpointSets:\n  - id: 7\n    serviceArea: Custom\n    category: Allow\n    reason: r\n',
      /corp\.yaml:2:9: endpointSets\[0\]\.id: must be string/,
    ],
    [
      'exclude of an unknown set',
      'exclude:\n  - prefix: 13.107.6.152/31\n    ids: [999]\n    reason: r\n',
      /^error: \/\S*\/corp\.yaml:2:5: exclude names endpoint set 999, which does not exist$/,
    ],
    [
      'YAML syntax',
      'exclude:\n  - prefix: [\n',
      /^error: \/\S*\/corp\.yaml:[0-9]+:[0-9]+: YAML syntax: /,
    ],
    [
      'duplicate key',
      'exclude: []\nexclude: []\n',
      /^error: \/\S*\/corp\.yaml:2:1: YAML syntax: Map keys must be unique/,
    ],
    [
      'billion laughs',
      [
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        ...'bcdefghi'
          .split('')
          .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
        'endpointSets: []',
      ].join('\n') + '\n',
      /^error: \/\S*\/corp\.yaml: YAML: .*\(at most 50 aliases\)$/,
    ],
  ])('%s is a clear error with file, line and column; nothing written', (_n, text, msg) => {
    const r = compile(['--input', SAMPLE, '--policy', policy(text)]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(msg);
    expect(readdirSync(r.out)).toEqual([]);
  });
});

describe('a policy says what a reviewer reads: decimal ports, YAML 1.2, core tags', () => {
  const base = (ports: string, head = '') =>
    `${head}endpointSets:\n  - id: corp-a\n    serviceArea: Corp\n    category: Allow\n    required: true\n    tcpPorts: ${ports}\n    ips: [198.51.100.0/24]\n    reason: test\n`;
  it.each([
    [
      '0x1BB',
      /corp\.yaml:6:15: the number "0x1BB": numbers in a policy are plain decimal integers/,
    ],
    ['0o673', /the number "0o673"/],
    ['443.0', /the number "443\.0"/],
    ['4.43e2', /the number "4\.43e2"/],
    ['[443, 0x50]', /corp\.yaml:6:21: the number "0x50"/],
    ['!foo 443', /corp\.yaml:6:15: YAML: Unresolved tag: !foo; refusing it/],
    ['!!binary aGk=', /YAML tag "tag:yaml\.org,2002:binary" is not one a policy may use/],
  ])('tcpPorts: %s is refused with file:line:column', (ports, why) => {
    const r = compile(['--input', SAMPLE, '--policy', policy(base(ports)), '--target', 'nftables']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(why);
    expect(readdirSync(r.out)).toEqual([]);
  });

  it('%YAML 1.1 (where 7:23 is 443) is refused; plain 443 and "443" are read', () => {
    const r = compile([
      '--input',
      SAMPLE,
      '--policy',
      policy(base('7:23', '%YAML 1.1\n---\n')),
      '--target',
      'nftables',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/%YAML 1\.1: a policy is YAML 1\.2/);
    for (const ok of ['443', '"443"', '[443, 80]', '!!int 443'])
      expect(
        compile(['--input', SAMPLE, '--policy', policy(base(ok)), '--target', 'nftables']).code,
        ok,
      ).toBe(0);
  });
});

describe('policy errors a person understands', () => {
  it('a value outside a list names the allowed values; an id clash names its line and column', () => {
    const bad = compile([
      '--input',
      SAMPLE,
      '--policy',
      policy('endpointSets:\n  - id: a\n    serviceArea: X\n    category: Bogus\n    reason: r\n'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /corp\.yaml:4:15: endpointSets\[0\]\.category: must be one of Optimize, Allow, Default/,
    );
    const clash = compile([
      '--input',
      SAMPLE,
      '--policy',
      policy(
        'endpointSets:\n  - id: "1"\n    serviceArea: X\n    category: Allow\n    reason: r\n    ips: [192.0.2.0/24]\n',
      ),
    ]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/corp\.yaml:2:9: .*id clashes with an existing endpoint set: "1"/);
  });
});
