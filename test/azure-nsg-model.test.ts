/**
 * The Azure NSG rules in-process, piece by piece: --nsg-source read as a tag or one prefix per
 * family (and every refusal, word for word), the rules' sides, priorities and ports, the closing
 * deny rules, and each budget at its limit and one past it, as the error a user reads.
 * (azure-nsg.test.ts checks whole templates against the ARM schema.)
 */
import { describe, expect, it } from 'vitest';
import { refusal } from './helpers/refusal.js';
import { compile, readFeed, type RuleModel } from '../src/index.js';
import {
  checkBudgets,
  denyRules,
  NSG_OPTIONS,
  nsgOptions,
  nsgRules,
  nsgRuleSet,
  type NsgOptions,
  type NsgRule,
} from '../targets/azure-nsg/index.js';
import { azureNsg } from '../targets/azure-nsg/index.js';

const HELP =
  '; narrow the input with --service-areas, --categories, --required-only or --no-ipv6, or split it across several NSGs';
const raw = (o: Record<string, string> = {}) => azureNsg.parseOptions(o) as never;
const opts = (o: Record<string, string> = {}): NsgOptions => nsgOptions(raw(o));

const FEED = [
  {
    id: 1,
    serviceArea: 'Exchange',
    category: 'Optimize',
    required: true,
    expressRoute: false,
    tcpPorts: '443,80',
    ips: ['198.51.100.0/24', '2001:db8:1::/48'],
  },
  {
    id: 2,
    serviceArea: 'Skype',
    category: 'Allow',
    required: true,
    expressRoute: false,
    udpPorts: '3478-3481',
    ips: ['203.0.113.0/25'],
  },
];
const model = (o: Parameters<typeof compile>[1] = {}): RuleModel =>
  compile(readFeed(FEED, { name: 'nsg.json' }), { allowImplausible: ['documentation'], ...o });

describe('--nsg-source', () => {
  it('a service tag serves both families; the defaults are what --help says', () => {
    expect(opts()).toEqual({
      name: 'm365-egress',
      priorityStart: 100,
      priorityStep: 1,
      source: 'VirtualNetwork',
      direction: 'Outbound',
    });
    expect(opts({ nsgSource: 'AzureCloud.WestEurope' }).source).toBe('AzureCloud.WestEurope');
    expect(opts({ nsgSource: '*' }).source).toBe('*');
    expect(opts({ nsgDeny: 'all' }).deny).toBe('all');
    expect(opts({ nsgDeny: 'internet' }).deny).toBe('internet');
  });

  it('prefixes: one per family, canonical, with no tag', () => {
    expect(opts({ nsgSource: '10.20.0.0/16' })).toMatchObject({
      source: '',
      sources: { 4: '10.20.0.0/16' },
    });
    expect(opts({ nsgSource: '10.20.0.0/16,2001:DB8:0::/48' })).toMatchObject({
      source: '',
      sources: { 4: '10.20.0.0/16', 6: '2001:db8::/48' },
    });
    expect(opts({ nsgSource: '10.20.0.0/16' }).sources?.[6]).toBeUndefined();
  });

  it('service tags as Azure documents them, in any case; a name Azure does not know is refused now, not at deploy', () => {
    expect(opts({ nsgSource: 'virtualnetwork' }).source).toBe('VirtualNetwork');
    expect(opts({ nsgSource: 'INTERNET' }).source).toBe('Internet');
    expect(opts({ nsgSource: 'azureloadbalancer' }).source).toBe('AzureLoadBalancer');
    expect(opts({ nsgSource: 'storage.westeurope' }).source).toBe('Storage.westeurope');
    for (const bad of [
      'Foo',
      'VirtualNetwork.WestEurope',
      'Internet.x',
      'Storage.',
      'AzureCloud.West-Europe',
    ])
      expect(() => opts({ nsgSource: bad }), bad).toThrow(
        `azure-nsg: --nsg-source ${JSON.stringify(bad)}: `,
      );
    expect(() => opts({ nsgSource: 'Foo' })).toThrow(/not a service tag Azure knows/);
  });

  it.each([
    [
      '10.0.0.0/8,10.1.0.0/16',
      'azure-nsg: --nsg-source: two IPv4 prefixes; give at most one per family',
    ],
    [
      '2001:db8::/32,2001:db8:1::/48',
      'azure-nsg: --nsg-source: two IPv6 prefixes; give at most one per family',
    ],
    ['VirtualNetwork,10.0.0.0/8', 'azure-nsg: --nsg-source: a service tag or prefixes, not both'],
    ['10.0.0.0/8,VirtualNetwork', 'azure-nsg: --nsg-source: a service tag or prefixes, not both'],
    [
      'VirtualNetwork,Internet',
      'azure-nsg: --nsg-source "Internet": a service tag such as VirtualNetwork or a CIDR prefix (one per family, comma-separated)',
    ],
    [
      'Virtual Network',
      'azure-nsg: --nsg-source "Virtual Network": a service tag such as VirtualNetwork or a CIDR prefix (one per family, comma-separated)',
    ],
    [
      '',
      'azure-nsg: --nsg-source "": a service tag such as VirtualNetwork or a CIDR prefix (one per family, comma-separated)',
    ],
  ])('%s is refused: %s', (source, msg) => {
    expect(() => opts({ nsgSource: source })).toThrow(msg);
    try {
      opts({ nsgSource: source });
    } catch (e) {
      expect((e as Error).message).toBe(msg);
    }
  });

  it('a prefix with host bits is refused as the address parser says, under the target name', () => {
    expect(() => opts({ nsgSource: '10.0.0.1/8' })).toThrow(
      /^azure-nsg: --nsg-source.*10\.0\.0\.1\/8/,
    );
  });
});

