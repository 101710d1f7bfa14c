import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, missing, skipNote } from './helpers/env.js';
import { createLab, type Lab, type Probe } from './helpers/netlab.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const why = missing('ip', 'nft', 'ipset', 'iptables-restore', 'ip6tables-restore');
skipNote('packet-level tests', why);
const FEED = join(FIXTURES, 'doc-ranges-feed.json');

/** What the compiled policy must allow (true) and refuse (false), across families and protocols. */
const TABLE: (Probe & { why: string; ok: boolean })[] = [
  { proto: 'tcp', host: '198.51.100.10', port: 443, ok: true, why: 'allowed prefix and port' },
  { proto: 'tcp', host: '198.51.100.10', port: 80, ok: true, why: 'second port of the set' },
  {
    proto: 'tcp',
    host: '198.51.100.191',
    port: 443,
    ok: true,
    why: 'last address of the merged prefix',
  },
  {
    proto: 'tcp',
    host: '198.51.100.192',
    port: 443,
    ok: false,
    why: 'first address just outside the merged prefix',
  },
  { proto: 'tcp', host: '198.51.100.10', port: 8080, ok: false, why: 'wrong port' },
  {
    proto: 'udp',
    host: '198.51.100.10',
    port: 443,
    ok: false,
    why: 'TCP ports never apply to UDP',
  },
  { proto: 'udp', host: '203.0.113.5', port: 3478, ok: true, why: 'first port of the UDP range' },
  { proto: 'udp', host: '203.0.113.5', port: 3481, ok: true, why: 'last port of the UDP range' },
  { proto: 'udp', host: '203.0.113.5', port: 3482, ok: false, why: 'one past the UDP range' },
  { proto: 'tcp', host: '203.0.113.5', port: 3478, ok: false, why: 'wrong protocol for the range' },
  { proto: 'tcp', host: '2001:db8:1::10', port: 443, ok: true, why: 'IPv6 allowed prefix' },
  { proto: 'tcp', host: '2001:db8:2::10', port: 443, ok: false, why: 'IPv6 outside every prefix' },
  { proto: 'udp', host: '2001:db8:3::5', port: 3480, ok: true, why: 'IPv6 UDP range' },
  {
    proto: 'tcp',
    host: '192.0.2.2',
    port: 443,
    ok: false,
    why: 'on-link server address not in the feed',
  },
];

function compile(target: string, extra: string[]): string {
  const out = tmpDir('pkt');
  const r = compileHere([
    '--input',
    FEED,
    '--target',
    target,
    '--out',
    out,
    '--allow-implausible',
    'documentation',
    ...extra,
  ]);
  expect(r.stderr).toBe('');
  return out;
}

