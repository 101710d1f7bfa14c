import { GuardError } from '../errors.js';
import type { EndpointSet } from '../model.js';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import {
  intersects,
  mergePrefixes,
  toIntervals,
  unionIntervals,
  type Interval,
} from '../net/merge.js';
import { portsText } from '../net/ports.js';
import type { Family } from '../net/prefix.js';

/**
 * Address ranges no Microsoft 365 feed should contain, by class. The table starts from ipaddr.js's
 * special-purpose ranges (kept with the IANA IPv4 and IPv6 Special-Purpose Address Registries) and
 * adds what it lacks. A range ipaddr.js adds later lands in "reserved": unknown is implausible.
 */
const IPADDR_CLASS: Record<string, string> = {
  // IPv4
  unspecified: 'loopback', // 0.0.0.0/8 "this network", RFC 791 / RFC 1122; ::/128, RFC 4291
  broadcast: 'multicast', // 255.255.255.255/32, RFC 919
  multicast: 'multicast', // 224.0.0.0/4, RFC 5771; ff00::/8, RFC 4291
  linkLocal: 'link-local', // 169.254.0.0/16, RFC 3927; fe80::/10, RFC 4291
  loopback: 'loopback', // 127.0.0.0/8, RFC 1122; ::1/128, RFC 4291
  carrierGradeNat: 'private', // 100.64.0.0/10, RFC 6598
  private: 'private', // 10/8, 172.16/12, 192.168/16, RFC 1918
  reserved: 'reserved', // 192.0.0.0/24 RFC 6890, 192.88.99.0/24 RFC 7526, 198.18.0.0/15 RFC 2544, 240/4 RFC 1112; 2001::/23 RFC 2928, 3fff::/20 RFC 9637
  as112: 'reserved', // 192.175.48.0/24 RFC 7534, 192.31.196.0/24 RFC 7535
  amt: 'reserved', // 192.52.193.0/24 RFC 7450; 2001:3::/32 RFC 7450
  // IPv6
  uniqueLocal: 'private', // fc00::/7, RFC 4193
  ipv4Mapped: 'reserved', // ::ffff:0:0/96, RFC 4291
  deprecatedSiteLocal: 'reserved', // fec0::/10, RFC 3879
  discard: 'reserved', // 100::/64, RFC 6666
  rfc6145: 'reserved', // ::ffff:0:0:0/96, RFC 6145
  rfc6052: 'reserved', // 64:ff9b::/96 RFC 6052, 64:ff9b:1::/48 RFC 8215
  '6to4': 'reserved', // 2002::/16, RFC 3056
  teredo: 'reserved', // 2001::/32, RFC 4380
  benchmarking: 'reserved', // 2001:2::/48, RFC 5180
  as112v6: 'reserved', // 2001:4:112::/48 RFC 7535, 2620:4f:8000::/48 RFC 7534
  deprecatedOrchid: 'reserved', // 2001:10::/28, RFC 4843
  orchid2: 'reserved', // 2001:20::/28, RFC 7343
  droneRemoteIdProtocolEntityTags: 'reserved', // 2001:30::/28, RFC 9374
  segmentRouting: 'reserved', // 5f00::/16, RFC 9602
};
/** The documentation ranges are a class of their own (ipaddr.js files them under "reserved"). */
const DOCUMENTATION: Record<Family, string[]> = {
  4: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'], // RFC 5737
  6: ['2001:db8::/32', '3fff::/20'], // RFC 3849, RFC 9637
};
/** What ipaddr.js lacks. */
const EXTRA: { family: Family; cls: string; prefixes: string[]; fallback?: boolean }[] = [
  { family: 6, cls: 'reserved', prefixes: ['100:0:0:1::/64'] }, // dummy IPv6 prefix, RFC 9780
  // outside 2000::/3, the global unicast space IANA allocates from (RFC 4291 2.4): a class only
  // where no other one applies (fc00::/7 is "private", not also this)
  { family: 6, cls: 'reserved', prefixes: ['::/3', '4000::/2', '8000::/1'], fallback: true },
];

