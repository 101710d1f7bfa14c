/**
 * Ingress rules end to end: presets read their sets from the real snapshots of every instance,
 * every target renders them the right way round (read back by nft, iptables-restore, the ARM
 * schema, Palo Alto's specs), egress and ingress share a run without clashing names, and every
 * refusal is one line with nothing written.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  FIXTURES,
  inNetns,
  missing,
  NO_SHARED,
  runCli,
  sharedFeeds,
  skipNote,
} from './helpers/env.js';
import { oracleIntervals, rawSets } from './helpers/oracle.js';
import { parseNftJson, sameIntervals } from './helpers/nft.js';
import { intervalsOfCidrs, parseIpsetList, parseIptablesSave } from './helpers/ipt.js';
import { AZURE, azureValidators, codeChecks } from './helpers/azure.js';
import { loadSpec, PANOS_SPECS } from './helpers/panos.js';
import { compileHere, runHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';
import { presets, type Preset } from '../src/compile/presets.js';

const FEED = join(FIXTURES, 'ingress-feed.json');
const LOCAL = '192.0.2.25,2001:db8::25';
const nftWhy = missing('nft', 'unshare');
skipNote('ingress nft read-back', nftWhy);
const iptWhy = missing(
  'ipset',
  'iptables-restore',
  'ip6tables-restore',
  'iptables-save',
  'unshare',
);
skipNote('ingress iptables read-back', iptWhy);

function run(args: string[]) {
  const out = tmpDir('ingress');
  const r = compileHere(['--out', out, '--no-progress', ...args]);
  const read = (f: string) => readFileSync(join(out, f), 'utf8');
  return { ...r, out, read, files: () => readdirSync(out).sort() };
}
function compile(args: string[]) {
  const r = run(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { ...r, report: JSON.parse(r.read('report.json')) };
}
const fixture = (...extra: string[]) => [
  '--input',
  FEED,
  '--instance',
  'Worldwide',
  '--allow-implausible',
  'documentation',
  ...extra,
];

const INSTANCE: Record<string, keyof Preset['sets']> = {
  worldwide: 'Worldwide',
  china: 'China',
  usgovdod: 'USGovDoD',
  usgovgcchigh: 'USGovGCCHigh',
};
const instanceOf = (f: string) => INSTANCE[basename(f).split('-')[0]];

/** The raw feed's prefixes of the given set ids, per family, merged by the oracle. */
function oracle(feed: string, ids: string[], family: 4 | 6) {
  const ips = rawSets(feed)
    .filter((s) => ids.includes(String(s.id)))
    .flatMap((s) => (s.ips as string[] | undefined) ?? [])
    .filter((p) => p.includes(':') === (family === 6));
  return oracleIntervals(ips);
}

const feeds = sharedFeeds();
skipNote('presets against the real snapshots', feeds.length ? undefined : NO_SHARED);
describe.skipIf(!feeds.length)(
  'presets take their sets and ports from the feed of every instance',
  () => {
    it.each(feeds.length ? feeds.map((f) => [basename(f), f]) : [['none', '']])(
      '%s',
      (_n, feed) => {
        const instance = instanceOf(feed);
        const args = [
          '--input',
          feed,
          '--instance',
          instance,
          '--preset',
          'eop-inbound-smtp,exchange-hybrid-inbound',
          '--direction',
          'both',
          '--target',
          'nftables',
        ];
        // an older snapshot may lack a preset's set (China before set 27): refused, never guessed
        const ids = new Set(rawSets(feed).map((s) => String(s.id)));
        const absent = presets().flatMap((p) =>
          p.sets[instance].filter((id) => !ids.has(id)).map((id) => [p.name, id]),
        );
        if (absent.length) {
          const r = run(args);
          expect(r.code).toBe(1);
          expect(r.stderr).toContain(
            `preset ${absent[0][0]} (instance ${instance}) names endpoint set ${absent[0][1]}, which is not in the feed`,
          );
          expect(r.files()).toEqual([]);
          return;
        }
        const { report } = compile(args);
        for (const p of presets()) {
          const ids = [...p.sets[instance]];
          const port = p.tcpPorts[0].from;
          for (const family of [4, 6] as const) {
            const rule = report.rules.find((r: any) => r.key === `in_v${family}_tcp_${port}`);
            const want = oracle(feed, ids, family);
            if (!want.length) {
              expect(rule, `${p.name} v${family}`).toBeUndefined();
              continue;
            }
            expect(rule, `${p.name} v${family}`).toMatchObject({
              direction: 'ingress',
              protocol: 'tcp',
              ports: String(port),
              local: 'any',
            });
            expect(rule.provenance.setIds).toEqual(ids);
            expect(sameIntervals(intervalsOfCidrs(rule.prefixes), want)).toBe(true);
          }
        }
        // the egress side is the same as an egress-only run's
        const egress = compile(['--input', feed, '--instance', instance, '--target', 'nftables']);
        expect(report.rules.filter((r: any) => !r.direction)).toEqual(egress.report.rules);
      },
    );
  },
);

