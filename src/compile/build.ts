import { createHash } from 'node:crypto';
import {
  portBucket,
  provenanceOf,
  type EndpointSet,
  type Finding,
  type PortBucket,
  type Direction,
  type Protocol,
  type Rule,
  type UrlRule,
} from '../model.js';
import type { Family } from '../net/prefix.js';
import { PrefixSet } from '../net/prefixset.js';
import { portsText, type PortRange } from '../net/ports.js';

/** The longest rule key; leaves room for target prefixes such as "m365_" and "-tmp" in ipset's 31. */
export const MAX_RULE_KEY = 22;

/** Content-derived rule key, [a-z0-9_] only: "v4_tcp_80_443", "v6_udp_3478to3481", "v4_any". */
export function ruleKey(
  family: Family | 'url',
  protocol: Protocol,
  ports: readonly PortRange[],
  direction: Direction = 'egress',
): string {
  const head =
    (direction === 'ingress' ? 'in_' : '') +
    (family === 'url' ? `url_${protocol}` : `v${family}_${protocol}`);
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

/** The (protocol, ports) buckets a set's addresses and URLs go in. */
function bucketsOf(s: EndpointSet): PortBucket[] {
  if (s.addressOnly) return [portBucket('any', [])];
  const out: PortBucket[] = [];
  if (s.tcpPorts.length) out.push(portBucket('tcp', s.tcpPorts));
  if (s.udpPorts.length) out.push(portBucket('udp', s.udpPorts));
  return out;
}

/** Sets grouped by (family, port bucket) for IP rules and by port bucket for URL rules, before merging. */
export interface Buckets {
  ip: Map<
    string,
    {
      direction: Direction;
      family: Family;
      bucket: PortBucket;
      lists: PrefixSet[];
      sets: EndpointSet[];
      local?: PrefixSet;
    }
  >;
  url: Map<
    string,
    {
      bucket: UrlRule['bucket'];
      hosts: Map<string, { kind: EndpointSet['urls'][number]['kind']; sets: EndpointSet[] }>;
    }
  >;
}

/**
 * The bucket pass: sets by (family, port bucket), URLs by port bucket, provenance kept. A set with
 * addresses or URLs but no ports yields no rule and a finding (never all ports).
 */
export function bucketSets(
  sets: readonly EndpointSet[],
  ingress?: { sets: readonly EndpointSet[]; local?: { v4: PrefixSet; v6: PrefixSet } },
): {
  buckets: Buckets;
  findings: Finding[];
} {
  const buckets: Buckets = { ip: new Map(), url: new Map() };
  const findings: Finding[] = [];
  if (ingress)
    for (const f of bucketIngress(ingress.sets, ingress.local, buckets)) findings.push(f);
  for (const s of sets) {
    const of = bucketsOf(s);
    const nIps = s.prefixes.v4.given + s.prefixes.v6.given;
    if (of.length === 0 && (nIps || s.urls.length)) {
      findings.push({
        kind: 'dropped',
        setIds: [s.id],
        detail: `endpoint set has no TCP or UDP ports: ${nIps} prefixes and ${s.urls.length} URLs not rendered (never widened to all ports)`,
      });
      continue;
    }
    for (const bucket of of) {
      for (const family of [4, 6] as const) {
        const list = family === 4 ? s.prefixes.v4 : s.prefixes.v6;
        if (list.isEmpty) continue;
        const key = ruleKey(family, bucket.protocol, bucket.ports);
        let b = buckets.ip.get(key);
        if (!b)
          buckets.ip.set(key, (b = { direction: 'egress', family, bucket, lists: [], sets: [] }));
        b.lists.push(list);
        b.sets.push(s);
      }
      if (bucket.protocol === 'any' || !s.urls.length) continue;
      const key = ruleKey('url', bucket.protocol, bucket.ports);
      let u = buckets.url.get(key);
      if (!u) buckets.url.set(key, (u = { bucket: bucket as UrlRule['bucket'], hosts: new Map() }));
      for (const url of s.urls) {
        const h = u.hosts.get(url.host);
        if (h) h.sets.push(s);
        else u.hosts.set(url.host, { kind: url.kind, sets: [s] });
      }
    }
  }
  return { buckets, findings };
}

/**
 * Ingress buckets: the sets' prefixes as sources, by (family, local ports). With a local side
 * given, a family it has no prefix of yields no rule and a finding (never any local address).
 */
function bucketIngress(
  sets: readonly EndpointSet[],
  local: { v4: PrefixSet; v6: PrefixSet } | undefined,
  buckets: Buckets,
): Finding[] {
  const findings: Finding[] = [];
  for (const s of sets) {
    const of = bucketsOf(s);
    const nIps = s.prefixes.v4.given + s.prefixes.v6.given;
    if (of.length === 0) {
      if (nIps)
        findings.push({
          kind: 'dropped',
          setIds: [s.id],
          entry: 'ingress',
          detail: `no local ports left for ingress (the set's ports and the local ports share none): ${nIps} source prefixes not rendered (never widened to all ports)`,
        });
      continue;
    }
    for (const family of [4, 6] as const) {
      const list = family === 4 ? s.prefixes.v4 : s.prefixes.v6;
      if (list.isEmpty) continue;
      const to = local && (family === 4 ? local.v4 : local.v6);
      if (local && to!.isEmpty) {
        findings.push({
          kind: 'dropped',
          setIds: [s.id],
          entry: `ingress v${family}`,
          detail: `no local IPv${family} destination given: ${list.given} IPv${family} source prefixes not rendered for ingress (never to any local address)`,
        });
        continue;
      }
      for (const bucket of of) {
        const key = ruleKey(family, bucket.protocol, bucket.ports, 'ingress');
        let b = buckets.ip.get(key);
        if (!b)
          buckets.ip.set(
            key,
            (b = {
              direction: 'ingress',
              family,
              bucket,
              lists: [],
              sets: [],
              ...(to ? { local: to } : {}),
            }),
          );
        b.lists.push(list);
        b.sets.push(s);
      }
    }
  }
  return findings;
}

/** The merge pass: each bucket's prefixes merged losslessly into one rule; rules in a stable order. */
export function mergeBuckets(
  buckets: Buckets,
  onProgress?: (phase: string, done?: number, total?: number) => void,
): { rules: Rule[]; urlRules: UrlRule[] } {
  const total = buckets.ip.size;
  onProgress?.('merge', 0, total);
  const rules: Rule[] = [...buckets.ip.entries()].map(([key, b], i) => {
    const prefixes = PrefixSet.union(b.family, b.lists);
    // a large list is merged here, on first use, with the progress shown
    void prefixes.count;
    onProgress?.('merge', i + 1, total);
    return {
      key,
      direction: b.direction,
      family: b.family,
      bucket: b.bucket,
      prefixes,
      ...(b.local ? { local: b.local } : {}),
      provenance: provenanceOf(b.sets),
    };
  });
  rules.sort(compareRules);
  const urlRules: UrlRule[] = [...buckets.url.entries()].map(([key, u]) => ({
    key,
    bucket: u.bucket,
    entries: [...u.hosts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host, h]) => {
        const p = provenanceOf(h.sets);
        return { host, kind: h.kind, setIds: p.setIds, categories: p.categories };
      }),
  }));
  urlRules.sort((a, b) => compareRules({ ...a, family: 4 }, { ...b, family: 4 }));
  return { rules, urlRules };
}

