/**
 * src/compile/guards.ts (plausibility) and src/run/guards.ts (empty, max-removal) in-process: every class per family, at and just past each threshold, the
 * merged-rule check, the public-suffix guard, the empty guard and --max-removal as a count and as a
 * percentage (at the limit and one past, a prefix partly covered counting as removed).
 */
import { describe, expect, it } from 'vitest';
import {
  guardImplausible,
  guardPublicSuffix,
  implausibleClass,
  implausibleClasses,
  wildcardBase,
} from '../src/compile/guards.js';
import { guardMaxRemoval, guardNotEmpty, parseMaxRemoval } from '../src/run/guards.js';
import { GuardError } from '../src/errors.js';
import { PrefixSet, type EndpointSet } from '../src/model.js';

function set(
  id: string,
  v4: string[],
  v6: string[] = [],
  o: Partial<EndpointSet> = {},
): EndpointSet {
  return {
    id,
    serviceArea: 'Exchange',
    category: 'Allow',
    required: true,
    expressRoute: false,
    tcpPorts: [{ from: 443, to: 443 }],
    udpPorts: [],
    prefixes: { v4: PrefixSet.of(4, v4), v6: PrefixSet.of(6, v6) },
    urls: [],
    origin: 'feed',
    ...o,
  };
}

describe('implausibleClasses', () => {
  it.each([
    [4, '10.0.0.0/8', ['private', 'short']],
    [4, '10.1.0.0/16', ['private']],
    [4, '172.16.0.0/12', ['private']],
    [4, '192.168.1.0/24', ['private']],
    [4, '127.0.0.1/32', ['loopback']],
    [4, '169.254.1.0/24', ['link-local']],
    [4, '224.0.0.0/24', ['multicast']],
    [4, '192.0.2.0/24', ['documentation']],
    [4, '198.51.100.0/24', ['documentation']],
    [4, '203.0.113.0/24', ['documentation']],
    [4, '0.0.0.0/8', ['loopback', 'short']], // ipaddr.js: unspecified
    [4, '240.0.0.0/8', ['reserved', 'short']],
    [4, '13.64.0.0/10', []],
    [4, '13.0.0.0/9', ['short']],
    [4, '40.96.0.0/13', []],
    [6, '2001:db8::/32', ['documentation']],
    [6, 'fc00::/7', ['private', 'short']],
    [6, 'fd00::/8', ['private', 'short']],
    [6, 'fd00::/48', ['private']],
    [6, 'fe80::/64', ['link-local']],
    [6, 'ff02::/16', ['multicast', 'short']],
    [6, 'ff02::1/128', ['multicast']],
    [6, '::1/128', ['loopback']],
    [6, '2603:1000::/28', []],
    [6, '2603:1000::/27', ['short']],
    [6, '4000::/16', ['reserved', 'short']],
    [6, '4000::/32', ['reserved']],
    [6, '2a01:111:f400::/48', []],
  ] as [4 | 6, string, string[]][])('IPv%i %s: %j', (fam, p, cls) => {
    expect(implausibleClasses(fam, p)).toEqual(cls);
    expect(implausibleClass(fam, p)).toBe(cls[0]);
  });
});

