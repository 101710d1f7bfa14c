/**
 * TargetTester: a target's table of cases run through readFeed → compile → render. Used here on
 * the built-in PAC target and on a small plugin target, and made to fail on purpose: every kind of
 * wrong expectation is an AssertionError that names the case.
 */
import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { defineTarget, TargetTester, type TargetCase } from '../src/index.js';
import { TARGETS } from '../targets/index.js';

const DOC = { allowImplausible: ['documentation'] };
const FEED = [
  {
    id: 1,
    serviceArea: 'Exchange',
    category: 'Optimize',
    required: true,
    tcpPorts: '443',
    ips: ['192.0.2.0/24', '2001:db8::/48'],
    urls: ['outlook.example.com', '*.teams.example.com'],
  },
  {
    id: 2,
    serviceArea: 'Common',
    category: 'Default',
    required: false,
    tcpPorts: '80,443',
    urls: ['cdn.example.net'],
  },
];

// the built-in PAC target, as a plugin author would test theirs
new TargetTester(TARGETS.get('pac')!, { describe, it }).run([
  {
    name: 'type 1: Optimize names go DIRECT, the rest to the proxy; addresses are not used',
    feed: FEED,
    compile: DOC,
    options: { pacProxy: 'PROXY proxy.example:8080', pacType: '1' },
    files: {
      'm365fw.pac': (text) => {
        expect(text).toContain('"outlook.example.com": 1');
        expect(text).not.toContain('cdn.example.net');
        expect(text).toContain('var M365_PROXY = "PROXY proxy.example:8080";');
      },
    },
    findings: [
      { kind: 'unenforced', entry: 'v4_tcp_443' },
      { kind: 'unenforced', entry: 'v6_tcp_443' },
    ],
    enforces: { rules: [], names: ['*.teams.example.com', 'outlook.example.com'] },
  },
  {
    name: 'without --pac-proxy: refused',
    feed: FEED,
    compile: DOC,
    refusal: /--pac-proxy is required/,
  },
]);

// a plugin: one file listing the IPv4 prefixes of each rule
const hosts = defineTarget({
  name: 'v4list',
  summary: 'IPv4 prefixes, one per line',
  files: /^v4list\.txt$/,
  capabilities: { fqdn: false, wildcard: false, mixedFamilies: false, portRanges: true },
  limits: {},
  options: {},
  render: (model) => ({
    files: [
      {
        path: 'v4list.txt',
        body:
          model.rules
            .filter((r) => r.family === 4)
            .flatMap((r) => r.prefixes.toArray())
            .join('\n') + '\n',
        comment: { line: '#' },
      },
    ],
    findings: [],
    enforces: { rules: model.rules.filter((r) => r.family === 4).map((r) => r.key), names: [] },
    enforcement: { mode: 'integration', text: 'a list for your own rules', inert: true },
  }),
});
const good: TargetCase = {
  name: 'the IPv4 prefixes, one per line, after the provenance header',
  feed: FEED,
  compile: DOC,
  files: {
    'v4list.txt': (t) =>
      expect(t.split('\n').filter((l) => !l.startsWith('#'))).toEqual(['192.0.2.0/24', '']),
  },
  findings: [{ kind: 'unenforced', entry: 'v6_tcp_443' }, { kind: 'inert' }],
  enforces: { rules: ['v4_tcp_443'] },
};
new TargetTester(hosts, { describe, it }).run([good]);

describe('TargetTester fails when the target does not do what the case says', () => {
  const tester = new TargetTester(hosts);
  const fails = (c: Partial<TargetCase>, msg: RegExp) => {
    let err: unknown;
    try {
      tester.check({ ...good, ...c });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AssertionError);
    expect((err as Error).message).toMatch(msg);
  };
  it('another file text, a missing file', () => {
    fails({ files: { 'v4list.txt': 'nothing\n' } }, /^the IPv4 prefixes.*: v4list\.txt/);
    fails(
      { files: { 'other.txt': '' } },
      /no file other\.txt \(it wrote v4list\.txt, report\.json\)/,
    );
  });
  it('a finding it does not report', () => {
    fails({ findings: [{ kind: 'widened' }] }, /no widened finding \(it reported /);
  });
  it('other enforced rules', () => {
    fails({ enforces: { rules: ['v4_tcp_80'] } }, /: enforced rules/);
  });
  it('a refusal that does not come, and one that does', () => {
    fails({ refusal: /anything/ }, /not refused, though the case expects it/);
    // not even a pattern that the words "not refused" would match
    fails({ refusal: /not/ }, /not refused, though the case expects it/);
    // a feed the compile refuses is the case's error, not the tester's
    expect(() => tester.check({ ...good, compile: {} })).toThrow(/documentation/);
  });
  it('run needs describe and it', () => {
    const g = globalThis as { describe?: unknown };
    const saved = g.describe;
    g.describe = undefined;
    try {
      expect(() => tester.run([good])).toThrow(/no describe and it/);
    } finally {
      g.describe = saved;
    }
  });
});
