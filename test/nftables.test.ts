import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cidr from 'cidr-tools';
import { describe, expect, it } from 'vitest';
import { FIXTURES, inNetns, missing, NO_SHARED, sharedFeeds, skipNote } from './helpers/env.js';
import { bucketKey, expectedFromFeed } from './helpers/oracle.js';
import { parseNftJson, sameIntervals } from './helpers/nft.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const why = missing('nft');
skipNote('nftables real-tool tests', why);
const feeds = [join(FIXTURES, 'sample-feed.json'), ...sharedFeeds()];
if (feeds.length === 1) console.warn(`SKIP shared snapshots: ${NO_SHARED}`);

function compile(feed: string, extra: string[] = []): string {
  const out = tmpDir('nft');
  const r = compileHere(['--input', feed, '--target', 'nftables', '--out', out, ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

describe.skipIf(!!why)('nftables output loaded by nft in a network namespace', () => {
  it.each([
    ...feeds.map((f) => [basename(f), f, []]),
    ['edge-feed.json', join(FIXTURES, 'edge-feed.json'), ['--allow-implausible', 'all']],
  ] as [string, string, string[]][])(
    '%s: every bucket of the raw feed is loaded exactly, nothing more',
    (_name, feed, extra) => {
      const out = compile(feed, extra);
      const file = join(out, 'm365fw.nft');
      const listed = inNetns(`nft -f ${file}\nnft -j list ruleset`);
      const { sets, rules } = parseNftJson(listed);
      const expected = expectedFromFeed(feed);
      const allow = rules.filter((r) => r.chain === 'm365_allow');
      expect(allow.length).toBe(expected.size);
      for (const r of allow) {
        expect(r.verdict).toBe('accept');
        const e = expected.get(bucketKey(r.family, r.protocol, r.ports));
        expect(
          e,
          `unexpected rule ${r.family} ${r.protocol} ${JSON.stringify(r.ports)}`,
        ).toBeDefined();
        const set = sets.get(r.set)!;
        expect(set.type).toBe(r.family === 4 ? 'ipv4_addr' : 'ipv6_addr');
        expect(sameIntervals(set.intervals, e!.intervals)).toBe(true);
        // minimal cover: as few elements as cidr-tools' merge of the same addresses
        const minimal = cidr.mergeCidr(set.elements).length;
        expect(set.elements.length).toBe(minimal);
        expect(Buffer.byteLength(r.comment ?? '')).toBeLessThanOrEqual(127);
      }
      // the model in report.json says the same
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.rules.length).toBe(expected.size);
      for (const rr of report.rules) {
        const set = sets.get(`m365_${rr.key}`)!;
        expect(set.elements).toEqual(
          rr.prefixes.map((p: string) =>
            p.endsWith('/32') || p.endsWith('/128') ? p.replace(/\/(32|128)$/, '') : p,
          ),
        );
      }
    },
  );

  it('reloading the same file is idempotent (atomic replace, no duplicates)', () => {
    const file = join(compile(feeds[0]), 'm365fw.nft');
    const once = inNetns(`nft -f ${file}\nnft list ruleset`);
    const twice = inNetns(`nft -f ${file}\nnft -f ${file}\nnft list ruleset`);
    expect(twice).toBe(once);
  });

  it('--nft-hook output adds a base chain that jumps to the rules: accept unless --nft-policy drop', () => {
    const plain = join(
      compile(feeds[0], ['--nft-hook', 'output', '--nft-table', 'egress']),
      'm365fw.nft',
    );
    const open = parseNftJson(inNetns(`nft -f ${plain}\nnft -j list ruleset`));
    expect(open.chains.find((c) => c.name === 'output')).toMatchObject({ policy: 'accept' });
    const file = join(
      compile(feeds[0], ['--nft-hook', 'output', '--nft-table', 'egress', '--nft-policy', 'drop']),
      'm365fw.nft',
    );
    const { chains, rules } = parseNftJson(inNetns(`nft -f ${file}\nnft -j list ruleset`));
    const base = chains.find((c) => c.name === 'output');
    expect(base).toMatchObject({ table: 'egress', hook: 'output', policy: 'drop', type: 'filter' });
    expect(rules.filter((r) => r.chain === 'output').map((r) => r.verdict)).toEqual([
      'accept',
      'drop',
      'accept',
      'accept',
      'jump m365_allow',
    ]);
  });

  it("--nft-mode include loads inside the admin's own table", () => {
    const dir = compile(feeds[0], ['--nft-mode', 'include']);
    const text = readFileSync(join(dir, 'm365fw.nft'), 'utf8');
    expect(text).not.toMatch(/^table /m);
    const main = join(dir, 'main.nft');
    writeFileSync(
      main,
      `table inet filter {\n\tinclude "${join(dir, 'm365fw.nft')}"\n\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n\t\tjump m365_allow\n\t}\n}\n`,
    );
    const { sets, rules } = parseNftJson(inNetns(`nft -f ${main}\nnft -j list ruleset`));
    expect(sets.size).toBeGreaterThan(0);
    expect(rules.some((r) => r.chain === 'output' && r.verdict === 'jump m365_allow')).toBe(true);
  });

  it('a hostile note cannot reach the file: comments carry only provenance', () => {
    const text = readFileSync(join(compile(feeds[0]), 'm365fw.nft'), 'utf8');
    expect(text).not.toContain('untrusted');
    for (const m of text.matchAll(/comment "([^"]*)"/g))
      expect(m[1]).toMatch(/^[A-Za-z0-9 ,._:+=()@/#-]*$/);
  });
});

describe.skipIf(!!why || sharedFeeds().length === 0)('nftables filters on real snapshots', () => {
  it('--service-areas Exchange,Skype --categories Optimize,Allow --required-only --no-ipv6 loads exactly the selected sets', () => {
    const feed = sharedFeeds().find((f) => f.includes('worldwide-endpoints-2026-08-14'))!;
    const out = compile(feed, [
      '--service-areas',
      'Exchange,Skype',
      '--categories',
      'Optimize,Allow',
      '--required-only',
      '--no-ipv6',
      '--tenant',
      'contoso',
    ]);
    const { sets, rules } = parseNftJson(
      inNetns(`nft -f ${join(out, 'm365fw.nft')}\nnft -j list ruleset`),
    );
    const expected = expectedFromFeed(
      feed,
      (s) =>
        ['Exchange', 'Skype'].includes(s.serviceArea as string) &&
        ['Optimize', 'Allow'].includes(s.category as string) &&
        s.required === true,
    );
    const v4 = [...expected.values()].filter((e) => e.family === 4);
    const allow = rules.filter((r) => r.chain === 'm365_allow');
    expect(allow.every((r) => r.family === 4)).toBe(true);
    expect(allow.length).toBe(v4.length);
    for (const r of allow) {
      const e = expected.get(bucketKey(r.family, r.protocol, r.ports))!;
      expect(sameIntervals(sets.get(r.set)!.intervals, e.intervals)).toBe(true);
    }
  });
});