describe('guardImplausible', () => {
  const refused = (sets: EndpointSet[], allow: string[] = []) => {
    let msg = '';
    try {
      guardImplausible('feed.json', sets, allow);
    } catch (e) {
      expect(e).toBeInstanceOf(GuardError);
      msg = (e as Error).message;
    }
    return msg;
  };
  it('a plausible feed passes; a user set is exempt', () => {
    expect(refused([set('1', ['13.107.6.152/31'], ['2603:1006::/40'])])).toBe('');
    expect(refused([set('p', ['10.0.0.0/8'], [], { origin: 'policy' })])).toBe('');
    expect(refused([set('p', ['10.0.0.0/8'], [], { origin: 'prefixes' })])).toBe('');
  });
  it('each class is named, with the flag that lets it through, and only it lets it through', () => {
    expect(refused([set('7', ['192.0.2.0/24'])])).toBe(
      'feed.json: refusing implausible feed entries: set 7 192.0.2.0/24 (documentation); if this is deliberate, pass --allow-implausible documentation',
    );
    expect(refused([set('7', ['192.0.2.0/24'])], ['documentation'])).toBe('');
    expect(refused([set('7', ['192.0.2.0/24'])], ['private'])).toMatch(/documentation/);
    expect(refused([set('7', ['192.0.2.0/24'])], ['all'])).toBe('');
    // a range with two classes needs both
    expect(refused([set('8', ['10.0.0.0/8'])], ['private'])).toMatch(
      /set 8 10.0.0.0\/8 \(short\).*--allow-implausible short$/,
    );
    expect(refused([set('8', ['10.0.0.0/8'])], ['private', 'short'])).toBe('');
  });
  it('at most five entries are listed, then a count', () => {
    const six = [0, 1, 2, 3, 4, 5].map((i) => `192.0.2.${i * 16}/28`);
    const msg = refused([set('9', six)]);
    expect(msg).toMatch(/192\.0\.2\.64\/28 \(documentation\) and 1 more;/);
    expect(msg).not.toMatch(/192\.0\.2\.80/);
    expect(refused([set('9', six.slice(0, 5))])).not.toMatch(/more/);
  });
  it('a rule that merges to a short prefix is refused though every input is long enough, per family', () => {
    // two /11s merge to a /10 (allowed: 10); four /11s to two /10s; 13.0.0.0/10 + 13.64.0.0/10 to a /9
    expect(refused([set('1', ['13.0.0.0/10']), set('2', ['13.64.0.0/10'])])).toBe(
      'feed.json: refusing implausible feed entries: the rule for IPv4 tcp 443 (sets 1,2) merges to 13.0.0.0/9 (short); if this is deliberate, pass --allow-implausible short',
    );
    expect(refused([set('1', ['13.0.0.0/11', '13.32.0.0/11'])])).toBe('');
    expect(refused([set('1', [], ['2603:1000::/28', '2603:1010::/28'])])).toMatch(
      /the rule for IPv6 tcp 443 \(sets 1\) merges to 2603:1000::\/27 \(short\)/,
    );
    expect(refused([set('1', [], ['2603:1000::/28', '2603:1010::/28'])], ['short'])).toBe('');
    // different ports are different rules: nothing merges across them
    expect(
      refused([
        set('1', ['13.0.0.0/10']),
        set('2', ['13.64.0.0/10'], [], { tcpPorts: [{ from: 80, to: 80 }] }),
      ]),
    ).toBe('');
    // UDP ports make their own rule too
    expect(
      refused([
        set('1', ['13.0.0.0/10'], [], { tcpPorts: [], udpPorts: [{ from: 3478, to: 3478 }] }),
        set('2', ['13.64.0.0/10'], [], { tcpPorts: [], udpPorts: [{ from: 3478, to: 3478 }] }),
      ]),
    ).toMatch(/IPv4 udp 3478 \(sets 1,2\) merges to 13\.0\.0\.0\/9/);
  });
});

describe('guardPublicSuffix and wildcardBase', () => {
  it.each([
    ['*.office.com', 'office.com'],
    ['x*.com', 'com'],
    ['*.*.com', 'com'],
    ['autodiscover.*.onmicrosoft.com', 'onmicrosoft.com'],
    ['outlook.office.com', undefined],
    ['*.co.uk', 'co.uk'],
  ])('wildcardBase(%s) = %s', (h, b) => expect(wildcardBase(h)).toBe(b));

  const urls = (...hosts: string[]) => hosts.map((host) => ({ host, kind: 'wildcard' as const }));
  it.each([
    [['*.office.com', '*.microsoftonline-p.net.cn'], ''],
    [['*.com'], 'set 1 *.com (over the public suffix com)'],
    [['x*.cn'], 'set 1 x*.cn (over the public suffix cn)'],
    [['*.co.uk'], 'set 1 *.co.uk (over the public suffix co.uk)'],
    // the private section of the list counts: every name below these is someone else's
    [['*.github.io'], 'set 1 *.github.io (over the public suffix github.io)'],
    [['*.herokuapp.com'], 'set 1 *.herokuapp.com (over the public suffix herokuapp.com)'],
    [['*.s3.amazonaws.com'], 'set 1 *.s3.amazonaws.com (over the public suffix s3.amazonaws.com)'],
    [['*.cloudfront.net'], 'set 1 *.cloudfront.net (over the public suffix cloudfront.net)'],
    [
      ['*.blob.core.windows.net'],
      'set 1 *.blob.core.windows.net (over the public suffix blob.core.windows.net)',
    ],
    // one label more is one owner's name again
    [['*.mine.github.io', '*.app.herokuapp.com'], ''],
  ])('%j', (hosts, bad) => {
    const f = () => guardPublicSuffix('feed.json', [set('1', [], [], { urls: urls(...hosts) })]);
    if (!bad) return expect(f).not.toThrow();
    expect(f).toThrow(
      `feed.json: refusing wildcard URL entries over a public suffix: ${bad}; if this is deliberate, pass --allow-implausible public-suffix`,
    );
  });
  it('allowed by its class or all; user sets are exempt; more than five are counted', () => {
    const s = [set('1', [], [], { urls: urls('*.com') })];
    expect(() => guardPublicSuffix('f', s, ['public-suffix'])).not.toThrow();
    expect(() => guardPublicSuffix('f', s, ['all'])).not.toThrow();
    expect(() => guardPublicSuffix('f', s, ['short'])).toThrow(/public suffix com/);
    expect(() =>
      guardPublicSuffix('f', [set('p', [], [], { urls: urls('*.com'), origin: 'policy' })]),
    ).not.toThrow();
    const many = [
      set('1', [], [], { urls: urls('*.com', '*.net', '*.org', '*.cn', '*.de', '*.fr') }),
    ];
    expect(() => guardPublicSuffix('f', many)).toThrow(
      /\*\.de \(over the public suffix de\) and 1 more;/,
    );
  });
});

