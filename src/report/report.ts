import { createHash } from 'node:crypto';
import type { Artifact, Enforcement, Finding, RuleModel } from '../model.js';
import { portsText } from '../net/ports.js';
import { artifactPieces, indexOfInPieces, Pieces, piecesLength } from '../io/pieces.js';
import { PrefixSet } from '../net/prefixset.js';
import { TOOL_VERSION } from '../version.js';

export const REPORT_FILE = 'report.json';

export interface TargetRun {
  name: string;
  artifacts: Artifact[];
  findings: Finding[];
  inventory?: Record<string, unknown>;
  enforces: { rules: string[]; names: string[] };
  enforcement: Enforcement;
}

export interface Report {
  tool: { name: 'm365fw'; version: string };
  input: RuleModel['input'];
  options: Record<string, unknown>;
  summary: {
    setsIn: number;
    setsKept: number;
    prefixesIn: { v4: number; v6: number };
    prefixesMerged: { v4: number; v6: number };
    rules: number;
    urlEntries: number;
    findings: Record<string, number>;
  };
  targets: Record<
    string,
    {
      artifacts: { path: string; sha256: string; contentSha256: string; bytes: number }[];
      enforces?: { rules: string[]; names: string[] };
      /** what the output enforces once loaded (absent in reports before 0.4.0) */
      enforcement?: Enforcement;
      inventory?: Record<string, unknown>;
    }
  >;
  endpointSets: ReportSet[];
  rules: ReportRule[];
  urlRules: {
    key: string;
    protocol: string;
    ports: string;
    entries: { host: string; kind: string; setIds: string[] }[];
  }[];
  findings: Finding[];
}

export interface ReportSet {
  id: string;
  serviceArea: string;
  category: string;
  required: boolean;
  expressRoute: boolean;
  tcpPorts: string;
  udpPorts: string;
  ips: string[];
  ipCount: number;
  urls: string[];
  reason?: string;
  origin: string;
}
export interface ReportRule {
  key: string;
  /** ingress rules only (absent: egress) */
  direction?: 'ingress';
  /** ingress rules only: the local destinations, or any */
  local?: readonly string[] | 'any';
  family: number;
  protocol: string;
  ports: string;
  /** as read back from a report: strings; as compiled: the rule's own set (written as its list) */
  prefixes: readonly string[] | PrefixSet;
  provenance: RuleModel['rules'][number]['provenance'];
}