describe.skipIf(!!nftWhy)('nftables: ingress read back from the kernel', () => {
  it('--direction both: egress rules match daddr in m365_allow, ingress saddr and the local side in m365_allow_in', () => {
    const r = compile(
      fixture(
        '--preset',
        'eop-inbound-smtp',
        '--direction',
        'both',
        '--local',
        LOCAL,
        '--nft-hook',
        'output,input',
        '--target',
        'nftables',
      ),
    );
    const { sets, rules, chains } = parseNftJson(
      inNetns(`nft -f ${r.out}/m365fw.nft\nnft -j list ruleset`),
    );
    const ingress = rules.filter((x) => x.chain === 'm365_allow_in');
    expect(ingress.map((x) => [x.side, x.set, x.protocol, x.ports, x.local])).toEqual([
      ['saddr', 'm365_in_v4_tcp_25', 'tcp', [[25, 25]], ['192.0.2.25']],
      ['saddr', 'm365_in_v6_tcp_25', 'tcp', [[25, 25]], ['2001:db8::25']],
    ]);
    expect(sameIntervals(sets.get('m365_in_v4_tcp_25')!.intervals, oracle(FEED, ['10'], 4))).toBe(
      true,
    );
    expect(sameIntervals(sets.get('m365_in_v6_tcp_25')!.intervals, oracle(FEED, ['10'], 6))).toBe(
      true,
    );
    const egress = rules.filter((x) => x.chain === 'm365_allow');
    expect(egress.every((x) => x.side === 'daddr' && !x.set.startsWith('m365_in_'))).toBe(true);
    expect(egress.length).toBe(6);
    // each base chain jumps to its direction's rules
    const jumps = (c: string) =>
      rules.filter((x) => x.chain === c && x.verdict.startsWith('jump')).map((x) => x.verdict);
    expect(jumps('output')).toEqual(['jump m365_allow']);
    expect(jumps('input')).toEqual(['jump m365_allow_in']);
    // no drop policy unless asked: the ingress port is closed to everyone else instead
    expect(chains.find((c: any) => c.name === 'input')).toMatchObject({
      hook: 'input',
      policy: 'accept',
    });
    expect(rules.filter((x) => x.chain === 'input' && x.verdict === 'drop')).toHaveLength(2);
  });

  it('--nft-hook forward carries both directions', () => {
    const r = compile(
      fixture(
        '--preset',
        'eop-inbound-smtp',
        '--direction',
        'both',
        '--nft-hook',
        'forward',
        '--target',
        'nftables',
      ),
    );
    const { rules } = parseNftJson(inNetns(`nft -f ${r.out}/m365fw.nft\nnft -j list ruleset`));
    expect(
      rules
        .filter((x) => x.chain === 'forward' && x.verdict.startsWith('jump'))
        .map((x) => x.verdict),
    ).toEqual(['jump m365_allow', 'jump m365_allow_in']);
    // no local side given: any local address
    expect(
      rules.filter((x) => x.chain === 'm365_allow_in').every((x) => x.local === undefined),
    ).toBe(true);
  });
});

