import ipaddr from 'ipaddr.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from './helpers/env.js';
import { excludeCidr } from 'cidr-tools';
import { mergePrefixes, subtractPrefixes } from '../src/net/merge.js';
import {
  canonicalPrefix,
  parseIPv4Strict,
  parsePrefix,
  PrefixSyntaxError,
} from '../src/net/prefix.js';
import { parsePortString, PortSyntaxError } from '../src/net/ports.js';
import { classifyUrl, HostnameSyntaxError, substituteTenant } from '../src/net/hostname.js';

describe('strict prefixes', () => {
  it.each([
    ['13.107.6.152/31', '13.107.6.152/31'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2603:1006:0000::/40', '2603:1006::/40'],
    ['2620:1EC:4::152/128', '2620:1ec:4::152/128'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
  ])('%s is canonical as %s', (input, out) => expect(canonicalPrefix(input).text).toBe(out));

  it.each([
    ['010.0.0.0/8', /four-part decimal/],
    ['0x0a.0.0.0/8', /four-part decimal/],
    ['10.1/16', /four-part decimal/],
    ['10.0.0.256/32', /four-part decimal/],
    ['10.0.0.0/33', /out of range/],
    ['10.0.0.0/08', /decimal number/],
    ['10.0.0.1/24', /host bits set \(network is 10\.0\.0\.0\/24\)/],
    ['2603:1006::1/40', /host bits set/],
    ['::ffff:1.2.3.4/128', /IPv4-mapped/],
    ['fe80::1%eth0/128', /zone ids/],
    ['10.0.0.0', /missing \/length/],
    ['2603:1006::/129', /out of range/],
    ['192.0.2.1.5/32', /four-part decimal/],
    // every character but digits and dots, just either side of '0'..'9' included
    ['192.0.2.-1/32', /four-part decimal/],
    ['192.0.2.1;/32', /four-part decimal/],
    ['192.0.2.a/32', /four-part decimal/],
    ['192.0.2.1 /32', /four-part decimal/],
    ['192.0.2.\u0663/32', /four-part decimal/],
    ['/24', /four-part decimal/],
    ['2001:db8::1/64', /^host bits set \(network is 2001:db8::\/64\)$/],
    ['2001:db8::g/64', /^not a valid IPv4 or IPv6 address$/],
  ])('%s is refused (%s)', (input, msg) => {
    expect(() => canonicalPrefix(input)).toThrow(PrefixSyntaxError);
    expect(() => canonicalPrefix(input)).toThrow(msg);
  });

  it('parsePrefix wants a /length unless told a bare address is a host', () => {
    expect(() => parsePrefix('192.0.2.1')).toThrow(/^missing \/length$/);
    expect(() => parsePrefix('2001:db8::1')).toThrow(/^missing \/length$/);
    expect(parsePrefix('192.0.2.1', true)).toEqual({ family: 4, addr: 0xc0000201, len: 32 });
    expect(parsePrefix('2001:db8::1', true)).toEqual({
      family: 6,
      addr: 0x20010db8000000000000000000000001n,
      len: 128,
    });
  });

  it('the fast IPv4 parser agrees with ipaddr.js four-part decimal on any string of digits and dots', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.]{1,16}$/), (s) => {
        const ours = parseIPv4Strict(s) >= 0;
        const lib =
          ipaddr.IPv4.isValidFourPartDecimal(s) &&
          !s.split('.').some((p) => p.length > 1 && p.startsWith('0'));
        expect(ours).toBe(lib);
      }),
      { numRuns: runs(5000) },
    );
    fc.assert(
      fc.property(fc.ipV4(), (s) => {
        expect(parseIPv4Strict(s)).toBe(
          ipaddr.IPv4.parse(s)
            .toByteArray()
            .reduce((n, b) => n * 256 + b, 0),
        );
      }),
    );
  });
});

