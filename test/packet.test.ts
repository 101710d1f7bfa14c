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
});
