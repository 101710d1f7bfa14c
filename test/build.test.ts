/** src/compile/build.ts in-process: rule keys at their length limit, bucketing, order, URL rules. */
import { describe, expect, it } from 'vitest';
import { buildRules, compareRules, MAX_RULE_KEY, ruleKey } from '../src/compile/build.js';
import { portBucket, PrefixSet, type EndpointSet } from '../src/model.js';

const p = (...xs: (number | [number, number])[]) =>
  xs.map((x) => (Array.isArray(x) ? { from: x[0], to: x[1] } : { from: x, to: x }));
const set = (id: string, o: Partial<EndpointSet> = {}): EndpointSet => ({
  id,
  serviceArea: 'Exchange',
  category: 'Allow',
  required: true,
  expressRoute: false,
  tcpPorts: p(443),
  udpPorts: [],
  prefixes: { v4: PrefixSet.of(4, ['13.107.6.152/31']), v6: PrefixSet.of(6, []) },
  urls: [],
  origin: 'feed',
  ...o,
});

describe('ruleKey', () => {
  it.each([
    [4, 'tcp', p(80, 443), 'egress', 'v4_tcp_80_443'],
    [6, 'udp', p([3478, 3481]), 'egress', 'v6_udp_3478to3481'],
    [4, 'any', [], 'egress', 'v4_any'],
    ['url', 'tcp', p(443), 'egress', 'url_tcp_443'],
    [4, 'tcp', p(25), 'ingress', 'in_v4_tcp_25'],
    // 22 characters exactly: kept as written
    [4, 'tcp', p(1, 2, 3, 4, 5, 6), 'egress', 'v4_tcp_1_2_3_4_5_6'],
    [4, 'tcp', p(10, 20, 30, 40, 5), 'egress', 'v4_tcp_5_10_20_30_40'],
  ] as const)('%s %s %j %s → %s', (fam, proto, ports, dir, key) => {
    const sorted = [...ports].sort((a, b) => a.from - b.from);
    expect(ruleKey(fam, proto, sorted, dir)).toBe(key);
  });
  it('exactly MAX_RULE_KEY characters is kept; one more is hashed to exactly MAX_RULE_KEY', () => {
    const at = p(1, 3, 5, 7, 100); // v4_tcp_1_3_5_7_100 (18); grow until 22
    const exact = p(1000, 2000, 3000, 44); // v4_tcp_44_1000_2000_3000 is 24
    expect(ruleKey(4, 'tcp', at)).toBe('v4_tcp_1_3_5_7_100');
    const k22 = ruleKey(4, 'tcp', p(10, 20, 30, 4000)); // "v4_tcp_10_20_30_4000" = 20
    expect(k22.length).toBeLessThanOrEqual(MAX_RULE_KEY);
    const full = 'v4_tcp_1_2_3_4_5_6_7_8'; // 22
    expect(full.length).toBe(MAX_RULE_KEY);
    expect(ruleKey(4, 'tcp', p(1, 2, 3, 4, 5, 6, 7, 8))).toBe(full);
    const over = ruleKey(4, 'tcp', p(1, 2, 3, 4, 5, 6, 7, 9)); // 22 too
    expect(over).toBe('v4_tcp_1_2_3_4_5_6_7_9');
    const longer = ruleKey(4, 'tcp', p(1, 2, 3, 4, 5, 6, 7, 10)); // 23: hashed
    expect(longer).toMatch(/^v4_tcp_h[0-9a-f]+$/);
    expect(longer).toHaveLength(MAX_RULE_KEY);
    expect(
      ruleKey(
        4,
        'tcp',
        [...exact].sort((a, b) => a.from - b.from),
      ),
    ).toHaveLength(MAX_RULE_KEY);
    // the hash is of the ports: same ports, same key; other ports, another key; ingress keeps its head
    expect(ruleKey(4, 'tcp', p(1, 2, 3, 4, 5, 6, 7, 10))).toBe(longer);
    expect(ruleKey(4, 'tcp', p(1, 2, 3, 4, 5, 6, 7, 11))).not.toBe(longer);
    const inKey = ruleKey(4, 'tcp', p(1, 2, 3, 4, 5, 6, 7, 10), 'ingress');
    expect(inKey).toMatch(/^in_v4_tcp_h[0-9a-f]+$/);
    expect(inKey).toHaveLength(MAX_RULE_KEY);
  });
});

