/**
 * The nftables target in-process, line by line: the whole file of a run with both directions and
 * two hooks, the include mode, the forward hook, every --nft-* refusal word for word (table names
 * at 64 and 65 characters, keywords and other managers' tables in any case, hooks), and the
 * checks of hooks against the run's directions. (nftables.test.ts loads the files into nft.)
 */
import { describe, expect, it } from 'vitest';
import { refusal } from './helpers/refusal.js';
import { compile, readFeed, type RuleModel } from '../src/index.js';
import { nftables, nftOptions, nftRuleLine, RESERVED_TABLES } from '../targets/nftables/index.js';

const FEED = [
  {
    id: 1,
    serviceArea: 'Exchange',
    category: 'Optimize',
    required: true,
    tcpPorts: '443,80',
    ips: ['198.51.100.0/25', '203.0.113.0/24', '2001:db8:1::/48'],
  },
  {
    id: 2,
    serviceArea: 'Skype',
    category: 'Allow',
    required: true,
    udpPorts: '3478-3481',
    ips: ['192.0.2.0/26'],
  },
];
const model = (o: Parameters<typeof compile>[1] = {}): RuleModel =>
  compile(readFeed(FEED, { name: 'nft.json' }), { allowImplausible: ['all'], ...o });
const BOTH: Parameters<typeof compile>[1] = {
  direction: 'both',
  ingress: { local: ['192.0.2.25/32', '192.0.2.26/32'] },
};
const parse = (raw: Record<string, unknown>) => nftables.parseOptions(raw);
const text = (m: RuleModel, raw: Record<string, unknown> = {}): string => {
  const body = nftables.render(m, parse(raw), { provenance: [] }).files[0].body as Uint8Array[];
  return Buffer.concat(body.map((b) => Buffer.from(b))).toString('utf8');
};

