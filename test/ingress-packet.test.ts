/**
 * Packet proof of ingress rules: the "Microsoft" namespace connects from addresses inside and
 * outside endpoint set 10 of a fixture feed (documentation ranges) to the mail host namespace,
 * which loads the compiled policy on its input hook with a drop policy.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, missing, skipNote } from './helpers/env.js';
import { createLab, type Lab, type Probe, type Topology } from './helpers/netlab.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const why = missing('ip', 'nft', 'ipset', 'iptables-restore', 'ip6tables-restore');
skipNote('ingress packet tests', why);
const FEED = join(FIXTURES, 'ingress-feed.json');

/** client = Microsoft's side (sources inside and outside set 10); server = the mail host */
const TOPOLOGY: Topology = {
  clientV4: [
    '192.0.2.1/24',
    '198.51.100.10/32',
    '198.51.100.127/32',
    '198.51.100.128/32',
    '198.51.100.200/32',
    '203.0.113.5/32',
  ],
  clientV6: ['2001:db8::1/64', '2001:db8:10::10/128', '2001:db8:99::1/128'],
  serverV4: ['192.0.2.25/24', '192.0.2.26/24'],
  serverV6: ['2001:db8::25/64', '2001:db8::26/64'],
  clientRoutes: [],
  serverRoutes: [
    '198.51.100.0/24 via 192.0.2.1',
    '203.0.113.0/24 via 192.0.2.1',
    '2001:db8:10::/48 via 2001:db8::1',
    '2001:db8:99::/48 via 2001:db8::1',
  ],
};

const SMTP = (
  from: string,
  host: string,
  ok: boolean,
  why: string,
  port = 25,
  proto: 'tcp' | 'udp' = 'tcp',
) => ({
  proto,
  host,
  port,
  from,
  ok,
  why,
});
const TABLE: (Probe & { why: string; ok: boolean })[] = [
  SMTP('198.51.100.10', '192.0.2.25', true, 'set 10 source to the mail host on TCP 25'),
  SMTP('198.51.100.127', '192.0.2.25', true, 'last address of the merged set-10 prefix'),
  SMTP('198.51.100.128', '192.0.2.25', false, 'first address past it (another set)'),
  SMTP('198.51.100.200', '192.0.2.25', false, 'a source in no preset set'),
  SMTP('192.0.2.1', '192.0.2.25', false, 'the on-link address: not Microsoft'),
  SMTP('198.51.100.10', '192.0.2.26', false, 'another local host than --local'),
  SMTP('198.51.100.10', '192.0.2.25', false, 'another port', 443),
  SMTP('198.51.100.10', '192.0.2.25', false, 'UDP to the same port', 25, 'udp'),
  SMTP('203.0.113.5', '192.0.2.25', false, 'the hybrid set on TCP 25 (not in this preset)'),
  SMTP('2001:db8:10::10', '2001:db8::25', true, 'IPv6 set 10 source'),
  SMTP('2001:db8:99::1', '2001:db8::25', false, 'IPv6 source in no set'),
  SMTP('2001:db8:10::10', '2001:db8::26', false, 'IPv6 to another local host'),
];
const probes = () => TABLE.map(({ proto, host, port, from }) => ({ proto, host, port, from }));
const expected = () => TABLE.map((t) => `${t.why}: ${t.ok}`);

/**
 * Without --nft-policy drop (and with iptables' apply script as it is) ingress restricts the
 * service, not the host: TCP 25 of the local side only from set 10; every other port, protocol
 * and local address answers as before (SSH from a stranger included).
 */
const SERVICE: (Probe & { why: string; ok: boolean })[] = [
  SMTP('198.51.100.10', '192.0.2.25', true, 'set 10 source to the mail host on TCP 25'),
  SMTP('198.51.100.127', '192.0.2.25', true, 'last address of the merged set-10 prefix'),
  SMTP('198.51.100.128', '192.0.2.25', false, 'first address past it: dropped on TCP 25'),
  SMTP('198.51.100.200', '192.0.2.25', false, 'a stranger on TCP 25: dropped'),
  SMTP('203.0.113.5', '192.0.2.25', false, 'the hybrid set on TCP 25 (not in this preset)'),
  SMTP('198.51.100.200', '192.0.2.25', true, 'the stranger on SSH: still answered', 22),
  SMTP('198.51.100.200', '192.0.2.25', true, 'the stranger on 443: untouched', 443),
  SMTP('198.51.100.200', '192.0.2.25', true, 'the stranger on UDP 25: untouched', 25, 'udp'),
  SMTP('198.51.100.200', '192.0.2.26', true, 'TCP 25 of another local host: untouched'),
  SMTP('2001:db8:10::10', '2001:db8::25', true, 'IPv6 set 10 source'),
  SMTP('2001:db8:99::1', '2001:db8::25', false, 'an IPv6 stranger on TCP 25: dropped'),
  SMTP('2001:db8:99::1', '2001:db8::25', true, 'the IPv6 stranger on SSH: still answered', 22),
];
const serviceProbes = () =>
  SERVICE.map(({ proto, host, port, from }) => ({ proto, host, port, from }));
