/**
 * An independent expectation of what a feed must allow, computed straight from the raw JSON with
 * cidr-tools (not with m365fw's own parser or merge): (family, protocol, sorted ports) → addresses.
 */
import cidr from 'cidr-tools';
import { readFileSync } from 'node:fs';

export interface Expected {
  family: 4 | 6;
  protocol: 'tcp' | 'udp';
  ports: number[][];
  intervals: [bigint, bigint][];
}

export function rawSets(path: string): Record<string, unknown>[] {
  let text = readFileSync(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const doc = JSON.parse(text);
  return Array.isArray(doc) ? doc : doc.endpoints;
}

function ports(s: unknown): number[][] {
  if (typeof s !== 'string' || s.trim() === '') return [];
  const list = s
    .split(',')
    .map((p) => p.trim().split('-').map(Number))
    .map((p) => [p[0], p[1] ?? p[0]]);
  list.sort((a, b) => a[0] - b[0]);
  const out: number[][] = [];
  for (const r of list) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([...r]);
  }
  return out;
}

/** intervals of a list of CIDRs after cidr-tools merge */
export function oracleIntervals(prefixes: string[]): [bigint, bigint][] {
  if (!prefixes.length) return [];
  return cidr.mergeCidr(prefixes).map((n) => {
    const p = cidr.parseCidr(n);
    return [p.start, p.end] as [bigint, bigint];
  });
}

export function expectedFromFeed(
  path: string,
  filter: (s: Record<string, unknown>) => boolean = () => true,
): Map<string, Expected> {
  const acc = new Map<string, { e: Expected; prefixes: string[] }>();
  for (const s of rawSets(path).filter(filter)) {
    const ips = (s.ips as string[] | undefined) ?? [];
    for (const protocol of ['tcp', 'udp'] as const) {
      const p = ports(s[`${protocol}Ports`]);
      if (!p.length) continue;
      for (const family of [4, 6] as const) {
        const fam = ips.filter((x) => x.includes(':') === (family === 6));
        if (!fam.length) continue;
        const key = `${family}|${protocol}|${JSON.stringify(p)}`;
        let a = acc.get(key);
        if (!a)
          acc.set(key, (a = { e: { family, protocol, ports: p, intervals: [] }, prefixes: [] }));
        a.prefixes.push(...fam);
      }
    }
  }
  for (const a of acc.values()) a.e.intervals = oracleIntervals(a.prefixes);
  return new Map([...acc.entries()].map(([k, v]) => [k, v.e]));
}

export const bucketKey = (family: number, protocol: string, ports: number[][]) =>
  `${family}|${protocol}|${JSON.stringify(ports)}`;