describe('the nft file', () => {
  it('table mode, both directions, output and input hooks, policy accept, a table name', () => {
    expect(
      text(model(BOTH), { nftHook: 'output,input', nftPolicy: 'accept', nftTable: 'corp' }).split(
        '\n',
      ),
    ).toEqual([
      'table inet corp',
      'delete table inet corp',
      'table inet corp {',
      '\tset m365_v4_tcp_80_443 {',
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      '\t\telements = {',
      '\t\t\t198.51.100.0/25,',
      '\t\t\t203.0.113.0/24',
      '\t\t}',
      '\t}',
      '',
      '\tset m365_v4_udp_3478to3481 {',
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      '\t\telements = {',
      '\t\t\t192.0.2.0/26',
      '\t\t}',
      '\t}',
      '',
      '\tset m365_v6_tcp_80_443 {',
      '\t\ttype ipv6_addr',
      '\t\tflags interval',
      '\t\telements = {',
      '\t\t\t2001:db8:1::/48',
      '\t\t}',
      '\t}',
      '',
      '\tset m365_in_v4_tcp_80_443 {',
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      '\t\telements = {',
      '\t\t\t198.51.100.0/25,',
      '\t\t\t203.0.113.0/24',
      '\t\t}',
      '\t}',
      '',
      '\tset m365_in_v4_udp_3478to3481 {',
      '\t\ttype ipv4_addr',
      '\t\tflags interval',
      '\t\telements = {',
      '\t\t\t192.0.2.0/26',
      '\t\t}',
      '\t}',
      '',
      '\tchain m365_allow {',
      '\t\tip daddr @m365_v4_tcp_80_443 tcp dport { 80, 443 } accept comment "sets 1 Exchange Optimize required"',
      '\t\tip daddr @m365_v4_udp_3478to3481 udp dport 3478-3481 accept comment "sets 2 Skype Allow required"',
      '\t\tip6 daddr @m365_v6_tcp_80_443 tcp dport { 80, 443 } accept comment "sets 1 Exchange Optimize required"',
      '\t}',
      '',
      '\tchain m365_allow_in {',
      '\t\tip saddr @m365_in_v4_tcp_80_443 ip daddr { 192.0.2.25/32, 192.0.2.26/32 } tcp dport { 80, 443 } accept comment "sets 1 Exchange Optimize required"',
      '\t\tip saddr @m365_in_v4_udp_3478to3481 ip daddr { 192.0.2.25/32, 192.0.2.26/32 } udp dport 3478-3481 accept comment "sets 2 Skype Allow required"',
      '\t}',
      '',
      '\tchain output {',
      '\t\ttype filter hook output priority filter; policy accept;',
      '\t\tct state established,related accept',
      '\t\toifname "lo" accept',
      '\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept',
      '\t\tjump m365_allow',
      '\t}',
      '',
      '\tchain input {',
      '\t\ttype filter hook input priority filter; policy accept;',
      '\t\tct state established,related accept',
      '\t\tiifname "lo" accept',
      '\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept',
      '\t\tjump m365_allow_in',
      // policy accept: the ingress ports are closed to everyone else, nothing more
      '\t\tip daddr { 192.0.2.25/32, 192.0.2.26/32 } tcp dport { 80, 443 } drop comment "ingress: others on these ports"',
      '\t\tip daddr { 192.0.2.25/32, 192.0.2.26/32 } udp dport 3478-3481 drop comment "ingress: others on these ports"',
      '\t}',
      '}',
      '',
    ]);
  });

  it('include mode: the same sets and chains without the table, at the top level', () => {
    const t = text(model(BOTH), { nftMode: 'include' });
    expect(t.split('\n').slice(0, 3)).toEqual([
      '# include this file inside your own table: table inet filter { include "m365fw.nft" ... }',
      'set m365_v4_tcp_80_443 {',
      '\ttype ipv4_addr',
    ]);
    expect(t).not.toMatch(/^(delete )?table inet/m);
    expect(t).not.toContain('hook');
    expect(t).toContain(
      '\nchain m365_allow {\n\tip daddr @m365_v4_tcp_80_443 tcp dport { 80, 443 } accept',
    );
    expect(
      t.endsWith(
        '}\n\nchain m365_allow_in {\n' +
          '\tip saddr @m365_in_v4_tcp_80_443 ip daddr { 192.0.2.25/32, 192.0.2.26/32 } tcp dport { 80, 443 } accept comment "sets 1 Exchange Optimize required"\n' +
          '\tip saddr @m365_in_v4_udp_3478to3481 ip daddr { 192.0.2.25/32, 192.0.2.26/32 } udp dport 3478-3481 accept comment "sets 2 Skype Allow required"\n}\n',
      ),
    ).toBe(true);
  });

  it('egress only: the default table, no ingress chain, no base chain without --nft-hook', () => {
    const t = text(model());
    expect(t.split('\n').slice(0, 3)).toEqual([
      'table inet m365fw',
      'delete table inet m365fw',
      'table inet m365fw {',
    ]);
    expect(t).not.toContain('m365_allow_in');
    expect(t).not.toContain('type filter hook');
    expect(t.endsWith('\t}\n}\n')).toBe(true);
  });

  it('the forward hook jumps to both chains and lets no loopback or ND through; accept unless drop is asked', () => {
    const t = text(model(BOTH), { nftHook: 'forward' });
    expect(t).toContain(
      [
        '\tchain forward {',
        '\t\ttype filter hook forward priority filter; policy accept;',
        '\t\tct state established,related accept',
        '\t\tjump m365_allow',
        '\t\tjump m365_allow_in',
        '\t\tip daddr { 192.0.2.25/32, 192.0.2.26/32 } tcp dport { 80, 443 } drop comment "ingress: others on these ports"',
        '\t\tip daddr { 192.0.2.25/32, 192.0.2.26/32 } udp dport 3478-3481 drop comment "ingress: others on these ports"',
        '\t}',
      ].join('\n'),
    );
    expect(t).not.toContain('ifname "lo"');
    // --nft-policy drop: the policy closes everything else, so no service drops are needed
    const drop = text(model(BOTH), { nftHook: 'forward', nftPolicy: 'drop' });
    expect(drop).toContain(
      [
        '\t\ttype filter hook forward priority filter; policy drop;',
        '\t\tct state established,related accept',
        '\t\tct state invalid drop',
        '\t\tjump m365_allow',
        '\t\tjump m365_allow_in',
        '\t}',
      ].join('\n'),
    );
    const egress = text(model(), { nftHook: 'forward', nftPolicy: 'drop' });
    expect(egress).toContain('\t\tct state invalid drop\n\t\tjump m365_allow\n\t}');
    expect(egress).not.toContain('jump m365_allow_in');
    // hooks are written in one order whatever the order given
    const order = (h: string) =>
      [...text(model(BOTH), { nftHook: h }).matchAll(/chain (output|input|forward) \{/g)].map(
        (x) => x[1],
      );
    expect(order('forward,input,output')).toEqual(['output', 'input', 'forward']);
  });

  it('--allow-also: accepted in the egress hook chains before the jump, never on input', () => {
    const t = text(model(BOTH), {
      nftHook: 'output,input',
      nftPolicy: 'drop',
      allowAlso: '192.0.2.53:53/udp,[2001:db8::53]:53/tcp,198.51.100.0/24',
    });
    const out = t.slice(t.indexOf('chain output'), t.indexOf('chain input'));
    expect(out).toContain(
      [
        '\t\tip daddr 192.0.2.53/32 udp dport 53 accept comment "allow-also"',
        '\t\tip6 daddr 2001:db8::53/128 tcp dport 53 accept comment "allow-also"',
        '\t\tip daddr 198.51.100.0/24 accept comment "allow-also"',
        '\t\tjump m365_allow',
      ].join('\n'),
    );
    expect(t.slice(t.indexOf('chain input'))).not.toContain('allow-also');
    expect(refusal(() => text(model(), { allowAlso: '192.0.2.53:53/udp' }))).toBe(
      'nftables: --allow-also goes in the egress hook chains: it needs --nft-hook output or forward',
    );
  });

  it.each([
    ['192.0.2.53:53', 'ADDRESS[/LEN][:PORT/tcp|udp]'],
    ['192.0.2.53:0/udp', 'port 0 is not 1-65535'],
    ['192.0.2.53:65536/udp', 'port 65536 is not 1-65535'],
    ['192.0.2.53:053/udp', 'port 053 is not 1-65535'],
    ['2001:db8::53:53/udp', 'ADDRESS[/LEN][:PORT/tcp|udp]'],
    ['0.0.0.0/0', 'every address is not a flow a host needs'],
    ['::/0:443/tcp', 'ADDRESS[/LEN][:PORT/tcp|udp]'],
    ['192.0.2.1/24', 'host bits'],
    ['', 'ADDRESS[/LEN][:PORT/tcp|udp]'],
  ])('--allow-also %j is refused (%s)', (v, why) => {
    expect(refusal(() => parse({ allowAlso: v }))).toContain(why);
  });

  it('rule lines: one port bare, several in braces, ingress to any address without local prefixes', () => {
    const [v4] = model().rules;
    expect(nftRuleLine(v4)).toBe(
      'ip daddr @m365_v4_tcp_80_443 tcp dport { 80, 443 } accept comment "sets 1 Exchange Optimize required"',
    );
    const one = compile(readFeed([{ ...FEED[0], tcpPorts: '443' }], { name: 'x.json' }), {
      allowImplausible: ['all'],
      direction: 'ingress',
    });
    expect(one.rules.map(nftRuleLine)).toEqual([
      'ip saddr @m365_in_v4_tcp_443 tcp dport 443 accept comment "sets 1 Exchange Optimize required"',
      'ip6 saddr @m365_in_v6_tcp_443 tcp dport 443 accept comment "sets 1 Exchange Optimize required"',
    ]);
  });
});

describe('options', () => {
  it('--nft-table: letters, digits and "_", a letter first, at most 64', () => {
    for (const ok of ['corp', 'M365', 'a_1', `a${'b'.repeat(63)}`, 'filters', 'm365fw'])
      expect(
        refusal(() => parse({ nftTable: ok })),
        ok,
      ).toBe('accepted');
    for (const bad of [`a${'b'.repeat(64)}`, '1corp', '_corp', 'co-rp', 'co rp', '', 'corp\n'])
      expect(
        refusal(() => parse({ nftTable: bad })),
        bad,
      ).toBe(
        `--nft-table ${JSON.stringify(bad)}: use letters, digits and "_", at most 64 characters`,
      );
  });

  it('--nft-table: no nft keyword and no table another manager owns, in any case', () => {
    const why =
      'an nft keyword or a table other software owns; m365fw deletes and recreates its table on every load, so it needs one of its own (default m365fw)';
    for (const t of [
      'filter',
      'FILTER',
      'Nat',
      'firewalld',
      'docker',
      'table',
      'inet',
      'output',
      'libvirt',
    ])
      expect(
        refusal(() => parse({ nftTable: t })),
        t,
      ).toBe(`--nft-table ${JSON.stringify(t)}: ${why}`);
    for (const t of RESERVED_TABLES.filter((x) => /^[a-z][a-z0-9_]*$/.test(x)))
      expect(
        refusal(() => parse({ nftTable: t })),
        t,
      ).toBe(`--nft-table ${JSON.stringify(t)}: ${why}`);
  });

  it('--nft-hook: known hooks, each once; --nft-policy and --nft-mode from their choices', () => {
    const why = 'hooks from output, input, forward, comma-separated, each once';
    for (const bad of ['prerouting', 'output,output', 'output,', 'Output', '', 'output input'])
      expect(
        refusal(() => parse({ nftHook: bad })),
        bad,
      ).toBe(`--nft-hook ${JSON.stringify(bad)}: ${why}`);
    expect(parse({})).toEqual({
      table: 'm365fw',
      hook: undefined,
      policy: undefined,
      allowAlso: undefined,
      mode: 'table',
    });
    expect(refusal(() => parse({ nftPolicy: 'reject' }))).toBe(
      '--nft-policy "reject": one of accept, drop',
    );
    expect(refusal(() => parse({ nftMode: 'inline' }))).toBe(
      '--nft-mode "inline": one of table, include',
    );
  });

  it('hooks against the run: each hook must carry rules, each direction a hook', () => {
    const egress = model().rules,
      both = model(BOTH).rules,
      ingress = model({ direction: 'ingress' }).rules;
    const o = (hook: string, mode = 'table') => parse({ nftHook: hook, nftMode: mode }) as never;
    expect(nftOptions(o('output'), egress).hooks).toEqual(['output']);
    expect(nftOptions(o('forward,output,input'), both).hooks).toEqual([
      'output',
      'input',
      'forward',
    ]);
    expect(nftOptions(o('input'), ingress).hooks).toEqual(['input']);
    expect(nftOptions(o('forward'), ingress).hooks).toEqual(['forward']);
    expect(nftOptions(parse({}) as never, egress)).toEqual({
      table: 'm365fw',
      hooks: [],
      policy: 'accept',
      mode: 'table',
      allowAlso: [],
    });
    expect(refusal(() => nftOptions(o('output', 'include'), egress))).toBe(
      'nftables: --nft-hook needs the table mode: in include mode your own table holds the base chain',
    );
    expect(refusal(() => nftOptions(o('input'), egress))).toBe(
      'nftables: --nft-hook input carries ingress rules and this run has none; drop it or compile --direction ingress (or both)',
    );
    expect(refusal(() => nftOptions(o('output'), ingress))).toBe(
      'nftables: --nft-hook output carries egress rules and this run has none; drop it or compile --direction egress (or both)',
    );
    expect(refusal(() => nftOptions(o('output'), both))).toBe(
      'nftables: --nft-hook: the ingress rules need input or forward',
    );
    expect(refusal(() => nftOptions(o('input'), both))).toBe(
      'nftables: --nft-hook: the egress rules need output or forward',
    );
    expect(refusal(() => nftOptions(o('output,input'), both))).toBe('accepted');
    // include mode without hooks is fine
    expect(nftOptions(parse({ nftMode: 'include' }) as never, egress).mode).toBe('include');
  });
});