describe('the rules', () => {
  it('Outbound: from the source to the feed, priorities from start by step, one protocol each', () => {
    const rules = nsgRules(model().rules, opts({ nsgPriorityStart: '200', nsgPriorityStep: '10' }));
    expect(rules.map((r) => [r.name, r.properties.priority, r.properties.protocol])).toEqual([
      ['m365_v4_tcp_80_443', 200, 'Tcp'],
      ['m365_v4_udp_3478to3481', 210, 'Udp'],
      ['m365_v6_tcp_80_443', 220, 'Tcp'],
    ]);
    const [tcp, udp, v6] = rules.map((r) => r.properties);
    expect(tcp).toEqual({
      description: 'sets 1 Exchange Optimize required',
      protocol: 'Tcp',
      access: 'Allow',
      priority: 200,
      direction: 'Outbound',
      sourcePortRange: '*',
      sourceAddressPrefix: 'VirtualNetwork',
      destinationAddressPrefixes: ['198.51.100.0/24'],
      destinationPortRanges: ['80', '443'],
    });
    expect(udp.destinationPortRanges).toEqual(['3478-3481']);
    expect(v6.destinationAddressPrefixes).toEqual(['2001:db8:1::/48']);
  });

  it('--nsg-direction Inbound swaps the sides; a prefix per family takes the tag`s place', () => {
    const o = opts({ nsgDirection: 'Inbound', nsgSource: '10.1.0.0/16,fd00::/8' });
    const [tcp, , v6] = nsgRules(model().rules, o).map((r) => r.properties);
    expect(tcp).toMatchObject({
      direction: 'Inbound',
      sourceAddressPrefixes: ['198.51.100.0/24'],
      destinationAddressPrefix: '10.1.0.0/16',
    });
    expect(tcp.sourceAddressPrefix).toBeUndefined();
    expect(tcp.destinationAddressPrefixes).toBeUndefined();
    expect(v6).toMatchObject({
      sourceAddressPrefixes: ['2001:db8:1::/48'],
      destinationAddressPrefix: 'fd00::/8',
    });
  });

  it('ingress rules are Inbound to their local prefixes whatever --nsg-direction says', () => {
    const m = compile(
      readFeed(
        [
          {
            id: 10,
            serviceArea: 'Exchange',
            category: 'Allow',
            required: true,
            tcpPorts: '25',
            ips: ['198.51.100.0/25'],
          },
        ],
        { name: 'in.json' },
      ),
      {
        allowImplausible: ['documentation'],
        direction: 'ingress',
        ingress: { local: ['192.0.2.25/32'] },
      },
    );
    const [r] = nsgRules(m.rules, opts()).map((x) => x.properties);
    expect(r).toMatchObject({
      direction: 'Inbound',
      sourceAddressPrefixes: ['198.51.100.0/25'],
      destinationAddressPrefixes: ['192.0.2.25/32'],
      destinationPortRanges: ['25'],
    });
    expect(r.destinationAddressPrefix).toBeUndefined();
    // without local prefixes: to --nsg-source
    const any = compile(
      readFeed(
        [
          {
            id: 10,
            serviceArea: 'Exchange',
            category: 'Allow',
            required: true,
            tcpPorts: '25',
            ips: ['198.51.100.0/25'],
          },
        ],
        { name: 'in.json' },
      ),
      { allowImplausible: ['documentation'], direction: 'ingress' },
    );
    expect(nsgRules(any.rules, opts({ nsgSource: 'AzureCloud' }))[0].properties).toMatchObject({
      destinationAddressPrefix: 'AzureCloud',
    });
  });
});

