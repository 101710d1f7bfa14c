import cidr from 'cidr-tools';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from './helpers/env.js';
import { mergePrefixes, toIntervals, unionIntervals } from '../src/net/merge.js';
import { formatV4, formatV6, parsePrefix } from '../src/net/prefix.js';

const v4Prefix = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => `${formatV4(a - (a % 2 ** (32 - len)))}/${len}`);
// clustered v6 so that merges actually happen
const v6Prefix = fc
  .tuple(fc.bigInt({ min: 0n, max: (1n << 20n) - 1n }), fc.integer({ min: 100, max: 128 }))
  .map(([a, len]) => {
    const base = (0x2603n << 112n) | (a << 8n);
    const host = (1n << BigInt(128 - len)) - 1n;
    return `${formatV6(base & ~host)}/${len}`;
  });

function intervalsOf(list: string[]): [bigint, bigint][] {
  return unionIntervals(
    list.map((p) => {
      const x = cidr.parseCidr(p);
      return [x.start, x.end] as [bigint, bigint];
    }),
  );
}
const aligned = (p: string) => {
  const q = parsePrefix(p);
  const size = BigInt(2) ** BigInt((q.family === 4 ? 32 : 128) - q.len);
  return BigInt(q.addr) % size === 0n;
};

describe.each([
  ['IPv4', 4 as const, v4Prefix],
  ['IPv6', 6 as const, v6Prefix],
])('merge properties, %s', (_n, family, gen) => {
  const lists = fc.array(gen, { minLength: 0, maxLength: 60 });
  it('preserves the exact address set (same intervals as cidr-tools)', () => {
    fc.assert(
      fc.property(lists, (l) => {
        expect(intervalsOf(mergePrefixes(family, l))).toEqual(intervalsOf(l));
      }),
      { numRuns: runs(400) },
    );
  });
  it('is minimal: as many prefixes as cidr-tools mergeCidr', () => {
    fc.assert(
      fc.property(lists, (l) => {
        expect(mergePrefixes(family, l).length).toBe(l.length ? cidr.mergeCidr(l).length : 0);
      }),
      { numRuns: runs(400) },
    );
  });
  it('is idempotent', () => {
    fc.assert(
      fc.property(lists, (l) => {
        const once = mergePrefixes(family, l);
        expect(mergePrefixes(family, once)).toEqual(once);
      }),
      { numRuns: runs(300) },
    );
  });
  it('output is aligned, sorted and disjoint', () => {
    fc.assert(
      fc.property(lists, (l) => {
        const out = mergePrefixes(family, l);
        expect(out.every(aligned)).toBe(true);
        const iv = out.map((p) => toIntervals(family, [p])[0]);
        for (let i = 1; i < iv.length; i++) expect(iv[i][0] > iv[i - 1][1]).toBe(true);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('merge edge cases', () => {
  it.each([
    [['0.0.0.0/1', '128.0.0.0/1'], ['0.0.0.0/0']],
    [['255.255.255.255/32', '255.255.255.254/32'], ['255.255.255.254/31']],
    [
      ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24'],
      ['10.0.0.0/23', '10.0.2.0/24'],
    ],
    [['10.0.0.0/8', '10.1.0.0/16'], ['10.0.0.0/8']],
    [[], []],
  ])('%j → %j', (input, out) => expect(mergePrefixes(4, input)).toEqual(out));
  it('IPv6 ::/1 + 8000::/1 is ::/0, written canonically', () =>
    expect(mergePrefixes(6, ['::/1', '8000::/1'])).toEqual(['::/0']));
});

describe('radix sort', () => {
  it('sorts like the native sort, above and below the radix threshold', async () => {
    const { radixSort32 } = await import('../src/net/merge.js');
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 0, maxLength: 9000 }),
        (xs) => {
          // 32-bit patterns in an Int32Array, sorted in unsigned order (addresses above 2^31 included)
          const sorted = radixSort32(new Int32Array(Uint32Array.from(xs).buffer));
          expect([...new Uint32Array(sorted.buffer, sorted.byteOffset, sorted.length)]).toEqual([
            ...Uint32Array.from(xs).sort(),
          ]);
        },
      ),
      { numRuns: runs(40) },
    );
  });
});

describe('V4Accumulator merged once', () => {
  it('a merged list gives the same cover again, feeds another accumulator, and refuses more ranges', async () => {
    const { V4Accumulator, v4CoverList } = await import('../src/net/merge.js');
    fc.assert(
      fc.property(
        fc.array(v4Prefix, { maxLength: 5000 }),
        fc.array(v4Prefix, { maxLength: 50 }),
        (list, more) => {
          const acc = new V4Accumulator(16);
          for (const p of list) acc.addText(p);
          const cover = acc.mergedCover();
          expect(v4CoverList(cover)).toEqual(cidr.mergeCidr(list));
          expect(acc.mergedCover()).toBe(cover);
          expect(acc.count).toBe(list.length);
          const other = new V4Accumulator();
          for (const p of more) other.addText(p);
          other.addAll(acc);
          expect(other.merged()).toEqual(cidr.mergeCidr([...list, ...more]));
          expect(() => acc.addText('192.0.2.0/24')).toThrow(/after merging/);
        },
      ),
      { numRuns: runs(60) },
    );
  });
});