/** Bucket and merge in one call. */
export function buildRules(
  sets: readonly EndpointSet[],
  onProgress?: (phase: string, done?: number, total?: number) => void,
): { rules: Rule[]; urlRules: UrlRule[]; findings: Finding[] } {
  const { buckets, findings } = bucketSets(sets);
  return { ...mergeBuckets(buckets, onProgress), findings };
}

/** Rules sort by direction (egress first), family, protocol, then port set: stable across feed changes. */
export function compareRules(
  x: { family: Family; bucket: PortBucket; key: string; direction?: Direction },
  y: { family: Family; bucket: PortBucket; key: string; direction?: Direction },
): number {
  const dx = x.direction === 'ingress' ? 1 : 0,
    dy = y.direction === 'ingress' ? 1 : 0;
  if (dx !== dy) return dx - dy;
  if (x.family !== y.family) return x.family - y.family;
  const a = x.bucket,
    b = y.bucket;
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  const n = Math.min(a.ports.length, b.ports.length);
  for (let i = 0; i < n; i++) {
    if (a.ports[i].from !== b.ports[i].from) return a.ports[i].from - b.ports[i].from;
    if (a.ports[i].to !== b.ports[i].to) return a.ports[i].to - b.ports[i].to;
  }
  return a.ports.length - b.ports.length || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
}