describe('--nsg-deny', () => {
  it('one rule at 4096 for a tag, towards the Internet or anywhere, each way round', () => {
    expect(denyRules(opts(), [4, 6])).toEqual([]);
    expect(denyRules(opts({ nsgDeny: 'internet' }), [4, 6])).toEqual([
      {
        name: 'm365_deny_internet',
        properties: {
          description: 'm365fw: deny every other outbound flow to the Internet',
          protocol: '*',
          access: 'Deny',
          priority: 4096,
          direction: 'Outbound',
          sourcePortRange: '*',
          destinationPortRange: '*',
          sourceAddressPrefix: 'VirtualNetwork',
          destinationAddressPrefix: 'Internet',
        },
      },
    ]);
    const [all] = denyRules(opts({ nsgDeny: 'all', nsgDirection: 'Inbound' }), [4]);
    expect(all.name).toBe('m365_deny_all');
    expect(all.properties).toMatchObject({
      description: 'm365fw: deny every other inbound flow from anywhere',
      direction: 'Inbound',
      sourceAddressPrefix: '*',
      destinationAddressPrefix: 'VirtualNetwork',
    });
  });

  it('one rule per family with a prefix, at 4095 and 4096, only for the families in use', () => {
    const o = opts({ nsgDeny: 'internet', nsgSource: '10.1.0.0/16,fd00::/8' });
    expect(
      denyRules(o, [4, 6]).map((r) => [
        r.name,
        r.properties.priority,
        r.properties.sourceAddressPrefix,
      ]),
    ).toEqual([
      ['m365_deny_internet_v4', 4095, '10.1.0.0/16'],
      ['m365_deny_internet_v6', 4096, 'fd00::/8'],
    ]);
    expect(denyRules(o, [6]).map((r) => [r.name, r.properties.priority])).toEqual([
      ['m365_deny_internet_v6', 4096],
    ]);
    const v4only = opts({ nsgDeny: 'all', nsgSource: '10.1.0.0/16' });
    expect(denyRules(v4only, [4, 6]).map((r) => [r.name, r.properties.priority])).toEqual([
      ['m365_deny_all_v4', 4096],
    ]);
  });

  it('is refused when the run has no egress rule, and every family needs its local prefix', () => {
    const ingress = compile(readFeed(FEED, { name: 'nsg.json' }), {
      allowImplausible: ['documentation'],
      direction: 'ingress',
    });
    expect(() => nsgRuleSet(ingress, raw({ nsgDeny: 'internet' }))).toThrow(
      'azure-nsg: --nsg-deny closes the egress rules and this run has none (inbound, the default DenyAllInBound drops what the ingress rules do not allow); drop --nsg-deny',
    );
    expect(nsgRuleSet(ingress, raw()).rules).toHaveLength(3);
    expect(() => nsgRuleSet(model(), raw({ nsgSource: '10.1.0.0/16' }))).toThrow(
      'azure-nsg: --nsg-source has no IPv6 prefix for rule v6_tcp_80_443; add one (comma-separated), pass --no-ipv6, or give a service tag',
    );
    expect(
      nsgRuleSet(model({ noIpv6: true }), raw({ nsgSource: '10.1.0.0/16' })).rules,
    ).toHaveLength(2);
    expect(() => nsgRuleSet(model(), raw({ nsgSource: 'fd00::/8' }))).toThrow(
      'azure-nsg: --nsg-source has no IPv4 prefix for rule v4_tcp_80_443; add one (comma-separated), pass --no-ipv4, or give a service tag',
    );
    const { rules } = nsgRuleSet(
      model(),
      raw({ nsgDeny: 'internet', nsgSource: '10.1.0.0/16,fd00::/8' }),
    );
    expect(rules.map((r) => r.name)).toEqual([
      'm365_v4_tcp_80_443',
      'm365_v4_udp_3478to3481',
      'm365_v6_tcp_80_443',
      'm365_deny_internet_v4',
      'm365_deny_internet_v6',
    ]);
  });
});

