import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cidr from 'cidr-tools';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from './helpers/env.js';
import { InputError } from '../src/errors.js';
import { formatV4 } from '../src/net/prefix.js';
import { PrefixSet } from '../src/net/prefixset.js';
import { V6Accumulator } from '../src/net/v6bulk.js';
import { buildRules } from '../src/compile/build.js';
import { V4Accumulator } from '../src/net/merge.js';
import { parsePrefixList, READ_CHUNK, readPrefixListFile } from '../src/sources/prefixlist.js';
import { tmpDir } from './helpers/tmp.js';

// The reader has a byte-level fast path for canonical IPv4 lines and a strict slow path for the
// rest; both must give the same union, and the merged rule must equal cidr-tools' merge.
const octets = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const v4 = fc
  .tuple(octets, fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => ({ addr: a - (a % 2 ** (32 - len)), len }));
const line = fc.oneof(
  v4.map((p) => ({ text: `${formatV4(p.addr)}/${p.len}`, entry: `${formatV4(p.addr)}/${p.len}` })), // fast path
  v4.map((p) => ({ text: formatV4(p.addr), entry: `${formatV4(p.addr)}/32` })), // bare address
  v4.map((p) => ({
    text: `  ${formatV4(p.addr)}/${p.len}\t# note`,
    entry: `${formatV4(p.addr)}/${p.len}`,
  })), // blanks, comment
  v4.map((p) => ({
    text: `${formatV4(p.addr)}/${p.len}\r`,
    entry: `${formatV4(p.addr)}/${p.len}`,
  })), // CRLF
  fc.constantFrom(
    { text: '', entry: '' },
    { text: '# comment', entry: '' },
    { text: '   ', entry: '' },
  ),
  fc
    .constantFrom(
      '255.255.255.255/32',
      '0.0.0.0/0',
      '128.0.0.0/1',
      '127.255.255.255',
      '2001:db8::/32',
    )
    .map((t) => ({ text: t, entry: t })),
);

function rulesOf(text: string) {
  const set = parsePrefixList('list.txt', Buffer.from(text, 'latin1'), {
    tcpPorts: [],
    udpPorts: [],
  });
  return buildRules([set]).rules;
}

describe('prefix list reader', () => {
  it('reads any mix of canonical, bare, commented and CRLF lines to the exact union (cidr-tools)', () => {
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 80 }),
        fc.boolean(),
        fc.boolean(),
        (lines, finalNewline, bom) => {
          const text =
            (bom ? '\ufeff' : '') +
            lines.map((l) => l.text).join('\n') +
            (finalNewline && lines.length ? '\n' : '');
          const rules = rulesOf(bom ? Buffer.from(text, 'utf8').toString('latin1') : text);
          const entries = lines.map((l) => l.entry).filter(Boolean);
          const want4 = cidr.mergeCidr(entries.filter((e) => !e.includes(':')));
          const got4 = rules.find((r) => r.family === 4)?.prefixes.toArray() ?? [];
          expect(got4).toEqual(want4);
          expect(rules.find((r) => r.family === 4)?.prefixes.count ?? 0).toBe(want4.length);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it.each([
    ['1.2.3.4/24', 'host bits'],
    ['01.2.3.4', ''],
    ['1.2.3.256', ''],
    ['1.2.3.4/33', ''],
    ['1.2.3.0/024', ''],
    ['1.2.3', ''],
    ['1.2.3.4.5', ''],
    ['1.2.3.4/', ''],
    ['1.2.3.4 5.6.7.8', ''],
    ['a.b.c.d', ''],
    ['1.2.3.4/3x', ''],
    ['2001:db8::1/64', ''],
    ['::ffff:0:0/96', ''],
    ['2001:db8::/129', ''],
    ['2001:db8::/048', ''],
    ['fe80::1%eth0', ''],
    ['2001:db8:::1', ''],
  ])('%j on line 3 is an error naming that line, whether or not a newline follows', (bad) => {
    for (const tail of ['\n', '', '\n10.0.0.0/8\n']) {
      const err = (() => {
        try {
          rulesOf(`10.0.0.0/8\n# c\n${bad}${tail}`);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/^list\.txt:3: /);
    }
  });

  it('reads 200k lines held in one buffer, addresses above 2^31 included', () => {
    const n = 200_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++)
      lines.push(`${formatV4((((i * 2654435761) >>> 0) & ~255) >>> 0)}/24`);
    const text = lines.join('\n') + '\n# trailer\n' + '203.0.113.0/24';
    const got = rulesOf(text)[0].prefixes.toArray();
    expect(got).toEqual(cidr.mergeCidr([...lines, '203.0.113.0/24']));
  });
});

describe('PrefixSet', () => {
  const large = (list: string[]) => {
    const acc = new V4Accumulator();
    for (const p of list) acc.addText(p);
    return PrefixSet.ofAccumulator(4, acc);
  };
  const list4 = fc.array(
    v4.map((p) => `${formatV4(p.addr)}/${p.len}`),
    { maxLength: 60 },
  );
  it('a large set: its list is the merged cover, its bytes join exactly like Array.join for any separator', () => {
    fc.assert(
      fc.property(list4, fc.constantFrom('\n', ',', ',\n\t\t\t', '",\n    "', ''), (list, sep) => {
        const want = cidr.mergeCidr(list);
        const set = large(list);
        expect(set.given).toBe(list.length);
        expect(set.count).toBe(want.length);
        expect(set.bytes(sep).toString('latin1')).toBe(want.join(sep));
        expect(set.toArray()).toEqual(want);
        expect([...set]).toEqual(want);
        expect(JSON.stringify(set)).toBe(JSON.stringify(want));
      }),
      { numRuns: runs(300) },
    );
  });

  it('union of small and large sets of one family is the merged cover of all of them', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(list4, fc.boolean()), { maxLength: 5 }), (parts) => {
        const sets = parts.map(([l, big]) => (big ? large(l) : PrefixSet.of(4, l)));
        const u = PrefixSet.union(4, sets);
        expect(u.toArray()).toEqual(cidr.mergeCidr(parts.flatMap(([l]) => l)));
        expect(u.family).toBe(4);
      }),
      { numRuns: runs(200) },
    );
  });

  it('is immutable: the array handed out is frozen, and a set of one family refuses the other', () => {
    const set = PrefixSet.of(4, ['192.0.2.0/24']);
    const arr = set.toArray() as string[];
    expect(() => arr.push('198.51.100.0/24')).toThrow(TypeError);
    expect(set.count).toBe(1);
    expect(() => PrefixSet.union(4, [PrefixSet.of(6, ['2001:db8::/32'])])).toThrow(/IPv6 in IPv4/);
    expect(() => PrefixSet.ofAccumulator(4, new V6Accumulator())).toThrow(/IPv6 accumulator/);
    // one large set alone is its own union: merged once, shared by a TCP and a UDP rule
    const big = large(['192.0.2.0/25', '192.0.2.128/25']);
    expect(PrefixSet.union(4, [big, PrefixSet.empty(4)])).toBe(big);
    expect(PrefixSet.union(6, []).isEmpty).toBe(true);
  });
});

