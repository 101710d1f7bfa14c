import { createHash } from 'node:crypto';
import type { Artifact, Finding, RuleModel } from '../model.js';
import { portsText } from '../net/ports.js';
import { copyPrefixes, joinPrefixes, prefixCount } from '../net/prefixtext.js';
import { TOOL_VERSION } from '../version.js';

export const REPORT_FILE = 'report.json';

export interface TargetRun { name: string; artifacts: Artifact[]; findings: Finding[] }

export interface Report {
  tool: { name: 'm365fw'; version: string };
  input: RuleModel['input'];
  options: Record<string, unknown>;
  summary: {
    setsIn: number; setsKept: number;
    prefixesIn: { v4: number; v6: number }; prefixesMerged: { v4: number; v6: number };
    rules: number; urlEntries: number;
    findings: Record<string, number>;
  };
  targets: Record<string, { artifacts: { path: string; sha256: string; contentSha256: string; bytes: number }[] }>;
  endpointSets: ReportSet[];
  rules: ReportRule[];
  urlRules: { key: string; protocol: string; ports: string; entries: { host: string; kind: string; setIds: string[] }[] }[];
  findings: Finding[];
}

export interface ReportSet {
  id: string; serviceArea: string; category: string; required: boolean; expressRoute: boolean;
  tcpPorts: string; udpPorts: string; ips: string[]; ipCount: number; urls: string[]; reason?: string; origin: string;
}
export interface ReportRule { key: string; family: number; protocol: string; ports: string; prefixes: string[]; provenance: RuleModel['rules'][number]['provenance'] }

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function findingOrder(a: Finding, b: Finding): number {
  const ka = `${a.target ?? ''}\u0000${a.kind}\u0000${(a.setIds ?? []).join(',')}\u0000${a.entry ?? ''}\u0000${a.detail}`;
  const kb = `${b.target ?? ''}\u0000${b.kind}\u0000${(b.setIds ?? []).join(',')}\u0000${b.entry ?? ''}\u0000${b.detail}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** An artifact's UTF-8 bytes, encoded once and kept on the artifact. */
export function artifactBytes(a: Artifact): Buffer {
  return (a.bytes ??= Buffer.from(a.content, 'utf8'));
}

/** sha256 of an artifact without its provenance lines: what plan compares. */
export function contentHash(content: string | Buffer, header: string[]): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  // each header line (printable ASCII) appears once, near the top: hash the bytes between them
  const cuts = header.map((l) => [bytes.indexOf(l, 0, 'latin1'), l.length]).filter(([at]) => at >= 0).sort((a, b) => a[0] - b[0]);
  const h = createHash('sha256');
  let pos = 0;
  for (const [at, len] of cuts) { if (at >= pos) { h.update(bytes.subarray(pos, at)); pos = at + len; } }
  h.update(bytes.subarray(pos));
  return h.digest('hex');
}

/** The run report: provenance, counts, the model (for plan) and every finding, deterministic. */
export function buildReport(model: RuleModel, runs: TargetRun[], options: Record<string, unknown>, header: string[] = []): Report {
  const findings = [...model.findings, ...runs.flatMap((r) => r.findings)].sort(findingOrder);
  const byKind: Record<string, number> = {};
  for (const f of findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    tool: { name: 'm365fw', version: TOOL_VERSION },
    input: model.input,
    options,
    summary: {
      setsIn: model.stats.setsIn, setsKept: model.stats.setsKept,
      prefixesIn: model.stats.prefixesIn, prefixesMerged: model.stats.prefixesMerged,
      rules: model.rules.length,
      urlEntries: model.urlRules.reduce((n, u) => n + u.entries.length, 0),
      findings: Object.fromEntries(Object.entries(byKind).sort()),
    },
    targets: Object.fromEntries(runs.map((r) => [r.name, {
      artifacts: r.artifacts.map((a) => {
        const bytes = artifactBytes(a);
        return { path: a.path, sha256: sha(bytes), contentSha256: contentHash(bytes, header), bytes: bytes.length };
      }),
    }])),
    endpointSets: model.sets.map((s) => {
      const ips = [...s.ips.v4, ...s.ips.v6];
      const out: ReportSet = {
        id: s.id, serviceArea: s.serviceArea, category: s.category, required: s.required, expressRoute: s.expressRoute,
        tcpPorts: portsText(s.tcpPorts), udpPorts: portsText(s.udpPorts),
        // a plain prefix list is its rules: not repeated here
        ips: s.origin === 'prefixes' ? [] : ips, ipCount: ips.length,
        urls: s.urls.map((u) => u.host), origin: s.origin,
      };
      if (s.reason) out.reason = s.reason;
      return out;
    }),
    rules: model.rules.map((r) => Object.assign(copyPrefixes(r, { key: r.key, family: r.family, protocol: r.protocol, ports: portsText(r.ports) }), { provenance: r.provenance })),
    urlRules: model.urlRules.map((u) => ({ key: u.key, protocol: u.protocol, ports: portsText(u.ports), entries: u.entries.map((e) => ({ host: e.host, kind: e.kind, setIds: e.setIds })) })),
    findings,
  };
}

/** Stable JSON: two-space indent, LF, trailing newline. */
export function reportJson(r: Report): string {
  // Large prefix lists are spliced in pre-joined: same text as JSON.stringify gives, far cheaper.
  // Canonical prefixes hold only [0-9a-f.:/], so they need no escaping.
  const lists: ReportRule[] = [];
  const slim = { ...r, rules: r.rules.map((rule) => (prefixCount(rule) > 1000 ? { key: rule.key, family: rule.family, protocol: rule.protocol, ports: rule.ports, prefixes: `\u0000list${lists.push(rule) - 1}`, provenance: rule.provenance } : rule)) };
  let text = JSON.stringify(slim, null, 2);
  if (lists.length) {
    text = text.replace(/( *)"prefixes": "\\u0000list([0-9]+)"/g, (_m, indent: string, k: string) => {
      const rule = lists[Number(k)];
      const inner = `${indent}  `;
      // rule prefixes are printed by our own formatters from parsed numbers: [0-9a-f.:/] only
      const body = joinPrefixes(rule, `",\n${inner}"`);
      return `${indent}"prefixes": [\n${inner}"${body}"\n${indent}]`;
    });
  }
  return text + '\n';
}