describe('port strings as the web service sends them', () => {
  it.each([
    ['80,443', '80,443'],
    ['443,80', '80,443'],
    ['143, 587, 993, 995', '143,587,993,995'],
    ['3478-3481', '3478-3481'],
    ['', ''],
    ['80,81,82', '80-82'],
    ['1-100,50-200', '1-200'],
  ])('"%s" → %s', (input, out) => {
    expect(
      parsePortString(input)
        .map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`))
        .join(','),
    ).toBe(out);
  });
  it.each([
    ['80,,443', /empty element/],
    ['65536', /over 65535/],
    ['3481-3478', /reversed/],
    ['0', /not a port/],
    ['http', /not a port/],
    ['80,', /empty element/],
  ])('"%s" is refused', (input, msg) => {
    // both: the class and the message (a && between two expects checks only the first)
    expect(() => parsePortString(input)).toThrow(PortSyntaxError);
    expect(() => parsePortString(input)).toThrow(msg);
  });
});

describe('URL entries', () => {
  it.each([
    ['outlook.office.com', 'fqdn'],
    ['*.outlook.com', 'wildcard'],
    ['*cdn.onenote.net', 'partial-wildcard'],
    ['autodiscover.*.onmicrosoft.com', 'tenant'],
    ['Teams.Microsoft.COM', 'fqdn'],
  ])('%s is %s', (u, kind) => expect(classifyUrl(u).kind).toBe(kind));
  it.each([
    '',
    'localhost',
    'a..b.com',
    'ex ample.com',
    'evil.com"; drop',
    'a.*b*.com',
    '-bad.com',
    'a.b.*',
  ])('%j is refused', (u) => {
    expect(() => classifyUrl(u)).toThrow(HostnameSyntaxError);
  });
  it('--tenant substitutes only the non-leftmost whole * label', () => {
    expect(substituteTenant('autodiscover.*.onmicrosoft.com', 'contoso')).toBe(
      'autodiscover.contoso.onmicrosoft.com',
    );
    expect(substituteTenant('*.outlook.com', 'contoso')).toBe('*.outlook.com');
  });
});

describe('fast IPv6 path equals ipaddr.js', () => {
  it('accepts exactly the hex-only texts ipaddr.js and node:net accept (random strings of [0-9a-fA-F:])', async () => {
    const { fastParseV6 } = await import('../src/net/ipv6.js');
    const { isIPv6 } = await import('node:net');
    const text = fc
      .array(fc.constantFrom(...'0123456789abcdefABCDEF:::'.split('')), {
        minLength: 0,
        maxLength: 41,
      })
      .map((a) => a.join(''));
    const cases = [
      '::',
      '1::',
      '::1',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7::',
      '1:2:3:4:5:6:7:8::',
      ':1::',
      '1:::2',
      '12345::',
      'g::1',
      '1:2',
      '',
      // two gaps, and each character just outside 0-9, a-f and A-F (the random texts hold none)
      '1::2::3',
      '::1::',
      '/::1',
      '.::1',
      '::1:',
      '@::1',
      '`::1',
      'G::1',
      '[::1',
      ' ::1',
    ];
    for (const t of cases) expect(fastParseV6(t) !== undefined, t).toBe(isIPv6(t));
    fc.assert(
      fc.property(text, (t) => {
        expect(fastParseV6(t) !== undefined, t).toBe(isIPv6(t));
        expect(fastParseV6(t) !== undefined, t).toBe(ipaddr.IPv6.isValid(t));
      }),
      { numRuns: runs(20000) },
    );
  });
  it('parse and RFC 5952 format agree on random addresses, zero runs included', async () => {
    const { fastParseV6, fastFormatV6 } = await import('../src/net/ipv6.js');
    const zeroish = fc.array(
      fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
      { minLength: 8, maxLength: 8 },
    );
    fc.assert(
      fc.property(zeroish, (groups) => {
        const text = groups.map((g) => g.toString(16)).join(':');
        const lib = ipaddr.IPv6.parse(text);
        const big = lib.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
        expect(fastParseV6(text)).toBe(big);
        expect(fastFormatV6(big)).toBe(lib.toRFC5952String());
        expect(fastParseV6(lib.toRFC5952String())).toBe(big);
        expect(fastParseV6(lib.toNormalizedString())).toBe(big);
      }),
      { numRuns: runs(5000) },
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        if (text.includes('.')) {
          expect(fastParseV6(text)).toBeUndefined();
          return;
        }
        const lib = ipaddr.IPv6.parse(text);
        expect(fastParseV6(text)).toBe(
          lib.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n),
        );
      }),
      { numRuns: runs(5000) },
    );
  });
  it('rejects what Node rejects', async () => {
    const { fastParseV6 } = await import('../src/net/ipv6.js');
    for (const bad of ['1:::2', ':1:2', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', ''])
      expect(fastParseV6(bad)).toBeUndefined();
  });
});

describe('subtractPrefixes: address space, not strings', () => {
  it('a grown prefix adds only the new half; a split removes nothing', () => {
    expect(subtractPrefixes(4, ['192.0.2.0/23'], ['192.0.2.0/24'])).toEqual(['192.0.3.0/24']);
    expect(subtractPrefixes(4, ['192.0.2.0/24'], ['192.0.2.0/25', '192.0.2.128/25'])).toEqual([]);
    expect(subtractPrefixes(4, ['192.0.2.0/25', '192.0.2.128/25'], ['192.0.2.0/24'])).toEqual([]);
  });
  it('holes cut out of a block, at its edges and inside', () => {
    expect(
      subtractPrefixes(4, ['198.51.100.0/24'], ['198.51.100.0/26', '198.51.100.129/32']),
    ).toEqual([
      '198.51.100.64/26',
      '198.51.100.128/32',
      '198.51.100.130/31',
      '198.51.100.132/30',
      '198.51.100.136/29',
      '198.51.100.144/28',
      '198.51.100.160/27',
      '198.51.100.192/26',
    ]);
    expect(subtractPrefixes(4, ['0.0.0.0/0'], [])).toEqual(['0.0.0.0/0']);
    expect(subtractPrefixes(4, ['203.0.113.7/32'], ['0.0.0.0/0'])).toEqual([]);
    expect(subtractPrefixes(6, ['2001:db8::/32'], ['2001:db8::/33'])).toEqual([
      '2001:db8:8000::/33',
    ]);
    expect(subtractPrefixes(6, ['2001:db8::/127'], ['2001:db8::1/128'])).toEqual([
      '2001:db8::/128',
    ]);
  });
  it('equals cidr-tools excludeCidr on random lists', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 200; i++) {
      const mk = () =>
        Array.from({ length: 1 + rnd(4) }, () => {
          const len = 22 + rnd(11);
          const host = (0xc6336400 + rnd(1024)) >>> 0; // 198.51.100.0/22
          const addr = (host & ~(2 ** (32 - len) - 1)) >>> 0;
          return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
        });
      const a = mk(),
        b = mk();
      expect(subtractPrefixes(4, a, b)).toEqual(excludeCidr(mergePrefixes(4, a), b));
    }
  });
});