export const IMPLAUSIBLE_CLASSES = [
  'private',
  'loopback',
  'link-local',
  'multicast',
  'documentation',
  'reserved',
  'short',
  'public-suffix',
] as const;
/** Prefixes shorter than these are refused in a web-service feed by default, also after merging. */
export const MIN_FEED_PREFIX_LEN = { v4: 10, v6: 28 } as const;

type RangeTable = { cls: string; family: Family; iv: Interval[]; fallback?: boolean }[];
let table: RangeTable | undefined;

/** An ipaddr.js range as an interval (built from its bytes: some, like ::ffff:0:0/96, our parser refuses as input). */
function rangeInterval(a: ipaddr.IPv4 | ipaddr.IPv6, len: number): Interval {
  const bits = a.kind() === 'ipv4' ? 32 : 128;
  let v = 0n;
  for (const b of a.toByteArray()) v = (v << 8n) | BigInt(b);
  return [v, v + (1n << BigInt(bits - len)) - 1n];
}

/** The range table: every special-purpose range with its class, as intervals. */
export function implausibleRanges(): RangeTable {
  if (table) return table;
  const out: RangeTable = [];
  for (const [fam, cls] of [
    [4, ipaddr.IPv4],
    [6, ipaddr.IPv6],
  ] as const) {
    const docs = toIntervals(fam, DOCUMENTATION[fam]);
    const ranges = (cls.prototype as unknown as { SpecialRanges: Record<string, unknown> })
      .SpecialRanges;
    for (const [name, v] of Object.entries(ranges)) {
      const list = (Array.isArray((v as unknown[])[0]) ? v : [v]) as [
        ipaddr.IPv4 | ipaddr.IPv6,
        number,
      ][];
      const iv = list
        .map(([a, len]) => rangeInterval(a, len))
        .filter(([s, e]) => !docs.some(([ds, de]) => ds === s && de === e));
      if (iv.length)
        out.push({ cls: IPADDR_CLASS[name] ?? 'reserved', family: fam, iv: unionIntervals(iv) });
    }
    out.push({ cls: 'documentation', family: fam, iv: docs });
  }
  for (const r of EXTRA)
    out.push({
      cls: r.cls,
      family: r.family,
      iv: unionIntervals(toIntervals(r.family, r.prefixes)),
      ...(r.fallback ? { fallback: true } : {}),
    });
  return (table = out);
}

/** Every class a feed prefix overlaps ("short" for a prefix shorter than the minimum), sorted. */
export function implausibleClasses(family: Family, prefix: string): string[] {
  const out = new Set<string>();
  const len = Number(prefix.slice(prefix.indexOf('/') + 1));
  if (len < (family === 4 ? MIN_FEED_PREFIX_LEN.v4 : MIN_FEED_PREFIX_LEN.v6)) out.add('short');
  const iv = toIntervals(family, [prefix]);
  let special = false;
  for (const r of implausibleRanges())
    if (!r.fallback && r.family === family && intersects(iv, r.iv)) {
      out.add(r.cls);
      special = true;
    }
  if (!special)
    for (const r of implausibleRanges())
      if (r.fallback && r.family === family && intersects(iv, r.iv)) out.add(r.cls);
  return [...out].sort();
}

/** The first class, for callers that name one. */
export function implausibleClass(family: Family, prefix: string): string | undefined {
  return implausibleClasses(family, prefix)[0];
}

/**
 * Refuse a web-service feed holding implausible entries, judged on every prefix and again on every
 * merged rule (a set holding every public /10 merges into /3s). User sets (policy, prefix lists)
 * carry a reason and are exempt. A range carries every class it overlaps: all must be allowed.
 */
