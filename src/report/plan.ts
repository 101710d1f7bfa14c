import type { Finding } from '../model.js';
import { markdownCode, markdownText } from '../escape.js';
import { compareIds } from '../sources/o365json.js';
import type { Report, ReportRule } from './report.js';

/** What changed between a previous run's report and the one a compile would write now. */
export interface Plan {
  changed: boolean;
  /** a guard refused the change: nothing was written; the reason */
  refused?: string;
  previous: { input?: Report['input']; found: boolean };
  next: { input: Report['input'] };
  counts: {
    setsAdded: number;
    setsRemoved: number;
    setsModified: number;
    rulesAdded: number;
    rulesRemoved: number;
    rulesModified: number;
    prefixesAdded: number;
    prefixesRemoved: number;
    urlsAdded: number;
    urlsRemoved: number;
  };
  sets: SetChange[];
  rules: RuleChange[];
  urls: UrlChange[];
  targets: Record<
    string,
    {
      findingsAdded: Finding[];
      findingsRemoved: Finding[];
      contentChanged: boolean;
      added: boolean;
      removed: boolean;
    }
  >;
  /** Microsoft's /changes records since the previous version, cross-checked against the diff */
  microsoftChanges?: PlanChanges;
}
/** Microsoft's change records beside a plan (report/changes.ts makes them). */
export interface PlanChanges {
  /** the version the previous output was compiled from, and the new one */
  since: string;
  version: string;
  /** why there are no records (the request failed, or none could be asked for) */
  unavailable?: string;
  sets: {
    id: string;
    records: {
      id: string;
      disposition: string;
      impact?: string;
      version: string;
      effectiveDate?: string;
      /** the addition takes effect after the new version's date */
      future?: boolean;
      added: number;
      removed: number;
    }[];
  }[];
  /** what the diff was compared against when it is not the records since the previous version */
  basis?: string;
  unexplained: { setId: string; change: 'added' | 'removed' | 'changed'; entry: string }[];
}

export interface SetChange {
  id: string;
  change: 'added' | 'removed' | 'modified';
  serviceArea: string;
  category: string;
  added: { ips: string[]; urls: string[] };
  removed: { ips: string[]; urls: string[] };
  ports?: { tcp: [string, string]; udp: [string, string] };
  flags?: string[];
  /** the attributes behind flags, for the cross-check (not in plan.json) */
  attributes?: { field: string; before: string; after: string }[];
}
export interface RuleChange {
  key: string;
  change: 'added' | 'removed' | 'modified';
  /** ingress rules: their local side now (and before, when it changed) */
  direction?: 'ingress';
  local?: string;
  localBefore?: string;
  protocol: string;
  ports: string;
  addedPrefixes: string[];
  removedPrefixes: string[];
}
export interface UrlChange {
  rule: string;
  host: string;
  change: 'added' | 'removed' | 'moved';
  setIds: string[];
  previousSetIds?: string[];
}

const minus = (a: Iterable<string>, b: Iterable<string>): string[] => {
  const s = new Set(b);
  return [...a].filter((x) => !s.has(x));
};

function findingKey(f: Finding): string {
  return JSON.stringify([f.kind, f.setIds ?? [], f.entry ?? '', f.detail]);
}

