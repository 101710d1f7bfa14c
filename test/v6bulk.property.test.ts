import cidr from 'cidr-tools';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { runs } from './helpers/env.js';
import { formatV6 } from '../src/net/prefix.js';
import { addV6Text, V6Accumulator, v6CoverBytes } from '../src/net/v6bulk.js';

// The typed-array IPv6 merge against cidr-tools: clustered (so merges happen across word
// boundaries), near both ends of the space, and with every length.
const base = fc.constantFrom(
  0n,
  0x2001_0db8n << 96n,
  (1n << 128n) - (1n << 40n),
  0x2603_1000n << 96n,
  (1n << 64n) - (1n << 20n),
  (1n << 100n) - (1n << 12n),
);
const v6 = fc
  .tuple(base, fc.bigInt({ min: 0n, max: (1n << 44n) - 1n }), fc.integer({ min: 0, max: 128 }))
  .map(([b, off, len]) => {
    const host = (1n << BigInt(128 - len)) - 1n;
    const a = (b + (off << 4n)) & ((1n << 128n) - 1n) & ~host;
    return `${formatV6(a)}/${len}`;
  })
  .filter((p) => !p.startsWith('::ffff:')); // IPv4-mapped addresses are refused (tested elsewhere)
const lenBias = fc
  .tuple(base, fc.bigInt({ min: 0n, max: (1n << 24n) - 1n }), fc.integer({ min: 100, max: 128 }))
  .map(([b, off, len]) => {
    const host = (1n << BigInt(128 - len)) - 1n;
    return `${formatV6((b + off) & ((1n << 128n) - 1n) & ~host)}/${len}`;
  })
  .filter((p) => !p.startsWith('::ffff:'));

describe('IPv6 typed-array merge', () => {
  it('equals cidr-tools mergeCidr (exact addresses, minimal, sorted, RFC 5952 text)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(v6, lenBias), { maxLength: 400 }), (list) => {
        const acc = new V6Accumulator(4);
        for (const p of list) acc.addText(p);
        const got = acc.merged();
        expect(got).toEqual(cidr.mergeCidr(list));
        expect(acc.mergedCover().count).toBe(got.length);
        for (const p of got.slice(0, 5))
          expect(p.split('/')[0]).toBe(ipaddr.parse(p.split('/')[0]).toString());
      }),
      { numRuns: runs(300) },
    );
  });

  it('the radix path (256 or more ranges) equals the comparator path', () => {
    fc.assert(
      fc.property(fc.array(lenBias, { minLength: 300, maxLength: 2000 }), (list) => {
        const acc = new V6Accumulator();
        for (const p of list) acc.addText(p);
        expect(acc.merged()).toEqual(cidr.mergeCidr(list));
      }),
      { numRuns: runs(25) },
    );
  });

  it.each([
    [['::/0'], ['::/0']],
    [['::/1', '8000::/1'], ['::/0']],
    [
      [
        'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
        'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128',
      ],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127'],
    ],
    [
      ['2001:db8::ffff:ffff/128', '2001:db8::1:0:0/128'],
      ['2001:db8::ffff:ffff/128', '2001:db8::1:0:0/128'],
    ],
    [
      ['2001:db8:0:0:ffff:ffff:ffff:ffff/128', '2001:db8:0:1::/128'],
      ['2001:db8::ffff:ffff:ffff:ffff/128', '2001:db8:0:1::/128'],
    ],
    [['::/128', '::1/128', '::2/127'], ['::/126']],
    [['fe80::/10', 'fe80::1/128'], ['fe80::/10']],
  ])('%j → %j', (input, want) => {
    const acc = new V6Accumulator();
    for (const p of input) acc.addText(p);
    expect(acc.merged()).toEqual(want);
    expect(v6CoverBytes(acc.mergedCover(), ', ').toString()).toBe(want.join(', '));
  });

  it('reads text fast where it can and leaves the rest to the strict parser', () => {
    const acc = new V6Accumulator();
    expect(addV6Text(acc, '2001:DB8:0001::/48')).toBe(true);
    expect(addV6Text(acc, '2001:db8::1')).toBe(true);
    for (const bad of [
      '2001:db8::1/64',
      '2001:db8::/129',
      '2001:db8::/048',
      '::ffff:0:0/96',
      '::ffff:192.0.2.1',
      'fe80::1%eth0',
      '2001:db8:::1',
      '1:2:3:4:5:6:7:8:9',
    ]) {
      expect(addV6Text(acc, bad)).toBe(false);
    }
    expect(acc.merged()).toEqual(['2001:db8::1/128', '2001:db8:1::/48']);
  });

  it('merged once; feeds another accumulator; refuses more ranges', () => {
    const a = new V6Accumulator();
    a.addText('2001:db8::/33');
    const c = a.mergedCover();
    expect(a.mergedCover()).toBe(c);
    const b = new V6Accumulator();
    b.addText('2001:db8:8000::/33');
    b.addAll(a);
    expect(b.merged()).toEqual(['2001:db8::/32']);
    expect(() => a.addText('2001:db8::/48')).toThrow(/after merging/);
  });
});