describe('buildRules', () => {
  it('a set with addresses or URLs but no ports yields no rule and one finding; an empty one none', () => {
    const r = buildRules([
      set('1', { tcpPorts: [] }),
      set('2', {
        tcpPorts: [],
        prefixes: { v4: PrefixSet.of(4, []), v6: PrefixSet.of(6, []) },
        urls: [{ host: 'a.example', kind: 'fqdn' }],
      }),
      set('3', {
        tcpPorts: [],
        prefixes: { v4: PrefixSet.of(4, []), v6: PrefixSet.of(6, ['2603:1006::/40']) },
      }),
      set('4', { tcpPorts: [], prefixes: { v4: PrefixSet.of(4, []), v6: PrefixSet.of(6, []) } }),
    ]);
    expect(r.rules).toEqual([]);
    expect(r.findings.map((f) => [f.setIds, f.detail])).toEqual([
      [
        ['1'],
        'endpoint set has no TCP or UDP ports: 1 prefixes and 0 URLs not rendered (never widened to all ports)',
      ],
      [
        ['2'],
        'endpoint set has no TCP or UDP ports: 0 prefixes and 1 URLs not rendered (never widened to all ports)',
      ],
      [
        ['3'],
        'endpoint set has no TCP or UDP ports: 1 prefixes and 0 URLs not rendered (never widened to all ports)',
      ],
    ]);
  });
  it('rules in order: family, protocol, ports; URL rules likewise; URL entries by host', () => {
    const r = buildRules([
      set('1', {
        tcpPorts: p(80, 443),
        udpPorts: p(443),
        prefixes: {
          v4: PrefixSet.of(4, ['13.107.6.152/31']),
          v6: PrefixSet.of(6, ['2603:1006::/40']),
        },
        urls: [
          { host: 'z.example', kind: 'fqdn' },
          { host: 'a.example', kind: 'fqdn' },
          { host: '*.m.example', kind: 'wildcard' },
        ],
      }),
      set('2', {
        tcpPorts: p(25),
        udpPorts: p([3478, 3481]),
        urls: [{ host: 'a.example', kind: 'fqdn' }],
      }),
      set('3', { tcpPorts: p(80) }),
      set('4', { tcpPorts: p(80, 81) }),
    ]);
    expect(r.rules.map((x) => x.key)).toEqual([
      'v4_tcp_25',
      'v4_tcp_80',
      'v4_tcp_80_81',
      'v4_tcp_80_443',
      'v4_udp_443',
      'v4_udp_3478to3481',
      'v6_tcp_80_443',
      'v6_udp_443',
    ]);
    expect(
      r.urlRules.map((u) => [u.key, u.entries.map((e) => `${e.host}:${e.setIds.join(',')}`)]),
    ).toEqual([
      ['url_tcp_25', ['a.example:2']],
      ['url_tcp_80_443', ['*.m.example:1', 'a.example:1', 'z.example:1']],
      ['url_udp_443', ['*.m.example:1', 'a.example:1', 'z.example:1']],
      ['url_udp_3478to3481', ['a.example:2']],
    ]);
    const twoSets = buildRules([
      set('2', { urls: [{ host: 'a.example', kind: 'fqdn' }] }),
      set('1', { urls: [{ host: 'a.example', kind: 'fqdn' }] }),
    ]);
    expect(twoSets.urlRules[0].entries).toEqual([
      { host: 'a.example', kind: 'fqdn', setIds: ['1', '2'], categories: ['Allow'] },
    ]);
    // the merged prefixes and the provenance of each rule
    expect(r.rules[1]).toMatchObject({
      direction: 'egress',
      family: 4,
      provenance: { setIds: ['3'] },
    });
  });
  it('compareRules orders egress before ingress, then family, protocol, ports, then key', () => {
    const rule = (
      key: string,
      family: 4 | 6,
      proto: 'tcp' | 'udp' | 'any',
      ports: ReturnType<typeof p>,
      direction?: 'ingress',
    ) => ({
      key,
      family,
      bucket: portBucket(proto, ports),
      ...(direction ? { direction } : {}),
    });
    const list = [
      rule('in_v4_tcp_25', 4, 'tcp', p(25), 'ingress'),
      rule('v6_tcp_25', 6, 'tcp', p(25)),
      rule('v4_udp_25', 4, 'udp', p(25)),
      rule('v4_tcp_25_26', 4, 'tcp', p(25, 26)),
      rule('v4_tcp_25', 4, 'tcp', p(25)),
      rule('v4_tcp_24to26', 4, 'tcp', p([24, 26])),
      rule('v4_tcp_25to26', 4, 'tcp', p([25, 26])),
      rule('v4_any', 4, 'any', []),
    ];
    expect([...list].sort(compareRules).map((r) => r.key)).toEqual([
      'v4_any',
      'v4_tcp_24to26',
      'v4_tcp_25',
      'v4_tcp_25_26',
      'v4_tcp_25to26',
      'v4_udp_25',
      'v6_tcp_25',
      'in_v4_tcp_25',
    ]);
    expect(compareRules(list[4], { ...list[4], key: 'v4_tcp_25b' })).toBeLessThan(0);
    expect(compareRules({ ...list[4], key: 'v4_tcp_25b' }, list[4])).toBeGreaterThan(0);
    expect(compareRules(list[4], list[4])).toBe(0);
  });
});
