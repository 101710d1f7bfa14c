import { GuardError } from '../errors.js';
import type { EndpointSet } from '../model.js';
import { intersects, toIntervals, unionIntervals, type Interval } from '../net/merge.js';
import type { Family } from '../net/prefix.js';

/** Address ranges no Microsoft 365 feed should contain, by class. */
export const IMPLAUSIBLE: Record<string, { family: Family; prefixes: string[] }[]> = {
  private: [{ family: 4, prefixes: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] }, { family: 6, prefixes: ['fc00::/7'] }],
  loopback: [{ family: 4, prefixes: ['127.0.0.0/8', '0.0.0.0/8'] }, { family: 6, prefixes: ['::/128', '::1/128'] }],
  'link-local': [{ family: 4, prefixes: ['169.254.0.0/16'] }, { family: 6, prefixes: ['fe80::/10'] }],
  multicast: [{ family: 4, prefixes: ['224.0.0.0/4', '240.0.0.0/4'] }, { family: 6, prefixes: ['ff00::/8'] }],
  documentation: [{ family: 4, prefixes: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] }, { family: 6, prefixes: ['2001:db8::/32'] }],
};
export const IMPLAUSIBLE_CLASSES = [...Object.keys(IMPLAUSIBLE), 'short'] as const;
/** Prefixes shorter than these are refused in a web-service feed by default. */
export const MIN_FEED_PREFIX_LEN = { v4: 10, v6: 28 } as const;

let rangeCache: Map<string, Interval[]> | undefined;
const ranges = () => (rangeCache ??= new Map<string, Interval[]>(
  Object.entries(IMPLAUSIBLE).flatMap(([cls, fams]) => fams.map((f) => [`${cls}/${f.family}`, toIntervals(f.family, f.prefixes)] as [string, Interval[]])),
));

/** Why a feed prefix is implausible (or undefined); "short" covers /0 too. */
export function implausibleClass(family: Family, prefix: string): string | undefined {
  const len = Number(prefix.slice(prefix.indexOf('/') + 1));
  if (len < (family === 4 ? MIN_FEED_PREFIX_LEN.v4 : MIN_FEED_PREFIX_LEN.v6)) return 'short';
  const iv = toIntervals(family, [prefix]);
  for (const cls of Object.keys(IMPLAUSIBLE)) {
    const r = ranges().get(`${cls}/${family}`);
    if (r && intersects(iv, r)) return cls;
  }
  return undefined;
}

/**
 * Refuse a web-service feed holding implausible entries; user sets (policy, prefix lists) carry a
 * reason and are exempt. `allow` lists classes let through ("all" for every class).
 */
export function guardImplausible(file: string, sets: EndpointSet[], allow: string[] = []): void {
  if (allow.includes('all')) return;
  const bad: string[] = [];
  const classes = new Set<string>();
  for (const s of sets) {
    if (s.origin !== 'feed') continue;
    for (const [fam, list] of [[4, s.ips.v4], [6, s.ips.v6]] as const) {
      for (const p of list) {
        const cls = implausibleClass(fam, p);
        if (cls && !allow.includes(cls)) { bad.push(`set ${s.id} ${p} (${cls})`); classes.add(cls); }
      }
    }
  }
  if (bad.length) {
    throw new GuardError(`${file}: refusing implausible feed entries: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}; ` +
      `if this is deliberate, pass --allow-implausible ${[...classes].join(',')}`);
  }
}

/** Refuse to write an output that enforces nothing. */
export function guardNotEmpty(rules: number, urlEntries: number, allowEmpty: boolean): void {
  if (!allowEmpty && rules === 0 && urlEntries === 0) {
    throw new GuardError('refusing to write an empty rule set (no rule and no URL entry survived the filters); pass --allow-empty if this is deliberate');
  }
}

/** "10%" or "25": the most previous prefixes that may disappear. */
export function parseMaxRemoval(spec: string): { percent: number } | { count: number } {
  const m = /^([0-9]+(?:\.[0-9]+)?)(%?)$/.exec(spec.trim());
  if (!m) throw new GuardError(`--max-removal ${JSON.stringify(spec)}: give a percentage like 10% or a count like 25`);
  return m[2] ? { percent: Number(m[1]) } : { count: Number(m[1]) };
}

/**
 * Refuse when more previous prefixes would disappear than allowed. A previous prefix counts as
 * gone when the new rules with the same protocol and ports no longer cover all of it (so a
 * re-aggregation is not a removal).
 */
export function guardMaxRemoval(
  previous: { key: string; family: number; prefixes: string[] }[],
  next: { key: string; family: number; prefixes: string[] }[],
  spec: string,
): { previous: number; removed: number } {
  const limit = parseMaxRemoval(spec);
  const nextByKey = new Map(next.map((r) => [r.key, unionIntervals(toIntervals(r.family as Family, r.prefixes))]));
  let total = 0, removed = 0;
  for (const r of previous) {
    const cover = nextByKey.get(r.key) ?? [];
    for (const p of r.prefixes) {
      total++;
      const [[s, e]] = toIntervals(r.family as Family, [p]);
      if (!covered(cover, s, e)) removed++;
    }
  }
  const allowed = 'percent' in limit ? (total * limit.percent) / 100 : limit.count;
  if (removed > allowed) {
    throw new GuardError(`refusing to write: ${removed} of ${total} previous prefixes (${total ? ((100 * removed) / total).toFixed(1) : 0}%) would disappear, more than --max-removal ${spec}; review the change (m365fw plan) and raise --max-removal if it is deliberate`);
  }
  return { previous: total, removed };
}

function covered(cover: Interval[], s: bigint, e: bigint): boolean {
  let lo = 0, hi = cover.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cover[mid][1] < s) lo = mid + 1;
    else if (cover[mid][0] > s) hi = mid - 1;
    else return cover[mid][1] >= e;
  }
  return false;
}
