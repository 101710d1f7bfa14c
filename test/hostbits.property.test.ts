/** Host bits set at any position, in both families, are refused; a mask one bit short is caught. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from './helpers/env.js';
import { formatV4, formatV6, parsePrefix, PrefixSyntaxError } from '../src/net/prefix.js';

describe('validation at every bit position', () => {
  it('IPv4: a network with one host bit set (any position past the length) is refused; clear, it parses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 31 }),
        fc.nat(),
        fc.nat({ max: 31 }),
        (len, seed, off) => {
          const net = len === 0 ? 0 : (seed >>> (32 - len)) * 2 ** (32 - len);
          const bit = len + (off % (32 - len)); // a host bit: position len..31 from the top
          const withHost = net + 2 ** (31 - bit);
          expect(() => parsePrefix(`${formatV4(withHost)}/${len}`)).toThrow(PrefixSyntaxError);
          expect(() => parsePrefix(`${formatV4(withHost)}/${len}`)).toThrow(/host bits set/);
          expect(parsePrefix(`${formatV4(net)}/${len}`)).toEqual({ family: 4, addr: net, len });
          // the same address with a mask one bit longer than needed is fine; one bit short is not
          if (bit < 31)
            expect(() => parsePrefix(`${formatV4(withHost)}/${bit}`)).toThrow(/host bits set/);
          expect(parsePrefix(`${formatV4(withHost)}/${bit + 1}`).len).toBe(bit + 1);
        },
      ),
      { numRuns: runs(2000) },
    );
  });

  it('IPv6: likewise, at every one of the 128 positions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 127 }),
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.nat({ max: 127 }),
        (len, seed, off) => {
          const host = (1n << BigInt(128 - len)) - 1n;
          const net = seed & ~host & ((1n << 128n) - 1n);
          const bit = len + (off % (128 - len));
          const withHost = net | (1n << BigInt(127 - bit));
          // keep clear of ::ffff:0:0/96 (refused for another reason)
          fc.pre(withHost >> 32n !== 0xffffn && net >> 32n !== 0xffffn);
          expect(() => parsePrefix(`${formatV6(withHost)}/${len}`)).toThrow(/host bits set/);
          expect(parsePrefix(`${formatV6(net)}/${len}`)).toEqual({ family: 6, addr: net, len });
          expect(parsePrefix(`${formatV6(withHost)}/${bit + 1}`).len).toBe(bit + 1);
        },
      ),
      { numRuns: runs(2000) },
    );
  });
});