describe.skipIf(!!iptWhy)(
  'iptables: ingress read back, and removed ingress rules leave the kernel',
  () => {
    const LOAD = (d: string) => `ipset restore -f ${d}/m365fw.ipset
iptables-restore --test --noflush ${d}/m365fw.v4
ip6tables-restore --test --noflush ${d}/m365fw.v6
iptables-restore --noflush ${d}/m365fw.v4
ip6tables-restore --noflush ${d}/m365fw.v6`;
    it('the ingress chain matches the sets as src towards --local; a later egress-only run empties it and its sets go', () => {
      const both = compile(
        fixture(
          '--preset',
          'eop-inbound-smtp',
          '--direction',
          'both',
          '--local',
          LOCAL,
          '--target',
          'iptables',
        ),
      );
      const egress = compile(fixture('--target', 'iptables'));
      const text = inNetns(`${LOAD(both.out)}
echo '### v4'; iptables-save -t filter; echo '### ipset'; ipset list
sh ${egress.out}/m365fw-iptables-apply.sh >/dev/null
echo '### after'; iptables-save -t filter; echo '### sets'; ipset list -n`);
      const [, v4, ipset, after, setsAfter] = text.split(/### (?:v4|ipset|after|sets)\n/);
      const inRules = parseIptablesSave(v4, 'M365FW_IN');
      // the accept from the set, then the drop of everyone else on that port of the local side
      expect(inRules.map((r) => r.target)).toEqual(['ACCEPT', 'DROP']);
      expect(v4).toMatch(
        /-A M365FW_IN -d 192\.0\.2\.25\/32 -p tcp -m tcp --dport 25 -m set --match-set m365_in_v4_tcp_25 src/,
      );
      const sets = parseIpsetList(ipset);
      expect(
        sameIntervals(
          intervalsOfCidrs(sets.get('m365_in_v4_tcp_25')!.members),
          oracle(FEED, ['10'], 4),
        ),
      ).toBe(true);
      // the egress-only run: the chain is still declared and now empty, the ingress sets destroyed
      expect(after).toMatch(/:M365FW_IN /);
      expect(after).not.toMatch(/-A M365FW_IN/);
      expect(setsAfter.split('\n').filter((s) => s.startsWith('m365_in_'))).toEqual([]);
    });
  },
);

describe('iptables --ipt-in-hook and --ipt-in-chain', () => {
  it.each([
    [[], 'INPUT', 'M365FW_IN'],
    [['--ipt-in-hook', 'FORWARD'], 'FORWARD', 'M365FW_IN'],
    [['--ipt-in-chain', 'MAIL_IN', '--ipt-in-hook', 'FORWARD'], 'FORWARD', 'MAIL_IN'],
    [['--ipt-in-hook', 'none'], undefined, 'M365FW_IN'],
  ] as [string[], string | undefined, string][])(
    '%j: the apply script jumps from %s to %s',
    (extra, hook, chain) => {
      const r = compile(fixture('--preset', 'eop-inbound-smtp', '--target', 'iptables', ...extra));
      const script = r.read('m365fw-iptables-apply.sh');
      const jumps = script.split('\n').filter((l) => / -A (INPUT|FORWARD|OUTPUT) /.test(l));
      expect(jumps).toEqual([
        'iptables -w -C OUTPUT -j M365FW 2>/dev/null || iptables -w -A OUTPUT -j M365FW',
        ...(hook
          ? [`iptables -w -C ${hook} -j ${chain} 2>/dev/null || iptables -w -A ${hook} -j ${chain}`]
          : []),
        'ip6tables -w -C OUTPUT -j M365FW 2>/dev/null || ip6tables -w -A OUTPUT -j M365FW',
        ...(hook
          ? [
              `ip6tables -w -C ${hook} -j ${chain} 2>/dev/null || ip6tables -w -A ${hook} -j ${chain}`,
            ]
          : []),
      ]);
      expect(r.read('m365fw.v4')).toContain(
        `-A ${chain} -p tcp --dport 25 -m set --match-set m365_in_v4_tcp_25 src`,
      );
      expect(r.read('m365fw.v4')).toContain(`-F ${chain}\n`);
    },
  );
  it('an egress-only run never hooks the ingress chain, but still declares and flushes it', () => {
    const r = compile(fixture('--target', 'iptables'));
    expect(r.read('m365fw-iptables-apply.sh')).not.toMatch(/-A INPUT|M365FW_IN 2>/);
    expect(r.read('m365fw.v4')).toContain(
      ':M365FW - [0:0]\n:M365FW_IN - [0:0]\n-F M365FW\n-F M365FW_IN\n',
    );
  });
});

describe('Azure NSG and Terraform: ingress rules are Inbound from the feed to the local side', () => {
  const haveSchemas = existsSync(AZURE);
  it.skipIf(!haveSchemas)(
    'the template validates, rule names do not clash, priorities follow on',
    () => {
      const r = compile(
        fixture(
          '--preset',
          'eop-inbound-smtp,exchange-hybrid-inbound',
          '--direction',
          'both',
          '--local',
          LOCAL,
          '--target',
          'azure-nsg,terraform-azure-nsg',
          '--nsg-priority-step',
          '10',
          '--nsg-deny',
          'internet',
        ),
      );
      const t = JSON.parse(r.read('azure-nsg.json'));
      const v = azureValidators();
      expect(v.template(t), v.errors(v.template)).toBe(true);
      expect(v.strict(t), v.errors(v.strict)).toBe(true);
      expect(codeChecks(t)).toEqual([]);
      const rules = t.resources[0].properties.securityRules;
      const inbound = rules.filter((x: any) => x.properties.direction === 'Inbound');
      expect(inbound.map((x: any) => x.name)).toEqual([
        'm365_in_v4_tcp_25',
        'm365_in_v4_tcp_443',
        'm365_in_v6_tcp_25',
        'm365_in_v6_tcp_443',
      ]);
      const v4smtp = inbound[0].properties;
      expect(v4smtp).toMatchObject({
        access: 'Allow',
        protocol: 'Tcp',
        destinationAddressPrefixes: ['192.0.2.25/32'],
        destinationPortRanges: ['25'],
      });
      expect(
        sameIntervals(intervalsOfCidrs(v4smtp.sourceAddressPrefixes), oracle(FEED, ['10'], 4)),
      ).toBe(true);
      expect(
        sameIntervals(
          intervalsOfCidrs(inbound[1].properties.sourceAddressPrefixes),
          oracle(FEED, ['1'], 4),
        ),
      ).toBe(true);
      // priorities 100, 110, 120 … over both directions; the deny closes the egress direction only
      const allows = rules.filter((x: any) => x.properties.access === 'Allow');
      expect(allows.map((x: any) => x.properties.priority)).toEqual(
        allows.map((_: unknown, i: number) => 100 + 10 * i),
      );
      expect(
        rules
          .filter((x: any) => x.properties.access === 'Deny')
          .map((x: any) => x.properties.direction),
      ).toEqual(['Outbound']);
      // Terraform carries the same rules
      const tf = JSON.parse(r.read('m365fw.nsg.tf.json'));
      const res = tf.resource.azurerm_network_security_rule;
      expect(res.m365_in_v4_tcp_25).toMatchObject({
        direction: 'Inbound',
        destination_address_prefixes: ['192.0.2.25/32'],
        source_address_prefixes: v4smtp.sourceAddressPrefixes,
      });
    },
  );

  it('without --local the destination is --nsg-source (VirtualNetwork by default, or a prefix per family)', () => {
    const r = compile(
      fixture(
        '--preset',
        'eop-inbound-smtp',
        '--target',
        'azure-nsg',
        '--nsg-source',
        '192.0.2.0/24,2001:db8::/64',
      ),
    );
    const rules = JSON.parse(r.read('azure-nsg.json')).resources[0].properties.securityRules;
    expect(
      rules.map((x: any) => [
        x.name,
        x.properties.direction,
        x.properties.destinationAddressPrefix,
      ]),
    ).toEqual([
      ['m365_in_v4_tcp_25', 'Inbound', '192.0.2.0/24'],
      ['m365_in_v6_tcp_25', 'Inbound', '2001:db8::/64'],
    ]);
  });

  /** n IPv6 /64s that do not merge (every other one), from the documentation range */
  const v6List = (n: number) =>
    Array.from({ length: n }, (_, i) => `2001:db8:0:${(2 * i).toString(16)}::/64`).join('\n') +
    '\n';
  it.each([
    [4000, 0],
    [4001, 1],
  ])(
    'the 4000 source prefixes of an NSG, counted Inbound: %i source prefixes exit %i',
    (n, code) => {
      const dir = tmpDir('ingress-budget');
      const list = join(dir, 'sources.txt');
      writeFileSync(list, v6List(n));
      const r = run([
        '--input',
        list,
        '--input-format',
        'prefixes',
        '--tcp-ports',
        '25',
        '--direction',
        'ingress',
        '--target',
        'azure-nsg',
      ]);
      expect(r.code).toBe(code);
      if (code) {
        expect(r.stderr).toMatch(/4001 source prefixes exceed the 4000 an NSG holds by 1/);
        expect(r.files()).toEqual([]);
      } else {
        const rules = JSON.parse(r.read('azure-nsg.json')).resources[0].properties.securityRules;
        expect(rules[0].properties.sourceAddressPrefixes).toHaveLength(4000);
        expect(rules[0].properties.direction).toBe('Inbound');
      }
    },
  );
});

describe('PAN-OS: ingress rules take the address groups as source', () => {
  const arr = (x: any) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const text = (x: any) => (typeof x === 'string' ? x : (x?.['#text'] ?? ''));
  const members = (x: any) => arr(x?.[0]?.member).map(text);
  it.skipIf(!existsSync(PANOS_SPECS))(
    "zones by option, source the groups of the feed's set-10 prefixes, destination the local side",
    () => {
      const r = compile(
        fixture(
          '--preset',
          'eop-inbound-smtp',
          '--direction',
          'both',
          '--local',
          LOCAL,
          '--target',
          'paloalto',
          '--panos-from-zone',
          'trust',
          '--panos-to-zone',
          'untrust',
          '--panos-in-from-zone',
          'untrust',
          '--panos-in-to-zone',
          'dmz',
        ),
      );
      const p = new XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: '@',
        isArray: (_n: string, _p: unknown, _l: boolean, attr: boolean) => !attr,
        parseTagValue: false,
      });
      const vsys = p.parse(r.read('panos-config.xml')).config[0].devices[0].entry[0].vsys[0]
        .entry[0];
      const rules = arr(vsys.rulebase[0].security[0].rules[0].entry);
      const groups = new Map(arr(vsys['address-group'][0].entry).map((e: any) => [e['@name'], e]));
      const addr = new Map(arr(vsys.address[0].entry).map((e: any) => [e['@name'], e]));
      const names = rules.map((x: any) => x['@name']);
      expect(new Set(names).size).toBe(names.length);
      const smtp = rules.find((x: any) => x['@name'] === 'm365-in-tcp_25');
      expect(members(smtp.from)).toEqual(['untrust']);
      expect(members(smtp.to)).toEqual(['dmz']);
      expect(members(smtp.source)).toEqual(['m365-grp-in-v4-tcp_25', 'm365-grp-in-v6-tcp_25']);
      expect(members(smtp.destination)).toEqual(['192.0.2.25/32', '2001:db8::25/128']);
      const v4 = members(groups.get('m365-grp-in-v4-tcp_25').static).map((m) =>
        text(addr.get(m)['ip-netmask'][0]),
      );
      expect(sameIntervals(intervalsOfCidrs(v4), oracle(FEED, ['10'], 4))).toBe(true);
      // the egress rules keep their own zones; the EDLs of destinations hold no ingress source
      for (const x of rules.filter((x: any) => !x['@name'].startsWith('m365-in-'))) {
        expect(members(x.from)).toEqual(['trust']);
        expect(members(x.to)).toEqual(['untrust']);
      }
      // the EDLs list destinations: an ingress-only run's are empty
      const only = compile(
        fixture(
          '--preset',
          'eop-inbound-smtp',
          '--target',
          'paloalto',
          '--panos-edl-url-base',
          'https://edl.example.net/m365',
        ),
      );
      expect(only.read('edl-ipv4.txt')).toBe('');
      expect(only.read('edl-ipv6.txt')).toBe('');
      const spec = loadSpec('security-policy-rule.yaml');
      for (const k of Object.keys(smtp).filter((k) => !k.startsWith('@')))
        expect(spec.has(k), `rule element ${k}`).toBe(true);
    },
  );
});