/** Compare two reports on content only: provenance (input hash, version, tool) is not a change. */
export function diffReports(prev: Report | undefined, next: Report, refused?: string): Plan {
  const p: Report =
    prev ??
    ({ endpointSets: [], rules: [], urlRules: [], findings: [], targets: {} } as unknown as Report);
  const sets: SetChange[] = [];
  const prevSets = new Map(p.endpointSets.map((s) => [s.id, s]));
  const nextSets = new Map(next.endpointSets.map((s) => [s.id, s]));
  for (const id of new Set([...prevSets.keys(), ...nextSets.keys()])) {
    const a = prevSets.get(id),
      b = nextSets.get(id);
    const base = { id, serviceArea: (b ?? a)!.serviceArea, category: (b ?? a)!.category };
    if (!a) {
      sets.push({
        ...base,
        change: 'added',
        added: { ips: b!.ips, urls: b!.urls },
        removed: { ips: [], urls: [] },
      });
      continue;
    }
    if (!b) {
      sets.push({
        ...base,
        change: 'removed',
        added: { ips: [], urls: [] },
        removed: { ips: a.ips, urls: a.urls },
      });
      continue;
    }
    const c: SetChange = {
      ...base,
      change: 'modified',
      added: { ips: minus(b.ips, a.ips), urls: minus(b.urls, a.urls) },
      removed: { ips: minus(a.ips, b.ips), urls: minus(a.urls, b.urls) },
    };
    if (a.tcpPorts !== b.tcpPorts || a.udpPorts !== b.udpPorts)
      c.ports = { tcp: [a.tcpPorts, b.tcpPorts], udp: [a.udpPorts, b.udpPorts] };
    const flags = (['serviceArea', 'category', 'required', 'expressRoute'] as const)
      .filter((k) => a[k] !== b[k])
      .map((k) => `${k}: ${String(a[k])} → ${String(b[k])}`);
    if (flags.length) {
      c.flags = flags;
      Object.defineProperty(c, 'attributes', {
        enumerable: false,
        value: (['serviceArea', 'category', 'required', 'expressRoute'] as const)
          .filter((k) => a[k] !== b[k])
          .map((k) => ({ field: k, before: String(a[k]), after: String(b[k]) })),
      });
    }
    if (
      c.added.ips.length ||
      c.added.urls.length ||
      c.removed.ips.length ||
      c.removed.urls.length ||
      c.ports ||
      c.flags
    )
      sets.push(c);
  }
  sets.sort((x, y) => compareIds(x.id, y.id));

  const rules: RuleChange[] = [];
  const prevRules = new Map<string, ReportRule>(p.rules.map((r) => [r.key, r]));
  const nextRules = new Map<string, ReportRule>(next.rules.map((r) => [r.key, r]));
  for (const key of [...new Set([...prevRules.keys(), ...nextRules.keys()])].sort()) {
    const a = prevRules.get(key),
      b = nextRules.get(key);
    const r = (b ?? a)!;
    const added = minus(b?.prefixes ?? [], a?.prefixes ?? []),
      removed = minus(a?.prefixes ?? [], b?.prefixes ?? []);
    const change = !a ? 'added' : !b ? 'removed' : 'modified';
    const localOf = (x?: ReportRule) =>
      x?.local === undefined ? undefined : x.local === 'any' ? 'any' : x.local.join(',');
    const localMoved = !!a && !!b && localOf(a) !== localOf(b);
    if (change !== 'modified' || added.length || removed.length || localMoved)
      rules.push({
        key,
        change,
        ...(r.direction ? { direction: r.direction, local: localOf(r)! } : {}),
        ...(localMoved ? { localBefore: localOf(a) ?? 'any' } : {}),
        protocol: r.protocol,
        ports: r.ports,
        addedPrefixes: added,
        removedPrefixes: removed,
      });
  }

  const urls: UrlChange[] = [];
  const urlMap = (rep: Report) =>
    new Map(
      rep.urlRules.flatMap((u) =>
        u.entries.map(
          (e) => [`${u.key} ${e.host}`, { rule: u.key, host: e.host, setIds: e.setIds }] as const,
        ),
      ),
    );
  const pu = urlMap(p),
    nu = urlMap(next);
  for (const k of [...new Set([...pu.keys(), ...nu.keys()])].sort()) {
    const a = pu.get(k),
      b = nu.get(k);
    if (!a) urls.push({ ...b!, change: 'added' });
    else if (!b) urls.push({ ...a, change: 'removed' });
    else if (a.setIds.join(',') !== b.setIds.join(','))
      urls.push({ ...b, change: 'moved', previousSetIds: a.setIds });
  }

  const targets: Plan['targets'] = {};
  for (const name of [
    ...new Set([...Object.keys(p.targets ?? {}), ...Object.keys(next.targets)]),
  ].sort()) {
    const pf = p.findings.filter((f) => f.target === name),
      nf = next.findings.filter((f) => f.target === name);
    const pk = new Set(pf.map(findingKey)),
      nk = new Set(nf.map(findingKey));
    const pa = p.targets?.[name],
      na = next.targets[name];
    targets[name] = {
      added: !pa && !!na,
      removed: !!pa && !na,
      findingsAdded: nf.filter((f) => !pk.has(findingKey(f))),
      findingsRemoved: pf.filter((f) => !nk.has(findingKey(f))),
      contentChanged:
        !!pa &&
        !!na &&
        JSON.stringify(pa.artifacts.map((x) => [x.path, x.contentSha256])) !==
          JSON.stringify(na.artifacts.map((x) => [x.path, x.contentSha256])),
    };
  }
  const counts = {
    setsAdded: sets.filter((s) => s.change === 'added').length,
    setsRemoved: sets.filter((s) => s.change === 'removed').length,
    setsModified: sets.filter((s) => s.change === 'modified').length,
    rulesAdded: rules.filter((r) => r.change === 'added').length,
    rulesRemoved: rules.filter((r) => r.change === 'removed').length,
    rulesModified: rules.filter((r) => r.change === 'modified').length,
    prefixesAdded: rules.reduce((n, r) => n + r.addedPrefixes.length, 0),
    prefixesRemoved: rules.reduce((n, r) => n + r.removedPrefixes.length, 0),
    urlsAdded: urls.filter((u) => u.change === 'added').length,
    urlsRemoved: urls.filter((u) => u.change === 'removed').length,
  };
  const changed =
    sets.length > 0 ||
    rules.length > 0 ||
    urls.length > 0 ||
    Object.values(targets).some(
      (t) =>
        t.added ||
        t.removed ||
        t.contentChanged ||
        t.findingsAdded.length ||
        t.findingsRemoved.length,
    );
  return {
    changed,
    ...(refused ? { refused } : {}),
    previous: { input: prev?.input, found: !!prev },
    next: { input: next.input },
    counts,
    sets,
    rules,
    urls,
    targets,
  };
}