describe.skipIf(!!why)('packet-level proof: connections through the compiled policy', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab([80, 443, 8080, 3478], [443, 3478, 3480, 3481, 3482]);
  }, 30000);
  afterAll(() => lab?.destroy());

  it('without a policy every probe gets through (the lab itself works)', () => {
    const res = lab.probe(TABLE.map(({ proto, host, port }) => ({ proto, host, port })));
    expect(res.filter((r) => !r.ok)).toEqual([]);
  }, 30000);

  it('nftables with --nft-hook output --nft-policy drop allows exactly the feed', () => {
    const dir = compile('nftables', ['--nft-hook', 'output', '--nft-policy', 'drop']);
    // a cold neighbour cache: the policy itself must let IPv6 neighbour discovery through
    lab.exec(lab.client, 'ip -6 neigh flush all; ip neigh flush all');
    lab.exec(lab.client, `nft -f ${dir}/m365fw.nft`);
    try {
      const res = lab.probe(TABLE.map(({ proto, host, port }) => ({ proto, host, port })));
      expect(res.map((r, i) => `${TABLE[i].why}: ${r.ok}`)).toEqual(
        TABLE.map((t) => `${t.why}: ${t.ok}`),
      );
    } finally {
      lab.exec(lab.client, 'nft flush ruleset');
    }
  }, 30000);

  it('iptables + ipset with a default-drop OUTPUT jumping to the chain allows exactly the feed', () => {
    const dir = compile('iptables', []);
    lab.exec(
      lab.client,
      `ipset restore -f ${dir}/m365fw.ipset
iptables-restore --noflush ${dir}/m365fw.v4
ip6tables-restore --noflush ${dir}/m365fw.v6
for t in iptables ip6tables; do
  $t -A OUTPUT -o lo -j ACCEPT
  $t -A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  $t -A OUTPUT -j M365FW
  $t -P OUTPUT DROP
done
ip6tables -I OUTPUT -p icmpv6 -j ACCEPT`,
    );
    try {
      const res = lab.probe(TABLE.map(({ proto, host, port }) => ({ proto, host, port })));
      expect(res.map((r, i) => `${TABLE[i].why}: ${r.ok}`)).toEqual(
        TABLE.map((t) => `${t.why}: ${t.ok}`),
      );
    } finally {
      lab.exec(
        lab.client,
        'for t in iptables ip6tables; do $t -P OUTPUT ACCEPT; $t -F OUTPUT; $t -F M365FW; $t -X M365FW; done; ipset destroy',
      );
    }
  }, 30000);

  /**
   * A default deny on the host itself keeps the host alive: loopback, established flows, neighbour
   * discovery (a cold cache) and multicast listener discovery pass, and the --allow-also flows;
   * anything else is dropped. MLD is observed on the server's side of the link by a netdev counter
   * (reports the client sends when it takes a new address and joins its solicited-node group).
   */
  const ALSO = [
    ...TABLE,
    {
      proto: 'tcp' as const,
      host: '192.0.2.2',
      port: 443,
      ok: true,
      why: '--allow-also 192.0.2.2:443/tcp',
    },
    {
      proto: 'tcp' as const,
      host: '192.0.2.2',
      port: 80,
      ok: false,
      why: 'the same host on another port',
    },
    {
      proto: 'tcp' as const,
      host: '198.51.100.192',
      port: 8080,
      ok: false,
      why: 'an unrelated destination',
    },
  ].filter((t) => !(t.host === '192.0.2.2' && t.port === 443 && !t.ok));
  const alsoProbes = () => ALSO.map(({ proto, host, port }) => ({ proto, host, port }));
  const mldSeen = (load: string, unload: string): number => {
    const id = lab.client.slice('m365c'.length);
    lab.exec(
      lab.server,
      `nft add table netdev obs
nft add chain netdev obs c "{ type filter hook ingress device vs${id} priority 0; }"
nft add rule netdev obs c icmpv6 type mld2-listener-report counter`,
    );
    try {
      lab.exec(lab.client, load);
      lab.exec(lab.client, `ip -6 addr add 2001:db8::77/64 dev vc${id} nodad; sleep 2`);
      const n = /counter packets ([0-9]+)/.exec(lab.exec(lab.server, 'nft list table netdev obs'));
      return Number(n?.[1] ?? -1);
    } finally {
      lab.exec(lab.client, `ip -6 addr del 2001:db8::77/64 dev vc${id} || true`);
      lab.exec(lab.client, unload);
      lab.exec(lab.server, 'nft delete table netdev obs');
    }
  };

  it('nftables --nft-policy drop with --allow-also: exactly the feed and the extra flow; NDP and MLD pass', () => {
    const dir = compile('nftables', [
      '--nft-hook',
      'output',
      '--nft-policy',
      'drop',
      '--allow-also',
      '192.0.2.2:443/tcp',
    ]);
    lab.exec(lab.client, 'ip -6 neigh flush all; ip neigh flush all');
    lab.exec(lab.client, `nft -f ${dir}/m365fw.nft`);
    try {
      const res = lab.probe(alsoProbes());
      expect(res.map((r, i) => `${ALSO[i].why}: ${r.ok}`)).toEqual(
        ALSO.map((t) => `${t.why}: ${t.ok}`),
      );
    } finally {
      lab.exec(lab.client, 'nft flush ruleset');
    }
    expect(mldSeen(`nft -f ${dir}/m365fw.nft`, 'nft flush ruleset')).toBeGreaterThan(0);
  }, 30000);

  it('iptables --ipt-final drop through the apply script alone: the same, NDP and MLD pass', () => {
    const dir = compile('iptables', ['--ipt-final', 'drop', '--allow-also', '192.0.2.2:443/tcp']);
    const unload =
      'for t in iptables ip6tables; do $t -F OUTPUT; $t -F M365FW; $t -X M365FW; $t -F M365FW_IN; $t -X M365FW_IN; done; ipset destroy';
    lab.exec(lab.client, 'ip -6 neigh flush all; ip neigh flush all');
    lab.exec(lab.client, `sh ${dir}/m365fw-iptables-apply.sh`);
    try {
      const res = lab.probe(alsoProbes());
      expect(res.map((r, i) => `${ALSO[i].why}: ${r.ok}`)).toEqual(
        ALSO.map((t) => `${t.why}: ${t.ok}`),
      );
    } finally {
      lab.exec(lab.client, unload);
    }
    expect(mldSeen(`sh ${dir}/m365fw-iptables-apply.sh >/dev/null`, unload)).toBeGreaterThan(0);
  }, 30000);
});