describe('guardNotEmpty', () => {
  const model = (rules: number, entries: number) => ({
    rules: Array.from({ length: rules }, () => ({})),
    urlRules: entries ? [{ entries: Array.from({ length: entries }, () => ({})) }] : [],
  });
  it('passes with one rule or one name enforced, or --allow-empty', () => {
    expect(() => guardNotEmpty('t', { rules: ['k'], names: [] }, model(1, 0), false)).not.toThrow();
    expect(() =>
      guardNotEmpty('t', { rules: [], names: ['h tcp/443'] }, model(0, 1), false),
    ).not.toThrow();
    expect(() => guardNotEmpty('t', { rules: [], names: [] }, model(0, 0), true)).not.toThrow();
  });
  it('says whether nothing survived or the target enforces none of what did', () => {
    expect(() => guardNotEmpty('pac', { rules: [], names: [] }, model(0, 0), false)).toThrow(
      'refusing to write: target pac would enforce nothing (no rule and no URL entry survived the filters); pass --allow-empty if this is deliberate',
    );
    expect(() => guardNotEmpty('nftables', { rules: [], names: [] }, model(2, 3), false)).toThrow(
      'target nftables would enforce nothing (of 2 IP rules and 3 URL entries, it enforces none)',
    );
    expect(() => guardNotEmpty('nftables', { rules: [], names: [] }, model(0, 3), false)).toThrow(
      /of 0 IP rules and 3 URL entries/,
    );
  });
});