const serviceExpected = () => SERVICE.map((t) => `${t.why}: ${t.ok}`);

function compile(target: string, extra: string[]): string {
  const out = tmpDir('ingress-pkt');
  const r = compileHere([
    '--input',
    FEED,
    '--instance',
    'Worldwide',
    '--preset',
    'eop-inbound-smtp',
    '--local',
    '192.0.2.25,2001:db8::25',
    '--target',
    target,
    '--out',
    out,
    '--allow-implausible',
    'documentation',
    '--no-progress',
    ...extra,
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

describe.skipIf(!!why)('packet-level proof of ingress rules (eop-inbound-smtp)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab([22, 25, 443], [25], TOPOLOGY);
  }, 30000);
  afterAll(() => lab?.destroy());

  it('without a policy every probe gets through (the lab itself works)', () => {
    expect(lab.probe(probes()).filter((r) => !r.ok)).toEqual([]);
  }, 30000);

  it('nftables --nft-hook input --nft-policy drop lets exactly set 10 reach TCP 25 of the mail host', () => {
    const dir = compile('nftables', ['--nft-hook', 'input', '--nft-policy', 'drop']);
    lab.exec(lab.server, 'ip -6 neigh flush all; ip neigh flush all');
    lab.exec(lab.server, `nft -f ${dir}/m365fw.nft`);
    try {
      const res = lab.probe(probes());
      expect(res.map((r, i) => `${TABLE[i].why}: ${r.ok}`)).toEqual(expected());
    } finally {
      lab.exec(lab.server, 'nft flush ruleset');
    }
  }, 30000);

  it('nftables --nft-hook input without --nft-policy: only TCP 25 of the mail host is restricted; SSH stays', () => {
    const dir = compile('nftables', ['--nft-hook', 'input']);
    lab.exec(lab.server, 'ip -6 neigh flush all; ip neigh flush all');
    lab.exec(lab.server, `nft -f ${dir}/m365fw.nft`);
    try {
      const res = lab.probe(serviceProbes());
      expect(res.map((r, i) => `${SERVICE[i].why}: ${r.ok}`)).toEqual(serviceExpected());
    } finally {
      lab.exec(lab.server, 'nft flush ruleset');
    }
  }, 30000);

  it('iptables through its apply script alone (INPUT policy ACCEPT): the same service restriction', () => {
    const dir = compile('iptables', []);
    lab.exec(lab.server, `sh ${dir}/m365fw-iptables-apply.sh`);
    try {
      const res = lab.probe(serviceProbes());
      expect(res.map((r, i) => `${SERVICE[i].why}: ${r.ok}`)).toEqual(serviceExpected());
    } finally {
      lab.exec(
        lab.server,
        'for t in iptables ip6tables; do $t -F INPUT; $t -F OUTPUT; for c in M365FW M365FW_IN; do $t -F $c; $t -X $c; done; done; ipset destroy',
      );
    }
  }, 30000);

  it.each([
    {
      label: 'iptables + ipset',
      extra: [] as string[],
      sets: ['m365_in_v4_tcp_25', 'm365_in_v6_tcp_25'],
    },
    { label: 'iptables without ipset (a rule per source prefix)', extra: ['--no-ipset'], sets: [] },
  ])(
    '$label through the apply script (INPUT jumps to M365FW_IN) does the same',
    ({ extra, sets }) => {
      const dir = compile('iptables', [...extra, '--ipt-hook', 'none']);
      lab.exec(
        lab.server,
        `for t in iptables ip6tables; do
  $t -A INPUT -i lo -j ACCEPT
  $t -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  $t -P INPUT DROP
done
ip6tables -A INPUT -p icmpv6 -j ACCEPT
sh ${dir}/m365fw-iptables-apply.sh`,
      );
      try {
        const res = lab.probe(probes());
        expect(res.map((r, i) => `${TABLE[i].why}: ${r.ok}`)).toEqual(expected());
        // the sets hold the feed's set-10 prefixes as sources, merged
        expect(lab.exec(lab.server, 'ipset list -n').split('\n').filter(Boolean).sort()).toEqual(
          sets,
        );
        if (sets.length)
          expect(lab.exec(lab.server, 'ipset list m365_in_v4_tcp_25')).toMatch(
            /198\.51\.100\.0\/25/,
          );
        else
          expect(lab.exec(lab.server, 'iptables -S M365FW_IN')).toMatch(
            /-s 198\.51\.100\.0\/25 -d 192\.0\.2\.25\/32/,
          );
      } finally {
        lab.exec(
          lab.server,
          'for t in iptables ip6tables; do $t -P INPUT ACCEPT; $t -F INPUT; for c in M365FW M365FW_IN; do $t -F $c; $t -X $c; done; done; ipset destroy',
        );
      }
    },
    30000,
  );
});