const md = (s: string) => markdownText(s);
const code = (s: string) => markdownCode(s);
const list = (xs: string[], max = 20) =>
  xs.length
    ? xs.slice(0, max).map(code).join(', ') + (xs.length > max ? ` … (+${xs.length - max})` : '')
    : '';

/** A Markdown summary fit for a pull-request comment. */
export function planMarkdown(plan: Plan): string {
  const c = plan.counts;
  const out: string[] = [];
  out.push(
    `## m365fw plan: ${plan.refused ? 'refused' : plan.changed ? 'changes' : 'no changes'}`,
    '',
  );
  if (plan.refused) out.push(`**Refused, nothing written:** ${md(plan.refused)}`, '');
  out.push(
    `Input ${code(plan.next.input.file)} (sha256 ${code(plan.next.input.sha256.slice(0, 12))}, instance ${md(plan.next.input.instance ?? 'unknown')}, version ${md(plan.next.input.version ?? 'unknown')})` +
      (plan.previous.found
        ? ` against ${code(plan.previous.input?.file ?? '?')} (sha256 ${code((plan.previous.input?.sha256 ?? '').slice(0, 12))}, version ${md(plan.previous.input?.version ?? 'unknown')}).`
        : '; no previous report.json: everything is new.'),
    '',
  );
  if (!plan.changed) {
    out.push('Nothing that any target enforces or reports has changed.');
    return out.join('\n') + '\n';
  }
  out.push(
    `| endpoint sets | rules | prefixes | URL entries |`,
    `| --- | --- | --- | --- |`,
    `| +${c.setsAdded} −${c.setsRemoved} ~${c.setsModified} | +${c.rulesAdded} −${c.rulesRemoved} ~${c.rulesModified} | +${c.prefixesAdded} −${c.prefixesRemoved} | +${c.urlsAdded} −${c.urlsRemoved} |`,
    '',
  );
  if (plan.sets.length) {
    out.push(
      '### Endpoint sets',
      '',
      '| set | change | added | removed | ports / flags |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const s of plan.sets) {
      const ports = [
        s.ports && s.ports.tcp[0] !== s.ports.tcp[1]
          ? `tcp ${s.ports.tcp[0] || '-'} → ${s.ports.tcp[1] || '-'}`
          : '',
        s.ports && s.ports.udp[0] !== s.ports.udp[1]
          ? `udp ${s.ports.udp[0] || '-'} → ${s.ports.udp[1] || '-'}`
          : '',
        ...(s.flags ?? []),
      ]
        .filter(Boolean)
        .join('; ');
      out.push(
        `| ${md(s.id)} (${md(s.serviceArea)}, ${md(s.category)}) | ${s.change} | ${list([...s.added.ips, ...s.added.urls])} | ${list([...s.removed.ips, ...s.removed.urls])} | ${md(ports)} |`,
      );
    }
    out.push('');
  }
  if (plan.rules.length) {
    out.push(
      '### Rules',
      '',
      '| rule | change | added prefixes | removed prefixes |',
      '| --- | --- | --- | --- |',
    );
    for (const r of plan.rules)
      out.push(
        `| ${code(r.key)} (${r.direction ? `ingress to ${r.localBefore !== undefined ? `${md(r.localBefore)} → ` : ''}${md(r.local ?? 'any')}, ` : ''}${md(r.protocol)} ${md(r.ports || 'any')}) | ${r.change} | ${list(r.addedPrefixes)} | ${list(r.removedPrefixes)} |`,
      );
    out.push('');
  }
  if (plan.urls.length) {
    out.push(
      '### URL entries',
      '',
      '| entry | ports bucket | change | sets |',
      '| --- | --- | --- | --- |',
    );
    for (const u of plan.urls)
      out.push(
        `| ${code(u.host)} | ${code(u.rule)} | ${u.change} | ${md(u.previousSetIds ? `${u.previousSetIds.join(',')} → ` : '')}${md(u.setIds.join(','))} |`,
      );
    out.push('');
  }
  const tl = Object.entries(plan.targets).filter(
    ([, t]) =>
      t.added ||
      t.removed ||
      t.contentChanged ||
      t.findingsAdded.length ||
      t.findingsRemoved.length,
  );
  if (tl.length) {
    out.push('### Targets', '', '| target | output | findings |', '| --- | --- | --- |');
    for (const [name, t] of tl) {
      const byKind = (fs: Finding[], sign: string) =>
        Object.entries(
          fs.reduce<Record<string, number>>(
            (m, f) => ({ ...m, [f.kind]: (m[f.kind] ?? 0) + 1 }),
            {},
          ),
        )
          .map(([k, n]) => `${sign}${n} ${md(k)}`)
          .join(', ');
      out.push(
        `| ${md(name)} | ${t.added ? 'new target' : t.removed ? 'no longer generated' : t.contentChanged ? 'changed' : 'same'} | ${[byKind(t.findingsAdded, '+'), byKind(t.findingsRemoved, '−')].filter(Boolean).join('; ')} |`,
      );
    }
    out.push('');
  }
  out.push(...changesMarkdown(plan.microsoftChanges));
  return out.join('\n') + '\n';
}

