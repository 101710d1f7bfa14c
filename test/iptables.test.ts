import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, inNetns, missing, sharedFeeds, skipNote } from './helpers/env.js';
import { bucketKey, expectedFromFeed } from './helpers/oracle.js';
import { intervalsOfCidrs, parseIpsetList, parseIptablesSave } from './helpers/ipt.js';
import { sameIntervals } from './helpers/nft.js';
import { IPT_LIMITS, multiportChunks } from '../targets/iptables/index.js';
import { parsePortString } from '../src/net/ports.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const why = missing('ipset', 'iptables-restore', 'ip6tables-restore', 'iptables-save');
skipNote('iptables/ipset real-tool tests', why);
const feeds = [join(FIXTURES, 'sample-feed.json'), ...sharedFeeds()];

function compile(feed: string, extra: string[] = []): string {
  const out = tmpDir('ipt');
  const r = compileHere(['--input', feed, '--target', 'iptables', '--out', out, ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

const LOAD = (d: string) => `ipset restore -f ${d}/m365fw.ipset
iptables-restore --test --noflush ${d}/m365fw.v4
ip6tables-restore --test --noflush ${d}/m365fw.v6
iptables-restore --noflush ${d}/m365fw.v4
ip6tables-restore --noflush ${d}/m365fw.v6`;
const READ = `echo '### v4'; iptables-save -t filter; echo '### v6'; ip6tables-save -t filter; echo '### ipset'; ipset list`;

function loadAndRead(dir: string, times = 1) {
  const text = inNetns(`${Array(times).fill(LOAD(dir)).join('\n')}\n${READ}`);
  const [, v4, v6, ipset] = text.split(/### (?:v4|v6|ipset)\n/);
  return {
    v4: parseIptablesSave(v4, 'M365FW'),
    v6: parseIptablesSave(v6, 'M365FW'),
    sets: parseIpsetList(ipset),
    raw: text,
  };
}

describe.skipIf(!!why)(
  'iptables + ipset output loaded by the real tools in a network namespace',
  () => {
    it.each(feeds.map((f) => [basename(f), f]))(
      '%s: writes three restore files and the apply script; sets and rules read back equal the raw feed',
      (_n, feed) => {
        const dir = compile(feed);
        expect(readdirSync(dir).sort()).toEqual([
          'm365fw-iptables-apply.sh',
          'm365fw.ipset',
          'm365fw.v4',
          'm365fw.v6',
          'report.json',
        ]);
        const { v4, v6, sets } = loadAndRead(dir);
        const expected = expectedFromFeed(feed);
        const rules = [
          ...v4.map((r) => ({ ...r, family: 4 })),
          ...v6.map((r) => ({ ...r, family: 6 })),
        ];
        expect(rules.length).toBe(expected.size); // the snapshots have no port set over 15 slots
        for (const r of rules) {
          expect(r.target).toBe('ACCEPT');
          // the provenance comment survives the kernel whole: within the limit, starting with the set ids
          expect(r.comment).toMatch(/^sets [0-9]/);
          expect(r.comment!.length).toBeLessThanOrEqual(IPT_LIMITS.commentLength);
          const e = expected.get(bucketKey(r.family, r.protocol, r.ports));
          expect(
            e,
            `unexpected rule ${r.family} ${r.protocol} ${JSON.stringify(r.ports)}`,
          ).toBeDefined();
          const set = sets.get(r.set!)!;
          expect(set.family).toBe(r.family === 4 ? 'inet' : 'inet6');
          expect(set.maxelem).toBe(IPT_LIMITS.maxelem);
          expect(sameIntervals(intervalsOfCidrs(set.members), e!.intervals)).toBe(true);
        }
        expect([...sets.keys()].some((n) => n.endsWith('-tmp'))).toBe(false);
        for (const n of sets.keys())
          expect(n.length + '-tmp'.length).toBeLessThanOrEqual(IPT_LIMITS.ipsetNameLength);
      },
    );

    it('a list that grows past 65536 entries and shrinks again reloads in place, the rules using the set all along', () => {
      // non-adjacent /128s in the documentation range: nothing merges, so entries = lines
      const list = (n: number) =>
        Array.from(
          { length: n },
          (_, i) =>
            `2001:db8::${((2 * i) >>> 16).toString(16)}:${((2 * i) & 0xffff).toString(16)}/128`,
        ).join('\n') + '\n';
      const dirs = [100, 70_000].map((n) => {
        const tmp = tmpDir('grow');
        writeFileSync(join(tmp, 'list.txt'), list(n));
        const out = join(tmp, 'out');
        expect(
          compileHere([
            '--input',
            join(tmp, 'list.txt'),
            '--input-format',
            'prefixes',
            '--target',
            'iptables',
            '--tcp-ports',
            '443',
            '--out',
            out,
          ]).code,
        ).toBe(0);
        return out;
      });
      const [small, big] = dirs;
      const load = (d: string) =>
        `ipset restore -f ${d}/m365fw.ipset\nip6tables-restore --noflush ${d}/m365fw.v6\nipset list m365_v6_tcp_443 | grep -c '^2001:db8::'`;
      const out = inNetns(`${load(small)}\n${load(big)}\n${load(small)}\n${READ}`);
      // members after each load: 100, 70000, 100; the rule references the same set throughout
      expect(out.split('\n').slice(0, 3).map(Number)).toEqual([100, 70_000, 100]);
      const [, , v6, ipset] = out.split(/### (?:v4|v6|ipset)\n/);
      expect(parseIptablesSave(v6, 'M365FW').map((r) => r.set)).toEqual(['m365_v6_tcp_443']);
      expect(parseIpsetList(ipset).get('m365_v6_tcp_443')!.members.length).toBe(100);
    }, 120000);

    it('applying twice leaves the same state (sets swapped, chain flushed, no duplicate rule)', () => {
      const dir = compile(feeds[0]);
      const state = (x: ReturnType<typeof loadAndRead>) => ({
        v4: x.v4,
        v6: x.v6,
        sets: [...x.sets.entries()]
          .map(([n, s]) => [n, s.family, s.maxelem, [...s.members].sort()])
          .sort(),
      });
      const once = state(loadAndRead(dir, 1));
      expect(once.v4.length).toBeGreaterThan(0);
      expect(state(loadAndRead(dir, 2))).toEqual(once);
    });

    it('a /0 goes into hash:net as two /1 halves, and more than 15 port slots are split into several rules', () => {
      const feed = join(FIXTURES, 'edge-feed.json');
      const dir = compile(feed, ['--allow-implausible', 'all']);
      const { v4, v6, sets } = loadAndRead(dir);
      expect(sets.get('m365_v4_tcp_443')!.members.sort()).toEqual(['0.0.0.0/1', '128.0.0.0/1']);
      expect(sets.get('m365_v6_tcp_443')!.members.sort()).toEqual(['8000::/1', '::/1']);
      const tcp = parsePortString('1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,1000-2000,3000-4000');
      const chunks = multiportChunks(tcp);
      expect(chunks.length).toBe(2); // 16 single ports + 2 ranges = 20 slots
      const split = v4.filter((r) => r.set?.startsWith('m365_v4_tcp_h'));
      expect(split.length).toBe(2);
      for (const r of split)
        expect(r.ports.reduce((n, p) => n + (p[0] === p[1] ? 1 : 2), 0)).toBeLessThanOrEqual(15);
      expect(split.flatMap((r) => r.ports)).toEqual(tcp.map((p) => [p.from, p.to]));
      expect(v6.some((r) => r.set === 'm365_v6_tcp_443')).toBe(true);
      const rep = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
      expect(rep.findings.filter((f: any) => f.kind === 'split').length).toBeGreaterThanOrEqual(3);
    });

    it('--no-ipset writes one rule per prefix, loadable without ipset', () => {
      const dir = compile(feeds[0], ['--no-ipset']);
      expect(readdirSync(dir).sort()).toEqual([
        'm365fw-iptables-apply.sh',
        'm365fw.v4',
        'm365fw.v6',
        'report.json',
      ]);
      const text = inNetns(
        `iptables-restore --noflush ${dir}/m365fw.v4\nip6tables-restore --noflush ${dir}/m365fw.v6\niptables-save -t filter; echo '### v6'; ip6tables-save -t filter`,
      );
      const [v4text, v6text] = text.split('### v6');
      const rules = [
        ...parseIptablesSave(v4text, 'M365FW').map((r) => ({ ...r, family: 4 })),
        ...parseIptablesSave(v6text, 'M365FW').map((r) => ({ ...r, family: 6 })),
      ];
      const expected = expectedFromFeed(feeds[0]);
      const got = new Map<string, string[]>();
      for (const r of rules) {
        const k = bucketKey(r.family, r.protocol, r.ports);
        got.set(k, [...(got.get(k) ?? []), r.dest!]);
      }
      expect(got.size).toBe(expected.size);
      for (const [k, e] of expected)
        expect(sameIntervals(intervalsOfCidrs(got.get(k)!), e.intervals)).toBe(true);
    });
  },
);
