import { createHash } from 'node:crypto';
import type { Category, EndpointSet, Finding, Protocol, Rule, UrlRule } from '../model.js';
import { mergePrefixes, V4Accumulator } from '../net/merge.js';
import type { Family } from '../net/prefix.js';
import {
  definePrefixes,
  v4PrefixCover,
  v6PrefixCover,
  type PrefixCover,
} from '../net/prefixtext.js';
import { V6Accumulator } from '../net/v6bulk.js';
import { portsText, type PortRange } from '../net/ports.js';
import { compareIds } from '../sources/o365json.js';
import type { PrefixBulk } from '../sources/prefixlist.js';

/** The longest rule key; leaves room for target prefixes such as "m365_" and "-tmp" in ipset's 31. */
export const MAX_RULE_KEY = 22;

/** Content-derived rule key, [a-z0-9_] only: "v4_tcp_80_443", "v6_udp_3478to3481", "v4_any". */
export function ruleKey(
  family: Family | 'url',
  protocol: Protocol,
  ports: readonly PortRange[],
): string {
  const head = family === 'url' ? `url_${protocol}` : `v${family}_${protocol}`;
  if (protocol === 'any') return head;
  const spec = portsText(ports, 'to').replace(/,/g, '_');
  const full = `${head}_${spec}`;
  if (full.length <= MAX_RULE_KEY) return full;
  const hash = createHash('sha256')
    .update(portsText(ports))
    .digest('hex')
    .slice(0, MAX_RULE_KEY - head.length - 2);
  return `${head}_h${hash}`;
}

interface Bucket {
  family: Family;
  protocol: Protocol;
  ports: PortRange[];
  prefixes: string[];
  bulk: PrefixBulk[];
  sets: EndpointSet[];
}

const uniqSorted = <T extends string | boolean>(xs: T[]): T[] => [...new Set(xs)].sort();

/** Provenance of a group of sets, sorted and deduplicated. */
export function provenanceOf(sets: EndpointSet[]) {
  return {
    setIds: [...new Set(sets.map((s) => s.id))].sort(compareIds),
    serviceAreas: uniqSorted(sets.map((s) => s.serviceArea)),
    categories: uniqSorted<Category>(sets.map((s) => s.category)),
    required: uniqSorted(sets.map((s) => s.required)),
  };
}

function protocolsOf(s: EndpointSet): [Protocol, PortRange[]][] {
  if (s.addressOnly) return [['any', []]];
  const out: [Protocol, PortRange[]][] = [];
  if (s.tcpPorts.length) out.push(['tcp', s.tcpPorts]);
  if (s.udpPorts.length) out.push(['udp', s.udpPorts]);
  return out;
}

/**
 * Bucket sets by (family, protocol, port set), merge each bucket losslessly, keep provenance.
 * A set with addresses or URLs but no ports yields no rule and a finding (never all ports).
 */