describe('turning ingress off removes it from the device', () => {
  it('PAN-OS: the next egress-only run deletes the ingress rule and its groups', () => {
    const r = compile(
      fixture('--preset', 'eop-inbound-smtp', '--direction', 'both', '--target', 'paloalto'),
    );
    const again = compileHere([
      '--out',
      r.out,
      '--no-progress',
      ...fixture('--target', 'paloalto'),
    ]);
    expect(again.code).toBe(0);
    const deletes = r
      .read('panos-set.txt')
      .split('\n')
      .filter((l) => l.startsWith('delete '));
    expect(deletes).toEqual([
      'delete rulebase security rules m365-in-tcp_25',
      'delete address-group m365-grp-in-v4-tcp_25',
      'delete address-group m365-grp-in-v6-tcp_25',
    ]);
  });
});

describe('targets without ingress, and the refusals', () => {
  it('PAC renders egress only: each ingress rule is reported unenforced, an ingress-only PAC is refused as empty', () => {
    const both = compile(
      fixture(
        '--preset',
        'eop-inbound-smtp',
        '--direction',
        'both',
        '--target',
        'pac',
        '--pac-proxy',
        'PROXY 192.0.2.1:8080',
      ),
    );
    const withheld = both.report.findings.filter(
      (f: any) => f.target === 'pac' && f.entry?.startsWith('in_'),
    );
    expect(withheld.map((f: any) => [f.kind, f.entry])).toEqual([
      ['unenforced', 'in_v4_tcp_25'],
      ['unenforced', 'in_v6_tcp_25'],
    ]);
    expect(both.report.targets.pac.enforces.rules.some((k: string) => k.startsWith('in_'))).toBe(
      false,
    );
    const only = run(
      fixture(
        '--preset',
        'eop-inbound-smtp',
        '--target',
        'pac',
        '--pac-proxy',
        'PROXY 192.0.2.1:8080',
      ),
    );
    expect(only.code).toBe(1);
    expect(only.stderr).toMatch(/pac/);
    expect(only.files()).toEqual([]);
  });

  it("a --local of one family drops the other family's ingress rules, reported (never any local address)", () => {
    const r = compile(
      fixture('--preset', 'eop-inbound-smtp', '--local', '192.0.2.25', '--target', 'nftables'),
    );
    expect(r.report.rules.map((x: any) => x.key)).toEqual(['in_v4_tcp_25']);
    expect(r.report.findings).toContainEqual(
      expect.objectContaining({ kind: 'dropped', entry: 'ingress v6', setIds: ['10'] }),
    );
  });

  it('--direction ingress without a preset: the filtered sets with their own ports', () => {
    const r = compile(
      fixture('--direction', 'ingress', '--service-areas', 'Skype', '--target', 'nftables'),
    );
    expect(r.report.rules.map((x: any) => [x.key, x.ports])).toEqual([
      ['in_v4_tcp_443', '443'],
      ['in_v4_udp_3478to3481', '3478-3481'],
    ]);
  });

  it('the policy gives the local side and its ports; the same part in the options too is an error', () => {
    const dir = tmpDir('ingress-policy');
    const pol = join(dir, 'policy.yaml');
    writeFileSync(
      pol,
      'ingress:\n  local: [192.0.2.25/32, "2001:db8::25"]\n  tcpPorts: [443]\n  presets: [exchange-hybrid-inbound]\n  reason: hybrid servers\n',
    );
    const r = compile(fixture('--policy', pol, '--target', 'nftables'));
    expect(r.report.rules.map((x: any) => [x.key, x.local])).toEqual([
      ['in_v4_tcp_443', ['192.0.2.25/32']],
      ['in_v6_tcp_443', ['2001:db8::25/128']],
    ]);
    const clash = run(fixture('--policy', pol, '--local', '192.0.2.26', '--target', 'nftables'));
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/ingress local is given by the options and by the policy/);
    expect(clash.files()).toEqual([]);
    // ports that the preset's set does not have: nothing from it, reported
    writeFileSync(pol, 'ingress:\n  tcpPorts: "587"\n  presets: [eop-inbound-smtp]\n');
    const none = run(fixture('--policy', pol, '--target', 'nftables', '--allow-empty'));
    expect(none.code).toBe(0);
    expect(JSON.parse(none.read('report.json')).findings).toContainEqual(
      expect.objectContaining({ kind: 'dropped', entry: 'ingress', setIds: ['10'] }),
    );
    writeFileSync(pol, 'ingress:\n  local: [192.0.2.25/24]\n');
    const bad = run(fixture('--policy', pol, '--direction', 'ingress', '--target', 'nftables'));
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/policy\.yaml:2:3: ingress\.local\[0\]: .*host bits/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  const noSet10 = join(FIXTURES, 'doc-ranges-feed.json');
  it.each([
    [
      ['--preset', 'eop-inbound-smtp', '--direction', 'egress'],
      /make ingress rules; use --direction ingress or both/,
    ],
    [['--local', '192.0.2.25'], /make ingress rules; use --direction ingress or both/],
    [
      ['--preset', 'no-such-preset'],
      /--preset "no-such-preset": one of eop-inbound-smtp, exchange-hybrid-inbound/,
    ],
    [['--direction', 'sideways'], /--direction "sideways": one of egress, ingress, both/],
    [['--local', '192.0.2.25/24', '--direction', 'ingress'], /--local "192\.0\.2\.25\/24"/],
    [
      ['--preset', 'eop-inbound-smtp', '--nft-hook', 'output'],
      /--nft-hook output carries egress rules and this run has none/,
    ],
    [['--nft-hook', 'input'], /--nft-hook input carries ingress rules and this run has none/],
    [
      ['--preset', 'eop-inbound-smtp', '--direction', 'both', '--nft-hook', 'output'],
      /the ingress rules need input or forward/,
    ],
    [
      ['--nft-hook', 'output,output'],
      /--nft-hook "output,output": hooks from output, input, forward/,
    ],
    [
      ['--preset', 'eop-inbound-smtp', '--target', 'iptables', '--ipt-in-chain', 'M365FW'],
      /--ipt-in-chain and --ipt-chain are both M365FW/,
    ],
    [
      ['--preset', 'eop-inbound-smtp', '--target', 'azure-nsg', '--nsg-deny', 'internet'],
      /--nsg-deny closes the egress rules and this run has none/,
    ],
  ] as [string[], RegExp][])('%j is one error line, nothing written', (args, msg) => {
    const r = run(fixture(...args));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(msg);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.files()).toEqual([]);
  });

  it.each([
    [
      ['--input', noSet10, '--instance', 'Worldwide'],
      /preset eop-inbound-smtp \(instance Worldwide\) names endpoint set 10, which is not in the feed/,
    ],
    [
      ['--input', FEED],
      /the feed's instance is unknown and the preset's set ids differ per instance; pass --instance/,
    ],
    [
      ['--input', FEED, '--instance', 'China'],
      /preset eop-inbound-smtp \(instance China\) names endpoint set 27, which is not in the feed/,
    ],
  ] as [string[], RegExp][])(
    'a preset that does not match the feed is refused: %j',
    (args, msg) => {
      const r = run([
        ...args,
        '--allow-implausible',
        'documentation',
        '--preset',
        'eop-inbound-smtp',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(msg);
      expect(r.files()).toEqual([]);
    },
  );

  it('a set that changed meaning (service area, ports) is refused, never guessed', () => {
    const dir = tmpDir('ingress-meaning');
    const sets = rawSets(FEED);
    const write = (f: string, change: (s: any) => void) => {
      const copy = JSON.parse(JSON.stringify(sets));
      change(copy.find((s: any) => s.id === 10));
      writeFileSync(join(dir, f), JSON.stringify(copy));
      return join(dir, f);
    };
    const eop = (file: string) =>
      run([
        '--input',
        file,
        '--instance',
        'Worldwide',
        '--allow-implausible',
        'documentation',
        '--preset',
        'eop-inbound-smtp',
      ]);
    const area = eop(write('area.json', (s) => (s.serviceArea = 'Skype')));
    expect(area.stderr).toMatch(
      /endpoint set 10 is in service area "Skype", not Exchange; the feed changed meaning/,
    );
    const ports = eop(write('ports.json', (s) => (s.tcpPorts = '587')));
    expect(ports.stderr).toMatch(
      /endpoint set 10 has TCP ports "587", which do not hold 25; the feed changed meaning/,
    );
    for (const r of [area, ports]) {
      expect(r.code).toBe(1);
      expect(r.files()).toEqual([]);
    }
  });

  it('presets in either order, and the same run twice, give byte-identical files', () => {
    const a = compile(
      fixture(
        '--preset',
        'eop-inbound-smtp,exchange-hybrid-inbound',
        '--direction',
        'both',
        '--local',
        LOCAL,
        '--target',
        'all',
        '--pac-proxy',
        'PROXY 192.0.2.1:8080',
        '--panos-edl-url-base',
        'https://edl.example.net/m365',
      ),
    );
    const b = compile(
      fixture(
        '--preset',
        'exchange-hybrid-inbound',
        '--preset',
        'eop-inbound-smtp',
        '--direction',
        'both',
        '--local',
        '2001:db8::25,192.0.2.25',
        '--target',
        'all',
        '--pac-proxy',
        'PROXY 192.0.2.1:8080',
        '--panos-edl-url-base',
        'https://edl.example.net/m365',
      ),
    );
    expect(b.files()).toEqual(a.files());
    for (const f of a.files()) expect(b.read(f), f).toBe(a.read(f));
  });
});

describe('plan', () => {
  it('turning ingress on adds its rules, moving the local side modifies them: exit 2 each, the plan says ingress', () => {
    const prev = compile(fixture('--target', 'nftables'));
    const args = (local: string) => [
      'plan',
      ...fixture(
        '--previous',
        prev.out,
        '--preset',
        'eop-inbound-smtp',
        '--direction',
        'both',
        '--local',
        local,
        '--no-progress',
      ),
    ];
    const on = runCli(args('192.0.2.25'));
    expect(on.code).toBe(2);
    expect(on.stdout).toContain(
      '| `in_v4_tcp_25` (ingress to 192\\.0\\.2\\.25/32, tcp 25) | + | `198.51.100.0/25` |  |',
    );
    const withIngress = compile(
      fixture(
        '--target',
        'nftables',
        '--preset',
        'eop-inbound-smtp',
        '--direction',
        'both',
        '--local',
        '192.0.2.25',
      ),
    );
    const planAgainst = (local: string) =>
      runHere([
        'plan',
        ...fixture(
          '--previous',
          withIngress.out,
          '--preset',
          'eop-inbound-smtp',
          '--direction',
          'both',
          '--local',
          local,
          '--no-progress',
        ),
      ]);
    expect(planAgainst('192.0.2.25').code).toBe(0);
    const moved = planAgainst('192.0.2.26');
    expect(moved.code).toBe(2);
    expect(moved.stdout).toContain(
      '(ingress to 192\\.0\\.2\\.25/32 → 192\\.0\\.2\\.26/32, tcp 25) | ~',
    );
  });
});

describe('m365fw presets', () => {
  it('lists every preset with its sets per instance, ports and documentation (text and JSON)', () => {
    const t = runCli(['presets']);
    expect(t.code).toBe(0);
    for (const p of presets()) {
      expect(t.stdout).toContain(p.name);
      expect(t.stdout).toContain(`TCP ${p.tcpPorts[0].from}`);
      for (const d of p.docs) expect(t.stdout).toContain(d);
    }
    const j = JSON.parse(runCli(['presets', '--json']).stdout);
    expect(j.map((p: any) => [p.name, p.tcpPorts, p.sets.Worldwide])).toEqual([
      ['eop-inbound-smtp', '25', ['10']],
      ['exchange-hybrid-inbound', '443', ['1']],
    ]);
    expect(j[0].sets).toEqual({
      Worldwide: ['10'],
      China: ['27'],
      USGovDoD: ['6'],
      USGovGCCHigh: ['6'],
    });
  });
});