function findingOrder(a: Finding, b: Finding): number {
  const ka = `${a.target ?? ''}\u0000${a.kind}\u0000${(a.setIds ?? []).join(',')}\u0000${a.entry ?? ''}\u0000${a.detail}`;
  const kb = `${b.target ?? ''}\u0000${b.kind}\u0000${(b.setIds ?? []).join(',')}\u0000${b.entry ?? ''}\u0000${b.detail}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** sha256 of an artifact without its provenance lines: what plan compares. */
export function contentHash(content: string | readonly Uint8Array[], header: string[]): string {
  const pieces = typeof content === 'string' ? [Buffer.from(content, 'utf8')] : content;
  // each header line (printable ASCII) appears once, near the top: hash the bytes around them
  const cuts = header
    .map((l) => [indexOfInPieces(pieces, l), l.length])
    .filter(([at]) => at >= 0)
    .sort((a, b) => a[0] - b[0]);
  const keep: [number, number][] = [];
  let pos = 0;
  for (const [at, len] of cuts) {
    if (at >= pos) {
      keep.push([pos, at]);
      pos = at + len;
    }
  }
  keep.push([pos, Infinity]);
  const h = createHash('sha256');
  let base = 0;
  for (const p of pieces) {
    const end = base + p.length;
    for (const [from, to] of keep) {
      const a = Math.max(from, base),
        b = Math.min(to, end);
      if (a < b) h.update(p.subarray(a - base, b - base));
    }
    base = end;
  }
  return h.digest('hex');
}

function sha256Pieces(pieces: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of pieces) h.update(p);
  return h.digest('hex');
}

/** Per target: its files with their hashes (the content one without provenance), what it enforces. */
function reportTargets(runs: TargetRun[], header: string[]): Report['targets'] {
  return Object.fromEntries(
    runs.map((r) => [
      r.name,
      {
        artifacts: r.artifacts.map((a) => {
          const pieces = artifactPieces(a);
          // a file that also carries the way from the previous run (PAN-OS deletes) is compared without it
          const content = a.bodySha256 ?? contentHash(a.stableContent ?? pieces, header);
          return {
            path: a.path,
            sha256: sha256Pieces(pieces),
            contentSha256: content,
            bytes: piecesLength(pieces),
          };
        }),
        enforces: { rules: [...r.enforces.rules].sort(), names: [...r.enforces.names].sort() },
        enforcement: r.enforcement,
        ...(r.inventory ? { inventory: r.inventory } : {}),
      },
    ]),
  );
}

/** The endpoint sets as the report keeps them (a plain prefix list's addresses are its rules). */
function reportSets(model: RuleModel): ReportSet[] {
  return model.sets.map((s) => {
    const ips = [...s.prefixes.v4, ...s.prefixes.v6];
    const out: ReportSet = {
      id: s.id,
      serviceArea: s.serviceArea,
      category: s.category,
      required: s.required,
      expressRoute: s.expressRoute,
      tcpPorts: portsText(s.tcpPorts),
      udpPorts: portsText(s.udpPorts),
      // a plain prefix list is its rules: not repeated here
      ips: s.origin === 'prefixes' ? [] : ips,
      ipCount: ips.length,
      urls: s.urls.map((u) => u.host),
      origin: s.origin,
    };
    if (s.reason) out.reason = s.reason;
    return out;
  });
}

/** The run report: provenance, counts, the model (for plan) and every finding, deterministic. */
export function buildReport(
  model: RuleModel,
  runs: TargetRun[],
  options: Record<string, unknown>,
  header: string[] = [],
): Report {
  const findings = [...model.findings, ...runs.flatMap((r) => r.findings)].sort(findingOrder);
  const byKind: Record<string, number> = {};
  for (const f of findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    tool: { name: 'm365fw', version: TOOL_VERSION },
    input: model.input,
    options,
    summary: {
      setsIn: model.stats.setsIn,
      setsKept: model.stats.setsKept,
      prefixesIn: model.stats.prefixesIn,
      prefixesMerged: model.stats.prefixesMerged,
      rules: model.rules.length,
      urlEntries: model.urlRules.reduce((n, u) => n + u.entries.length, 0),
      findings: Object.fromEntries(Object.entries(byKind).sort()),
    },
    targets: reportTargets(runs, header),
    endpointSets: reportSets(model),
    rules: model.rules.map((r) => ({
      key: r.key,
      // egress rules as before (reports of earlier versions read the same); ingress says so
      ...(r.direction === 'ingress'
        ? { direction: r.direction, local: r.local ? r.local.toArray() : 'any' }
        : {}),
      family: r.family,
      protocol: r.bucket.protocol,
      ports: portsText(r.bucket.ports),
      prefixes: r.prefixes,
      provenance: r.provenance,
    })),
    urlRules: model.urlRules.map((u) => ({
      key: u.key,
      protocol: u.bucket.protocol,
      ports: portsText(u.bucket.ports),
      entries: u.entries.map((e) => ({ host: e.host, kind: e.kind, setIds: e.setIds })),
    })),
    findings,
  };
}

/** The same JSON as UTF-8 pieces: large prefix lists are written as bytes, not strings. */
export function reportPieces(r: Report): Uint8Array[] {
  // Large prefix lists are spliced in: same text as JSON.stringify gives, far cheaper.
  // Canonical prefixes hold only [0-9a-f.:/], so they need no escaping.
  const lists: PrefixSet[] = [];
  const slim = {
    ...r,
    rules: r.rules.map((rule) =>
      rule.prefixes instanceof PrefixSet && rule.prefixes.count > 1000
        ? {
            key: rule.key,
            ...(rule.direction ? { direction: rule.direction, local: rule.local } : {}),
            family: rule.family,
            protocol: rule.protocol,
            ports: rule.ports,
            prefixes: `\u0000list${lists.push(rule.prefixes) - 1}`,
            provenance: rule.provenance,
          }
        : rule,
    ),
  };
  const text = JSON.stringify(slim, null, 2) + '\n';
  const out = new Pieces();
  const spot = /( *)"prefixes": "\\u0000list([0-9]+)"/g;
  let pos = 0;
  for (let m = spot.exec(text); m; m = spot.exec(text)) {
    const [, indent, k] = m;
    const inner = `${indent}  `;
    out.add(text.slice(pos, m.index)).add(`${indent}"prefixes": [\n${inner}"`);
    // rule prefixes are printed by our own formatters from parsed numbers: [0-9a-f.:/] only
    out.add(lists[Number(k)].bytes(`",\n${inner}"`)).add(`"\n${indent}]`);
    pos = m.index + m[0].length;
  }
  out.add(text.slice(pos));
  return out.done();
}
