/**
 * Ingress in-process, through the library API (src/index.ts): the selection, the ports, the local
 * side and each target's rendering, table-driven, so that a mutant in any of them is seen.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compile,
  presetNames,
  presets,
  readFeed,
  readPolicy,
  render,
  type RuleModel,
} from '../src/index.js';
import { presetNamed } from '../src/compile/presets.js';
import { intersectPorts } from '../src/net/ports.js';
import { FIXTURES } from './helpers/env.js';

const FEED = readFeed(readFileSync(join(FIXTURES, 'ingress-feed.json')), {
  name: 'ingress-feed.json',
  instance: 'Worldwide',
});
const model = (o: Parameters<typeof compile>[1] = {}) =>
  compile(FEED, { allowImplausible: ['documentation'], ...o });
const rules = (m: RuleModel) =>
  m.rules.map((r) => [
    r.key,
    r.direction,
    r.family,
    r.bucket.protocol,
    r.bucket.ports.map((p) => `${p.from}-${p.to}`).join(','),
    r.prefixes.toArray().join(' '),
    r.local ? r.local.toArray().join(' ') : 'any',
    r.provenance.setIds.join(','),
  ]);
const fileOf = (
  m: RuleModel,
  target: string,
  path: string,
  options: Record<string, unknown> = {},
) => {
  const run = render(m, { targets: [target], options });
  expect(run.refusal).toBeUndefined();
  return run.artifacts.find((a) => a.path === path)!.content;
};

describe('intersectPorts', () => {
  it.each([
    ['25', '25', '25'],
    ['80,443', '443', '443'],
    ['80,443', '25', ''],
    ['1-100', '50-200', '50-100'],
    ['1-10,20-30', '5-25', '5-10,20-25'],
    ['1-10,20-30', '10-20', '10,20'],
    ['443', '1-65535', '443'],
    ['', '25', ''],
    ['3478-3481', '3481-3490', '3481'],
  ])('%s ∩ %s = %s', (a, b, want) => {
    const parse = (s: string) =>
      s
        ? s.split(',').map((x) => {
            const [f, t] = x.split('-').map(Number);
            return { from: f, to: t ?? f };
          })
        : [];
    const text = (l: { from: number; to: number }[]) =>
      l.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)).join(',');
    expect(text(intersectPorts(parse(a), parse(b)))).toBe(want);
    expect(text(intersectPorts(parse(b), parse(a)))).toBe(want);
  });
});

describe('the ingress selection', () => {
  it('a preset: its set, its port, the local side per family, sources merged', () => {
    expect(
      rules(
        model({
          ingress: { presets: ['eop-inbound-smtp'], local: ['192.0.2.25/32', '2001:db8::25/128'] },
        }),
      ),
    ).toEqual([
      ['in_v4_tcp_25', 'ingress', 4, 'tcp', '25-25', '198.51.100.0/25', '192.0.2.25/32', '10'],
      ['in_v6_tcp_25', 'ingress', 6, 'tcp', '25-25', '2001:db8:10::/48', '2001:db8::25/128', '10'],
    ]);
  });

  it('both presets, both directions: egress rules first, then ingress, names apart', () => {
    const m = model({
      direction: 'both',
      ingress: { presets: ['exchange-hybrid-inbound', 'eop-inbound-smtp'] },
    });
    const keys = m.rules.map((r) => r.key);
    expect(keys).toEqual([
      'v4_tcp_25',
      'v4_tcp_80_443',
      'v4_tcp_443',
      'v4_udp_3478to3481',
      'v6_tcp_25',
      'v6_tcp_80_443',
      'in_v4_tcp_25',
      'in_v4_tcp_443',
      'in_v6_tcp_25',
      'in_v6_tcp_443',
    ]);
    expect(m.rules.filter((r) => r.direction === 'ingress').every((r) => !r.local)).toBe(true);
    // the sets the model reports: every set either direction uses, once, with the feed's own ports
    expect(m.sets.map((s) => `${s.id}:${s.tcpPorts.map((p) => p.from).join(',')}`)).toEqual([
      '1:80,443',
      '10:25',
      '12:443',
    ]);
    // URL rules are egress only
    expect(m.urlRules.map((u) => u.key)).toEqual(['url_tcp_25', 'url_tcp_80_443']);
  });

  it('--direction ingress without a preset: the filtered sets with their own ports, URLs dropped and reported', () => {
    const m = model({ direction: 'ingress', serviceAreas: ['Exchange'] });
    expect(m.rules.map((r) => r.key)).toEqual([
      'in_v4_tcp_25',
      'in_v4_tcp_80_443',
      'in_v6_tcp_25',
      'in_v6_tcp_80_443',
    ]);
    expect(m.urlRules).toEqual([]);
    expect(
      m.findings.filter((f) => f.entry?.endsWith('URLs (ingress)')).map((f) => f.setIds),
    ).toEqual([['1'], ['10']]);
  });

  it('the local ports restrict each set: what is left, and a set with nothing left is reported', () => {
    const m = model({ direction: 'ingress', ingress: { tcpPorts: [{ from: 443, to: 443 }] } });
    expect(m.rules.map((r) => r.key)).toEqual(['in_v4_tcp_443', 'in_v6_tcp_443']);
    expect(m.rules[0].provenance.setIds).toEqual(['1', '12']);
    expect(m.findings.filter((f) => f.entry === 'ingress').map((f) => f.setIds)).toEqual([['10']]);
    const udp = model({ direction: 'ingress', ingress: { udpPorts: [{ from: 3478, to: 3479 }] } });
    expect(rules(udp)).toEqual([
      ['in_v4_udp_3478to3479', 'ingress', 4, 'udp', '3478-3479', '198.51.100.128/26', 'any', '12'],
    ]);
  });

  it('a local side of one family drops the other family, reported per set', () => {
    const m = model({ ingress: { presets: ['eop-inbound-smtp'], local: ['2001:db8::25/128'] } });
    expect(m.rules.map((r) => r.key)).toEqual(['in_v6_tcp_25']);
    expect(m.findings).toContainEqual(
      expect.objectContaining({ kind: 'dropped', entry: 'ingress v4', setIds: ['10'] }),
    );
  });

  it('the family filters apply to presets', () => {
    expect(
      model({ noIpv6: true, ingress: { presets: ['eop-inbound-smtp'] } }).rules.map((r) => r.key),
    ).toEqual(['in_v4_tcp_25']);
    expect(
      model({ noIpv4: true, ingress: { presets: ['eop-inbound-smtp'] } }).rules.map((r) => r.key),
    ).toEqual(['in_v6_tcp_25']);
  });

  it.each([
    [
      { direction: 'egress' as const, ingress: { presets: ['eop-inbound-smtp'] } },
      /use --direction ingress or both/,
    ],
    [{ ingress: { local: ['192.0.2.25/32'] } }, /use --direction ingress or both/],
    [{ ingress: { tcpPorts: [{ from: 25, to: 25 }] } }, /use --direction ingress or both/],
    [
      { ingress: { presets: ['nope'] } },
      /unknown preset "nope"; the presets: eop-inbound-smtp, exchange-hybrid-inbound/,
    ],
    [
      { direction: 'ingress' as const, ingress: { local: ['192.0.2.25/24'] } },
      /ingress local: .*: "192.0.2.25\/24"/,
    ],
  ])('%j is refused', (o, msg) => {
    expect(() => model(o)).toThrow(msg);
  });

  it('the policy section joins the options; the same part twice is an error', () => {
    const policy = readPolicy(
      'ingress:\n  local: [192.0.2.25]\n  presets: [eop-inbound-smtp]\n  tcpPorts: "25"\n',
    );
    const m = model({ policy });
    expect(m.options.ingress).toEqual({
      local: ['192.0.2.25/32'],
      presets: ['eop-inbound-smtp'],
      tcpPorts: [{ from: 25, to: 25 }],
    });
    expect(rules(m).map((r) => r[0])).toEqual(['in_v4_tcp_25']);
    // the section is reported, with what it allows in
    expect(m.findings.filter((f) => f.entry === 'ingress' && f.kind === 'override')).toEqual([
      {
        kind: 'override',
        entry: 'ingress',
        detail: 'policy policy.yaml: ingress presets eop-inbound-smtp, to 192.0.2.25/32, TCP 25',
      },
    ]);
    const why = readPolicy('ingress:\n  local: [192.0.2.25]\n  reason: MX hosts\n', {
      name: 'mx.yaml',
    });
    expect(
      model({ policy: why, direction: 'ingress', serviceAreas: ['Exchange'] }).findings.find(
        (f) => f.kind === 'override',
      )?.detail,
    ).toBe('policy mx.yaml: ingress to 192.0.2.25/32 (MX hosts)');
    expect(() => model({ policy, ingress: { local: ['192.0.2.26/32'] } })).toThrow(
      /ingress local is given by the options and by the policy policy.yaml/,
    );
    expect(() => model({ policy, ingress: { tcpPorts: [{ from: 25, to: 25 }] } })).toThrow(
      /ingress tcpPorts is given/,
    );
    // presets from both places are joined
    const both = model({ policy, ingress: { presets: ['exchange-hybrid-inbound'] } });
    expect(both.options.ingress?.presets).toEqual(['eop-inbound-smtp', 'exchange-hybrid-inbound']);
  });
});

describe('each target renders ingress the right way round', () => {
  const m = model({
    direction: 'both',
    serviceAreas: ['Skype'],
    ingress: { presets: ['eop-inbound-smtp'], local: ['192.0.2.25/32', '192.0.2.26/32'] },
  });

  it('nftables: saddr set, local set, ports; hooks by direction', () => {
    const nft = fileOf(m, 'nftables', 'm365fw.nft', { nftHook: 'output,input' });
    expect(nft).toContain(
      'ip saddr @m365_in_v4_tcp_25 ip daddr { 192.0.2.25/32, 192.0.2.26/32 } tcp dport 25 accept comment "sets 10 Exchange Allow required"',
    );
    expect(nft).toContain('ip daddr @m365_v4_tcp_443 tcp dport 443 accept');
    // no drop policy unless asked: the service's port is closed to everyone else, nothing more
    expect(nft).toContain(
      [
        'chain input {',
        '\t\ttype filter hook input priority filter; policy accept;',
        '\t\tct state established,related accept',
        '\t\tiifname "lo" accept',
        '\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept',
        '\t\tjump m365_allow_in',
        '\t\tip daddr { 192.0.2.25/32, 192.0.2.26/32 } tcp dport 25 drop comment "ingress: others on these ports"',
        '\t}',
      ].join('\n'),
    );
    const closed = fileOf(m, 'nftables', 'm365fw.nft', {
      nftHook: 'output,input',
      nftPolicy: 'drop',
    });
    expect(closed).toMatch(
      /chain input \{\n\t\ttype filter hook input priority filter; policy drop;\n\t\tct state established,related accept\n\t\tct state invalid drop\n\t\tiifname "lo" accept\n\t\ticmpv6 type \{ [a-z0-9, -]+ \} accept\n\t\tjump m365_allow_in\n\t\}/,
    );
    expect(nft).toMatch(
      /chain output \{[^}]*oifname "lo" accept[^}]*\} accept\n\t\tjump m365_allow\n\t\}/,
    );
    const fwd = fileOf(m, 'nftables', 'm365fw.nft', { nftHook: 'forward', nftPolicy: 'accept' });
    expect(fwd).toMatch(
      /chain forward \{\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tct state established,related accept\n\t\tjump m365_allow\n\t\tjump m365_allow_in\n\t\tip daddr [^\n]+ tcp dport 25 drop comment "ingress: others on these ports"\n\t\}/,
    );
    // the IPv6 ingress rule has no local destination of its family: not rendered
    expect(nft).not.toContain('m365_in_v6');
  });

  it('iptables: the ingress chain, each local prefix, src match; without ipset one rule per pair', () => {
    const v4 = fileOf(m, 'iptables', 'm365fw.v4');
    expect(v4.split('\n').filter((l) => l.startsWith('-A M365FW_IN'))).toEqual([
      '-A M365FW_IN -d 192.0.2.25/32 -p tcp --dport 25 -m set --match-set m365_in_v4_tcp_25 src -m comment --comment "sets 10 Exchange Allow required" -j ACCEPT',
      '-A M365FW_IN -d 192.0.2.26/32 -p tcp --dport 25 -m set --match-set m365_in_v4_tcp_25 src -m comment --comment "sets 10 Exchange Allow required" -j ACCEPT',
      '-A M365FW_IN -d 192.0.2.25/32 -p tcp --dport 25 -m comment --comment "ingress: others on these ports" -j DROP',
      '-A M365FW_IN -d 192.0.2.26/32 -p tcp --dport 25 -m comment --comment "ingress: others on these ports" -j DROP',
    ]);
    expect(v4).toMatch(/-A M365FW -p tcp --dport 443 -m set --match-set m365_v4_tcp_443 dst /);
    const plain = fileOf(m, 'iptables', 'm365fw.v4', { ipset: false });
    expect(plain.split('\n').filter((l) => l.startsWith('-A M365FW_IN'))).toEqual([
      '-A M365FW_IN -s 198.51.100.0/25 -d 192.0.2.25/32 -p tcp --dport 25 -m comment --comment "sets 10 Exchange Allow required" -j ACCEPT',
      '-A M365FW_IN -s 198.51.100.0/25 -d 192.0.2.26/32 -p tcp --dport 25 -m comment --comment "sets 10 Exchange Allow required" -j ACCEPT',
      '-A M365FW_IN -d 192.0.2.25/32 -p tcp --dport 25 -m comment --comment "ingress: others on these ports" -j DROP',
      '-A M365FW_IN -d 192.0.2.26/32 -p tcp --dport 25 -m comment --comment "ingress: others on these ports" -j DROP',
    ]);
    expect(fileOf(m, 'iptables', 'm365fw.ipset')).toContain(
      'add m365_in_v4_tcp_25-tmp 198.51.100.0/25\n',
    );
  });

  it('Azure NSG: Inbound, feed prefixes as sources, the local prefixes as destination', () => {
    const t = JSON.parse(
      fileOf(m, 'azure-nsg', 'azure-nsg.json', { nsgPriorityStart: 200, nsgPriorityStep: 5 }),
    );
    expect(
      t.resources[0].properties.securityRules.map(
        (r: { name: string; properties: Record<string, unknown> }) => [
          r.name,
          r.properties.direction,
          r.properties.priority,
          r.properties.sourceAddressPrefix ?? r.properties.sourceAddressPrefixes,
          r.properties.destinationAddressPrefix ?? r.properties.destinationAddressPrefixes,
        ],
      ),
    ).toEqual([
      ['m365_v4_tcp_443', 'Outbound', 200, 'VirtualNetwork', ['198.51.100.128/26']],
      ['m365_v4_udp_3478to3481', 'Outbound', 205, 'VirtualNetwork', ['198.51.100.128/26']],
      [
        'm365_in_v4_tcp_25',
        'Inbound',
        210,
        ['198.51.100.0/25'],
        ['192.0.2.25/32', '192.0.2.26/32'],
      ],
    ]);
  });

  it('PAN-OS: in-zones, groups as source, the local prefixes as destination', () => {
    const set = fileOf(m, 'paloalto', 'panos-set.txt', {
      panosInFromZone: 'untrust',
      panosInToZone: 'dmz',
    });
    expect(set).toContain(
      'set rulebase security rules m365-in-tcp_25 from untrust to dmz source m365-grp-in-v4-tcp_25 destination [ 192.0.2.25/32 192.0.2.26/32 ]',
    );
    expect(set).toContain('set address-group m365-grp-in-v4-tcp_25 static m365-198_51_100_0-25');
  });

  it('PAC and a target without the capability: withheld, each reported', () => {
    const run = render(m, { targets: ['pac'], options: { pacProxy: 'PROXY 192.0.2.1:8080' } });
    expect(
      run.runs[0].findings.filter((f) => f.entry === 'in_v4_tcp_25').map((f) => f.kind),
    ).toEqual(['unenforced']);
    expect(run.runs[0].enforces.rules).not.toContain('in_v4_tcp_25');
  });
});

describe('the ingress presets table', () => {
  const endpointDocs = [
    'Worldwide: https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges',
    'China (21Vianet): https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges-21vianet',
    'USGovDoD: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints',
    'USGovGCCHigh: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints',
  ];
  it('holds each preset whole: name, summary, service area, set ids per instance, ports and sources', () => {
    expect(presets()).toEqual([
      {
        name: 'eop-inbound-smtp',
        summary:
          'Exchange Online Protection delivers mail to your mail hosts: TCP 25 from the prefixes of the *.mail.protection endpoint set',
        serviceArea: 'Exchange',
        sets: { Worldwide: ['10'], China: ['27'], USGovDoD: ['6'], USGovGCCHigh: ['6'] },
        tcpPorts: [{ from: 25, to: 25 }],
        docs: [
          'https://learn.microsoft.com/exchange/mail-flow-best-practices/use-connectors-to-configure-mail-flow/set-up-connectors-to-route-mail (mail from Microsoft 365 to your own email servers)',
          ...endpointDocs,
        ],
      },
      {
        name: 'exchange-hybrid-inbound',
        summary:
          'Exchange hybrid: Exchange Online reaches your hybrid servers on TCP 443 (Autodiscover, EWS, free/busy, MRS proxy for mailbox moves)',
        serviceArea: 'Exchange',
        sets: { Worldwide: ['1'], China: ['1'], USGovDoD: ['1'], USGovGCCHigh: ['1'] },
        tcpPorts: [{ from: 443, to: 443 }],
        docs: [
          'https://learn.microsoft.com/exchange/hybrid-deployment-prerequisites#hybrid-deployment-protocols-ports-and-endpoints',
          ...endpointDocs,
        ],
      },
    ]);
  });
  it('finds a preset by its exact name only, and lists the names in order', () => {
    expect(presetNames()).toEqual(['eop-inbound-smtp', 'exchange-hybrid-inbound']);
    expect(presetNamed('exchange-hybrid-inbound')?.tcpPorts).toEqual([{ from: 443, to: 443 }]);
    expect(presetNamed('eop-inbound-smtp')?.sets.China).toEqual(['27']);
    for (const n of ['', 'eop', 'EOP-INBOUND-SMTP', 'eop-inbound-smtp '])
      expect(presetNamed(n)).toBeUndefined();
  });
});

describe('an empty local side is a mistake, never "any local address"', () => {
  it.each(['', ',', '192.0.2.0/24,', ',192.0.2.0/24', '192.0.2.0/24,,198.51.100.0/24', ' '])(
    '--local %j is refused, nothing written',
    (local) => {
      const out = tmpDir('local');
      const r = compileHere([
        '--input',
        join(FIXTURES, 'sample-feed.json'),
        '--direction',
        'ingress',
        '--local',
        local,
        '--target',
        'nftables',
        '--out',
        out,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--local .*: an empty item; give CIDRs separated by commas/);
      expect(readdirSync(out)).toEqual([]);
    },
  );

  it('the library refuses local: [] (leaving it out means any)', () => {
    const feed = readFeed(
      JSON.stringify([
        {
          id: 1,
          serviceArea: 'Exchange',
          category: 'Allow',
          required: true,
          tcpPorts: '25',
          ips: ['198.51.100.0/24'],
        },
      ]),
      { name: 'f.json' },
    );
    expect(() =>
      compile(feed, { direction: 'ingress', ingress: { local: [] }, allowImplausible: ['all'] }),
    ).toThrow(
      /ingress local: an empty list; give the local prefixes, or leave local out for any local address/,
    );
  });
});

describe('what ingress enforces is said as it is', () => {
  const run = (extra: string[]) => {
    const dir = tmpDir('ingress-said');
    const list = join(dir, 'list.txt');
    writeFileSync(list, '198.51.100.0/24\n');
    const r = compileHere([
      '--input',
      list,
      '--input-format',
      'prefixes',
      '--direction',
      'ingress',
      '--allow-implausible',
      'documentation',
      '--target',
      'nftables,iptables',
      '--nft-hook',
      'input',
      '--out',
      join(dir, 'out'),
      ...extra,
    ]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')).targets;
  };
  it('address-only rules without --local close nothing: inert, not "only the feed\'s sources"', () => {
    const t = run([]);
    for (const name of ['nftables', 'iptables']) {
      expect(t[name].enforcement.inert, name).toBe(true);
      expect(t[name].enforcement.text, name).toMatch(
        /address-only .*without --local close nothing/,
      );
    }
  });
  it('with --local they close the local side to everyone else', () => {
    const t = run(['--local', '192.0.2.25']);
    for (const name of ['nftables', 'iptables']) {
      expect(t[name].enforcement.inert, name).toBe(false);
      expect(t[name].enforcement.text, name).toMatch(
        /only the feed's sources reach the ingress ports/,
      );
    }
  });
});