/** The change records section: per set, then what no record explains. */
function changesMarkdown(c: PlanChanges | undefined): string[] {
  if (!c) return [];
  const out = [`### Microsoft's change records (${md(c.since)} → ${md(c.version)})`, ''];
  if (c.unavailable)
    return [...out, `Not available: ${md(c.unavailable)}; the diff was not cross-checked.`, ''];
  if (c.basis) out.push(`Compared against: ${md(c.basis)}.`, '');
  if (c.sets.length) {
    out.push(
      '| set | record | disposition | impact | version | effective | + | − |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const s of c.sets)
      for (const r of s.records)
        out.push(
          `| ${md(s.id)} | ${md(r.id)} | ${md(r.disposition)} | ${md(r.impact ?? '')} | ${md(r.version)} | ${md(r.effectiveDate ?? '')}${r.future ? ' **(not yet in effect)**' : ''} | ${r.added} | ${r.removed} |`,
        );
    out.push('');
  } else out.push('No change records for this range.', '');
  if (c.unexplained.length) {
    out.push(
      `**${c.unexplained.length} changes no record explains** (a truncated or tampered feed shows this way):`,
      '',
      ...c.unexplained
        .slice(0, 200)
        .map((u) => `- set ${md(u.setId)} ${u.change} ${code(u.entry)}`),
      ...(c.unexplained.length > 200
        ? [`- … and ${c.unexplained.length - 200} more (plan.json has them all)`]
        : []),
      '',
    );
  } else
    out.push(
      'Every added and removed address and URL, and every port and flag change, is explained by a record.',
      '',
    );
  return out;
}