describe('prefix list file reader (chunked)', () => {
  const dir = tmpDir('chunks');
  const lines: string[] = [];
  for (let i = 0; i < 120_000; i++) {
    const a = ((i * 2654435761) >>> 0) & ~15;
    lines.push(
      i % 997 === 0
        ? `  ${formatV4(a >>> 0)}/28 # odd line\r`
        : i % 1499 === 0
          ? `2001:db8:${(i % 65536).toString(16)}::/48`
          : `${formatV4(a >>> 0)}/28`,
    );
  }
  // a comment longer than the read buffer: the reader must grow it, not split the line
  lines.splice(60_000, 0, `# ${'x'.repeat(READ_CHUNK * 2)}`);
  const text = '\ufeff' + lines.join('\n'); // BOM, and no final newline
  const file = join(dir, 'list.txt');
  writeFileSync(file, text);

  it("gives the same sets as reading the whole buffer, and the file's sha256", () => {
    const opts = { tcpPorts: [], udpPorts: [] };
    const read = readPrefixListFile(file, opts);
    const whole = parsePrefixList('list.txt', readFileSync(file), opts);
    expect(read.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(read.name).toBe('list.txt');
    const [a, b] = [buildRules([read.set]).rules, buildRules([whole]).rules];
    expect(a.map((r) => r.prefixes.toArray())).toEqual(b.map((r) => r.prefixes.toArray()));
    expect(a[0].prefixes.toArray()).toEqual(
      cidr.mergeCidr(
        lines
          .filter((l) => !l.startsWith('#') && !l.includes(':'))
          .map((l) => l.replace(/#.*/, '').trim()),
      ),
    );
    expect(read.set.prefixes.v6.given).toBe(lines.filter((l) => l.includes(':')).length);
  });

  it('reports progress after every chunk, rising to the file size', () => {
    const seen: [number, number][] = [];
    readPrefixListFile(file, {
      tcpPorts: [],
      udpPorts: [],
      onProgress: (d, t) => seen.push([d, t]),
    });
    const size = Buffer.byteLength(text);
    // the file is ~7 read buffers long (one line is two buffers long): several steps before the end
    expect(seen.filter(([d]) => d > 0 && d < size).length).toBeGreaterThanOrEqual(4);
    expect(seen.every(([d], i) => i === 0 || d > seen[i - 1][0])).toBe(true);
    expect(seen.at(-1)).toEqual([size, size]);
  });

  it('names the right line of a bad entry far into the file', () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(
      bad,
      [...lines.slice(0, 100_000), '192.0.2.1/24', ...lines.slice(100_000)].join('\n'),
    );
    expect(() => readPrefixListFile(bad, { tcpPorts: [], udpPorts: [] })).toThrow(
      /^bad\.txt:100001: host bits set/,
    );
  });

  it('a missing file is an input error naming it', () => {
    expect(() => readPrefixListFile(join(dir, 'nope.txt'), { tcpPorts: [], udpPorts: [] })).toThrow(
      /^nope\.txt: cannot read it: no such file/,
    );
  });
});