export function guardImplausible(file: string, sets: EndpointSet[], allow: string[] = []): void {
  if (allow.includes('all')) return;
  const bad: string[] = [];
  const classes = new Set<string>();
  const judge = (where: string, fam: Family, p: string) => {
    const cls = implausibleClasses(fam, p).filter((c) => !allow.includes(c));
    if (!cls.length) return;
    bad.push(`${where} ${p} (${cls.join(', ')})`);
    for (const c of cls) classes.add(c);
  };
  const buckets = new Map<string, { fam: Family; prefixes: string[]; ids: Set<string> }>();
  for (const s of sets) {
    if (s.origin !== 'feed') continue;
    for (const [fam, list] of [
      [4, s.prefixes.v4.toArray()],
      [6, s.prefixes.v6.toArray()],
    ] as const) {
      for (const p of list) judge(`set ${s.id}`, fam, p);
      if (!list.length) continue;
      for (const [proto, ports] of [
        ['tcp', s.tcpPorts],
        ['udp', s.udpPorts],
      ] as const) {
        if (!ports.length) continue;
        const key = `${fam} ${proto} ${portsText(ports)}`;
        const b = buckets.get(key) ?? { fam, prefixes: [], ids: new Set<string>() };
        // a loop, not push(...list): a spread of a 200k-entry list overflows the call stack
        for (const x of list) b.prefixes.push(x);
        b.ids.add(s.id);
        buckets.set(key, b);
      }
    }
  }
  if (!bad.length) {
    // merging cannot add a special range the inputs did not touch, but it can make a prefix short
    for (const [key, b] of buckets) {
      for (const p of mergePrefixes(b.fam, b.prefixes)) {
        const len = Number(p.slice(p.indexOf('/') + 1));
        if (
          len < (b.fam === 4 ? MIN_FEED_PREFIX_LEN.v4 : MIN_FEED_PREFIX_LEN.v6) &&
          !allow.includes('short')
        ) {
          bad.push(
            `the rule for ${key.replace(/^([46]) /, 'IPv$1 ')} (sets ${[...b.ids].join(',')}) merges to ${p} (short)`,
          );
          classes.add('short');
        }
      }
    }
  }
  if (bad.length) {
    throw new GuardError(
      `${file}: refusing implausible feed entries: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}; ` +
        `if this is deliberate, pass --allow-implausible ${[...classes].sort().join(',')}`,
    );
  }
}

type Tldts = {
  getDomain(host: string, opts?: { allowPrivateDomains?: boolean }): string | null;
};
let tldts: Tldts | undefined;
// the whole Public Suffix List, its private section included (github.io, s3.amazonaws.com,
// blob.core.windows.net: every name below one is someone else's), through tldts, loaded on first use
const psl = (): Tldts => (tldts ??= createRequire(import.meta.url)('tldts') as Tldts);

/**
 * The fixed part under a URL entry's last wildcard label ("*.office.com" → office.com,
 * "x*.com" → com, "*.*.com" → com, "autodiscover.*.onmicrosoft.com" → onmicrosoft.com), or
 * undefined for an exact name. Targets that cannot express a partial label widen to "*." + this.
 */
export function wildcardBase(host: string): string | undefined {
  const labels = host.split('.');
  let last = -1;
  labels.forEach((l, i) => {
    if (l.includes('*')) last = i;
  });
  return last < 0 ? undefined : labels.slice(last + 1).join('.');
}

/** Whether a name is itself a public suffix (com, co.uk, cn): nothing below it is one owner's. */
export function isPublicSuffix(name: string): boolean {
  return psl().getDomain(name, { allowPrivateDomains: true }) === null;
}

/**
 * Refuse feed wildcards whose fixed part is a public suffix: "*.com" would send every .com host
 * DIRECT (PAC) or into an allow category (PAN-OS). Checked on the form targets write, too.
 */
export function guardPublicSuffix(file: string, sets: EndpointSet[], allow: string[] = []): void {
  if (allow.includes('all') || allow.includes('public-suffix')) return;
  const bad: string[] = [];
  for (const s of sets) {
    if (s.origin !== 'feed') continue;
    for (const u of s.urls) {
      const base = wildcardBase(u.host);
      if (base !== undefined && (base === '' || isPublicSuffix(base)))
        bad.push(`set ${s.id} ${u.host} (over the public suffix ${base || 'root'})`);
    }
  }
  if (bad.length) {
    throw new GuardError(
      `${file}: refusing wildcard URL entries over a public suffix: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}; if this is deliberate, pass --allow-implausible public-suffix`,
    );
  }
}