export function buildRules(
  sets: EndpointSet[],
  onProgress?: (phase: string, done?: number, total?: number) => void,
): { rules: Rule[]; urlRules: UrlRule[]; findings: Finding[] } {
  const buckets = new Map<string, Bucket>();
  const urlBuckets = new Map<
    string,
    {
      protocol: 'tcp' | 'udp';
      ports: PortRange[];
      hosts: Map<string, { kind: EndpointSet['urls'][number]['kind']; sets: EndpointSet[] }>;
    }
  >();
  const findings: Finding[] = [];
  for (const s of sets) {
    const protos = protocolsOf(s);
    const nIps =
      s.ips.v4.length + s.ips.v6.length + (s.bulk ? s.bulk.v4.count + s.bulk.v6.count : 0);
    if (protos.length === 0 && (nIps || s.urls.length)) {
      findings.push({
        kind: 'dropped',
        setIds: [s.id],
        detail: `endpoint set has no TCP or UDP ports: ${nIps} prefixes and ${s.urls.length} URLs not rendered (never widened to all ports)`,
      });
      continue;
    }
    for (const [protocol, ports] of protos) {
      for (const family of [4, 6] as const) {
        const list = family === 4 ? s.ips.v4 : s.ips.v6;
        const bulkCount = s.bulk ? (family === 4 ? s.bulk.v4.count : s.bulk.v6.count) : 0;
        if (!list.length && !bulkCount) continue;
        const key = ruleKey(family, protocol, ports);
        let b = buckets.get(key);
        if (!b)
          buckets.set(key, (b = { family, protocol, ports, prefixes: [], bulk: [], sets: [] }));
        for (const p of list) b.prefixes.push(p);
        if (bulkCount) b.bulk.push(s.bulk!);
        b.sets.push(s);
      }
      if (protocol === 'any' || !s.urls.length) continue;
      const key = ruleKey('url', protocol, ports);
      let u = urlBuckets.get(key);
      if (!u) urlBuckets.set(key, (u = { protocol, ports, hosts: new Map() }));
      for (const url of s.urls) {
        const h = u.hosts.get(url.host);
        if (h) h.sets.push(s);
        else u.hosts.set(url.host, { kind: url.kind, sets: [s] });
      }
    }
  }
  const total = buckets.size;
  onProgress?.('merge', 0, total);
  const rules: Rule[] = [...buckets.entries()].map(([key, b], i) => {
    const merged = mergeBucket(b);
    onProgress?.('merge', i + 1, total);
    const head = { key, family: b.family, protocol: b.protocol, ports: b.ports };
    const provenance = provenanceOf(b.sets);
    // a large list stays one block of text until someone reads the array
    return Array.isArray(merged)
      ? { ...head, prefixes: merged, provenance }
      : Object.assign(definePrefixes(head, merged), { provenance });
  });
  rules.sort(compareRules);
  const urlRules: UrlRule[] = [...urlBuckets.entries()].map(([key, u]) => ({
    key,
    protocol: u.protocol,
    ports: u.ports,
    entries: [...u.hosts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host, h]) => {
        const p = provenanceOf(h.sets);
        return { host, kind: h.kind, setIds: p.setIds, categories: p.categories };
      }),
  }));
  urlRules.sort((a, b) => compareRules({ ...a, family: 4 }, { ...b, family: 4 }));
  return { rules, urlRules, findings };
}

/**
 * Merge a bucket's prefix strings and bulk lists into one minimal cover. A bulk list may sit in
 * several buckets (TCP and UDP ports): it is merged once and its cover reused (mergedCover).
 */
function mergeBucket(b: Bucket): string[] | PrefixCover {
  if (!b.bulk.length) return mergePrefixes(b.family, b.prefixes);
  if (b.family === 6) {
    // one bulk list and nothing else (the common large case): merge it as it is, once
    if (b.bulk.length === 1 && !b.prefixes.length) return v6PrefixCover(b.bulk[0].v6.mergedCover());
    const acc = new V6Accumulator();
    for (const x of b.bulk) acc.addAll(x.v6);
    for (const p of b.prefixes) acc.addText(p);
    return v6PrefixCover(acc.mergedCover());
  }
  if (b.bulk.length === 1 && !b.prefixes.length) return v4PrefixCover(b.bulk[0].v4.mergedCover());
  const acc = new V4Accumulator();
  for (const x of b.bulk) acc.addAll(x.v4);
  for (const p of b.prefixes) acc.addText(p);
  return v4PrefixCover(acc.mergedCover());
}

/** Rules sort by family, protocol, then port set: stable across feed changes. */
export function compareRules(
  a: { family: Family; protocol: Protocol; ports: PortRange[]; key: string },
  b: { family: Family; protocol: Protocol; ports: PortRange[]; key: string },
): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  const n = Math.min(a.ports.length, b.ports.length);
  for (let i = 0; i < n; i++) {
    if (a.ports[i].from !== b.ports[i].from) return a.ports[i].from - b.ports[i].from;
    if (a.ports[i].to !== b.ports[i].to) return a.ports[i].to - b.ports[i].to;
  }
  return a.ports.length - b.ports.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