describe('--max-removal', () => {
  it.each([
    ['10%', { percent: 10 }],
    ['2.5%', { percent: 2.5 }],
    ['0%', { percent: 0 }],
    ['100%', { percent: 100 }],
    ['25', { count: 25 }],
    ['0', { count: 0 }],
  ])('parseMaxRemoval(%s)', (s, v) => expect(parseMaxRemoval(s)).toEqual(v));
  it.each(['100.5%', '101%', '2.5', '-1', '1e3', '', '10 %', '010', '1.234%'])(
    '%j is refused',
    (s) => expect(() => parseMaxRemoval(s)).toThrow(/--max-removal/),
  );

  const prev = {
    rules: [
      {
        key: 'v4_tcp_443',
        family: 4,
        prefixes: ['198.51.100.0/24', '203.0.113.0/25', '203.0.113.128/25', '192.0.2.0/26'],
      },
      { key: 'v6_tcp_443', family: 6, prefixes: ['2001:db8:1::/48'] },
    ],
    urlRules: [
      { key: 'url_tcp_443', protocol: 'tcp', ports: '443', entries: [{ host: 'a.example' }] },
    ],
    targets: {
      nftables: { enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names: [] } },
      paloalto: { enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names: ['a.example tcp/443'] } },
    },
  };
  const next = (v4: string[], v6 = ['2001:db8:1::/48']) => [
    { key: 'v4_tcp_443', family: 4, prefixes: v4 },
    { key: 'v6_tcp_443', family: 6, prefixes: v6 },
  ];
  const run = (v4: string[], spec: string, v6?: string[], names = ['a.example tcp/443']) =>
    guardMaxRemoval(
      prev,
      [
        { name: 'nftables', enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names: [] } },
        { name: 'paloalto', enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names } },
      ],
      next(v4, v6),
      spec,
    );
  const all = ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/26'];

  it('a re-aggregation removes nothing; a count at the limit passes and one past is refused', () => {
    expect(() => run(all, '0')).not.toThrow();
    // one prefix of five (nftables) gone
    expect(() => run(['198.51.100.0/24', '203.0.113.0/24'], '1')).not.toThrow();
    expect(() => run(['198.51.100.0/24'], '3')).not.toThrow();
    expect(() => run(['198.51.100.0/24'], '2')).toThrow(
      'refusing to write: nftables: 3 of 5 previous prefixes and URL entries (60.0%); paloalto: 3 of 6 previous prefixes and URL entries (50.0%) would disappear, more than --max-removal 2; review the change (m365fw plan) and raise --max-removal if it is deliberate',
    );
  });
  it('as a percentage: at the limit passes, just past is refused, per target', () => {
    // one of 5 (nftables 20%) and one of 6 (paloalto 16.7%)
    const oneGone = ['198.51.100.0/24', '203.0.113.0/24'];
    expect(() => run(oneGone, '20%')).not.toThrow();
    expect(() => run(oneGone, '19.99%')).toThrow(/nftables: 1 of 5 .*\(20\.0%\) would disappear/);
    expect(() => run(oneGone, '19.99%')).not.toThrow(/paloalto/);
    expect(() => run(oneGone, '16.66%')).toThrow(
      /nftables: 1 of 5.*; paloalto: 1 of 6 .*\(16\.7%\)/,
    );
  });
  it('a previous prefix only partly covered by the new rule counts as removed', () => {
    // 192.0.2.0/26 shrinks to 192.0.2.0/27: the /26 is not covered
    expect(() => run(['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/27'], '0')).toThrow(
      /nftables: 1 of 5/,
    );
    // covered by a wider prefix: kept
    expect(() => run(['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/25'], '0')).not.toThrow();
  });
  it('URL entries count; a target no longer generated removed everything', () => {
    expect(() => run(all, '0', undefined, [])).toThrow(
      /paloalto: 1 of 6 previous prefixes and URL entries \(16\.7%\)/,
    );
    expect(() =>
      guardMaxRemoval(
        prev,
        [{ name: 'nftables', enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names: [] } }],
        next(all),
        '50%',
      ),
    ).toThrow(
      /paloalto: 6 of 6 previous prefixes and URL entries \(100\.0%\) \(no longer generated\)/,
    );
    // IPv6 gone entirely
    expect(() => run(all, '0', [])).toThrow(/nftables: 1 of 5/);
  });
  it('a previous report from before targets recorded what they enforce: every rule counts, and for PAN-OS every URL entry', () => {
    const old = { ...prev, targets: { nftables: {}, paloalto: {} } };
    const runOld = (v4: string[], names: string[], extra: string[] = []) =>
      guardMaxRemoval(
        old,
        [
          { name: 'nftables', enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names: [] } },
          { name: 'paloalto', enforces: { rules: ['v4_tcp_443', 'v6_tcp_443'], names } },
          ...extra.map((name) => ({ name, enforces: { rules: [], names: [] } })),
        ],
        next(v4),
        '0',
      );
    expect(() => runOld(all, ['a.example tcp/443'])).not.toThrow();
    // the URL entry comes from the previous urlRules (host, protocol/ports): dropping it is a removal
    const unrecorded =
      ' (the previous report does not record what this target enforced, so every previous rule and URL entry counts; one run with --max-removal raised records it)';
    expect(() => runOld(all, [])).toThrow(
      `refusing to write: paloalto: 1 of 6 previous prefixes and URL entries (16.7%)${unrecorded} would disappear`,
    );
    expect(() => runOld(all, ['a.example udp/443'])).toThrow(/paloalto: 1 of 6/);
    // every previous rule counts for each target (nftables has no URL entries)
    expect(() => runOld(['198.51.100.0/24', '203.0.113.0/24'], ['a.example tcp/443'])).toThrow(
      `refusing to write: nftables: 1 of 5 previous prefixes and URL entries (20.0%)${unrecorded}; paloalto: 1 of 6 previous prefixes and URL entries (16.7%)${unrecorded} would disappear`,
    );
    // a target this run adds, which the previous report did not have, has removed nothing
    expect(() => runOld(all, ['a.example tcp/443'], ['pac', 'azure-nsg'])).not.toThrow();
  });
});