/** n allow rules of `each` destination and `src` source prefixes, named and numbered like real ones */
function synthetic(
  n: number,
  each = 1,
  o: Partial<{ inbound: boolean; deny: number }> = {},
): NsgRule[] {
  const pick = (k: number) => Array.from({ length: k }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const rules: NsgRule[] = Array.from({ length: n }, (_, i) => ({
    name: `m365_v4_tcp_${i}`,
    properties: {
      description: 'x',
      protocol: 'Tcp',
      access: 'Allow',
      priority: 100 + i,
      direction: o.inbound ? 'Inbound' : 'Outbound',
      sourcePortRange: '*',
      ...(o.inbound
        ? { sourceAddressPrefixes: pick(each), destinationAddressPrefix: 'VirtualNetwork' }
        : { sourceAddressPrefix: 'VirtualNetwork', destinationAddressPrefixes: pick(each) }),
      destinationPortRange: '*',
    },
  }));
  for (let d = 0; d < (o.deny ?? 0); d++)
    rules.push({
      name: `m365_deny_all_v${d}`,
      properties: { ...rules[0].properties, access: 'Deny', priority: 4096 - d },
    });
  return rules;
}
const base = opts();

describe('the budgets, at the limit and one past', () => {
  it('1000 rules fit, 1001 do not', () => {
    expect(refusal(() => checkBudgets(synthetic(1000), { ...base, priorityStart: 100 }))).toBe(
      'accepted',
    );
    expect(refusal(() => checkBudgets(synthetic(1001), base))).toBe(
      `azure-nsg: 1001 rules exceed the 1000 rules an NSG holds by 1${HELP}`,
    );
  });

  it('4000 destination prefixes fit, 4001 do not (a single prefix counts one)', () => {
    expect(refusal(() => checkBudgets(synthetic(4, 1000), base))).toBe('accepted');
    expect(refusal(() => checkBudgets([...synthetic(4, 1000), ...synthetic(1, 1)], base))).toBe(
      `azure-nsg: 4001 destination prefixes exceed the 4000 an NSG holds by 1 (already merged losslessly)${HELP}`,
    );
    // an inbound rule's single destination counts one
    expect(refusal(() => checkBudgets(synthetic(2, 2000, { inbound: true }), base))).toBe(
      'accepted',
    );
  });

  it('4000 source prefixes fit, 4001 do not (Inbound)', () => {
    const at = [...synthetic(2, 1999, { inbound: true }), ...synthetic(2, 1, { inbound: true })];
    expect(refusal(() => checkBudgets(at, base))).toBe('accepted');
    const past = [...synthetic(2, 2000, { inbound: true }), ...synthetic(1, 1, { inbound: true })];
    expect(refusal(() => checkBudgets(past, base))).toBe(
      `azure-nsg: 4001 source prefixes exceed the 4000 an NSG holds by 1 (already merged losslessly)${HELP}`,
    );
    // an outbound rule's single source tag counts one source
    const mixed = [...synthetic(2, 1999, { inbound: true }), ...synthetic(3)];
    expect(refusal(() => checkBudgets(mixed, base))).toBe(
      `azure-nsg: 4001 source prefixes exceed the 4000 an NSG holds by 1 (already merged losslessly)${HELP}`,
    );
  });

  it('the last priority may be 4096 exactly; one step more is refused, saying by how much', () => {
    const ten = synthetic(10);
    expect(refusal(() => checkBudgets(ten, { ...base, priorityStart: 4087 }))).toBe('accepted');
    expect(refusal(() => checkBudgets(ten, { ...base, priorityStart: 4088 }))).toBe(
      'azure-nsg: 10 rules from priority 4088 step 1 end at 4097, past 4096 by 1; lower --nsg-priority-start or --nsg-priority-step, or narrow the input',
    );
    expect(
      refusal(() => checkBudgets(ten, { ...base, priorityStart: 4006, priorityStep: 10 })),
    ).toBe('accepted');
    expect(
      refusal(() => checkBudgets(ten, { ...base, priorityStart: 4007, priorityStep: 10 })),
    ).toBe(
      'azure-nsg: 10 rules from priority 4007 step 10 end at 4097, past 4096 by 1; lower --nsg-priority-start or --nsg-priority-step, or narrow the input',
    );
  });

  it('with --nsg-deny the allow rules must end below the deny rules', () => {
    expect(
      refusal(() => checkBudgets(synthetic(10, 1, { deny: 2 }), { ...base, priorityStart: 4085 })),
    ).toBe('accepted');
    expect(
      refusal(() => checkBudgets(synthetic(10, 1, { deny: 2 }), { ...base, priorityStart: 4086 })),
    ).toBe(
      'azure-nsg: 10 rules from priority 4086 step 1 end at 4095, past 4094 (4095-4096 are the --nsg-deny rules) by 1; lower --nsg-priority-start or --nsg-priority-step, or narrow the input',
    );
    expect(
      refusal(() => checkBudgets(synthetic(10, 1, { deny: 1 }), { ...base, priorityStart: 4086 })),
    ).toBe('accepted');
    // deny rules alone are never past their own priorities, whatever the start
    const denies = denyRules(opts({ nsgDeny: 'all', nsgSource: '10.0.0.0/8,fd00::/8' }), [4, 6]);
    expect(refusal(() => checkBudgets(denies, { ...base, priorityStart: 4096 }))).toBe('accepted');
  });

  it('a rule name an NSG would refuse is refused here', () => {
    const r = synthetic(1);
    r[0].name = 'm365_bad-name-';
    expect(refusal(() => checkBudgets(r, base))).toBe(
      'azure-nsg: rule name m365_bad-name- is not a valid NSG rule name',
    );
    r[0].name = `m${'x'.repeat(79)}`;
    expect(refusal(() => checkBudgets(r, base))).toBe('accepted');
    r[0].name = `m${'x'.repeat(80)}`;
    expect(refusal(() => checkBudgets(r, base))).toMatch(/is not a valid NSG rule name$/);
  });

  it('--nsg-name and the priority options are refused outside their ranges, naming the flag', () => {
    expect(refusal(() => raw({ nsgName: 'a'.repeat(80) }))).toBe('accepted');
    expect(refusal(() => raw({ nsgName: 'a'.repeat(81) }))).toMatch(
      /^--nsg-name "a+": 1-80 letters/,
    );
    expect(refusal(() => raw({ nsgName: 'nsg-' }))).toMatch(/^--nsg-name "nsg-": 1-80/);
    expect(refusal(() => raw({ nsgPriorityStart: '99' }))).toMatch(/^--nsg-priority-start/);
    expect(refusal(() => raw({ nsgPriorityStart: '4096' }))).toBe('accepted');
    expect(refusal(() => raw({ nsgPriorityStart: '4097' }))).toMatch(/^--nsg-priority-start/);
    expect(refusal(() => raw({ nsgPriorityStep: '100' }))).toBe('accepted');
    expect(refusal(() => raw({ nsgPriorityStep: '101' }))).toMatch(/^--nsg-priority-step/);
    expect(refusal(() => raw({ nsgPriorityStep: '0' }))).toMatch(/^--nsg-priority-step/);
    expect(refusal(() => raw({ nsgDirection: 'outbound' }))).toBe(
      '--nsg-direction "outbound": one of Outbound, Inbound',
    );
    expect(Object.keys(NSG_OPTIONS)).toEqual([
      'name',
      'priorityStart',
      'priorityStep',
      'source',
      'direction',
      'deny',
    ]);
  });
});
