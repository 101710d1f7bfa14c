import { markdownCode, markdownText, terminalText } from '../escape.js';
import { subtractPrefixes } from '../net/merge.js';
import { compareIds, type Finding } from '../model.js';
import type { Report, ReportRule } from './report.js';

/** What changed between a previous run's report and the one a compile would write now. */
export interface Plan {
  /** anything a target enforces or reports differs (set ids and other provenance do not count) */
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
    /** sets that only changed id, and entries that only moved between sets */
    setsRenumbered: number;
    entriesMoved: number;
  };
  sets: SetChange[];
  /** policy findings (excludes, overrides) that appear or go, with their reasons */
  policy: { added: Finding[]; removed: Finding[] };
  /** provenance only: what no target enforces differently */
  moves: {
    renumbered: { from: string; to: string }[];
    entries: { entry: string; from: string[]; to: string[] }[];
  };
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

/** A finding as it bears on the device: the set ids it names are provenance, not content. */
function findingKey(f: Finding): string {
  return JSON.stringify([f.kind, f.entry ?? '', f.detail]);
}

const EMPTY_REPORT = {
  endpointSets: [],
  rules: [],
  urlRules: [],
  findings: [],
  targets: {},
  options: {},
} as unknown as Report;

function setChanges(p: Report, next: Report): SetChange[] {
  const sets: SetChange[] = [];
  const prevSets = new Map(p.endpointSets.map((s) => [s.id, s]));
  const nextSets = new Map(next.endpointSets.map((s) => [s.id, s]));
  for (const id of new Set([...prevSets.keys(), ...nextSets.keys()])) {
    const a = prevSets.get(id),
      b = nextSets.get(id);
    const base = { id, serviceArea: (b ?? a)!.serviceArea, category: (b ?? a)!.category };
    const none = { ips: [], urls: [] };
    if (!a || !b) {
      const s = (a ?? b)!;
      const all = { ips: s.ips, urls: s.urls };
      sets.push({
        ...base,
        change: a ? 'removed' : 'added',
        added: a ? none : all,
        removed: a ? all : none,
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
    const moved = (['serviceArea', 'category', 'required', 'expressRoute'] as const).filter(
      (k) => a[k] !== b[k],
    );
    if (moved.length) {
      c.flags = moved.map((k) => `${k}: ${String(a[k])} → ${String(b[k])}`);
      Object.defineProperty(c, 'attributes', {
        enumerable: false,
        value: moved.map((k) => ({ field: k, before: String(a[k]), after: String(b[k]) })),
      });
    }
    const entries = c.added.ips.length + c.added.urls.length + c.removed.ips.length;
    if (entries + c.removed.urls.length || c.ports || c.flags) sets.push(c);
  }
  return sets.sort((x, y) => compareIds(x.id, y.id));
}

const localOf = (x?: ReportRule) =>
  x?.local === undefined ? undefined : x.local === 'any' ? 'any' : x.local.join(',');

/**
 * Per rule, the address space added and removed (a prefix the merge split or joined is neither),
 * and a moved local side for ingress rules.
 */
function ruleChanges(p: Report, next: Report): RuleChange[] {
  const rules: RuleChange[] = [];
  const prevRules = new Map<string, ReportRule>(p.rules.map((r) => [r.key, r]));
  const nextRules = new Map<string, ReportRule>(next.rules.map((r) => [r.key, r]));
  for (const key of [...new Set([...prevRules.keys(), ...nextRules.keys()])].sort()) {
    const a = prevRules.get(key),
      b = nextRules.get(key);
    const r = (b ?? a)!;
    const A = minus(b?.prefixes ?? [], a?.prefixes ?? []),
      R = minus(a?.prefixes ?? [], b?.prefixes ?? []);
    // covers are disjoint: what the next cover adds to the space is A without R, and back
    const fam = r.family === 6 ? 6 : 4;
    const added = A.length && R.length ? subtractPrefixes(fam, A, R) : A;
    const removed = A.length && R.length ? subtractPrefixes(fam, R, A) : R;
    const change = !a ? 'added' : !b ? 'removed' : 'modified';
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
  return rules;
}

function urlChanges(p: Report, next: Report): UrlChange[] {
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
  return urls;
}

function targetChanges(p: Report, next: Report): Plan['targets'] {
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
      // a finding whose set ids alone changed is the same finding
      findingsAdded: nf.filter((f) => !pk.has(findingKey(f))),
      findingsRemoved: pf.filter((f) => !nk.has(findingKey(f))),
      contentChanged:
        !!pa &&
        !!na &&
        JSON.stringify(pa.artifacts.map((x) => [x.path, x.contentSha256])) !==
          JSON.stringify(na.artifacts.map((x) => [x.path, x.contentSha256])),
    };
  }
  return targets;
}

/**
 * What a device would hold and report, with the set ids left out: rules and their addresses,
 * URL entries with the attributes of their sets (a PAC file routes by category), findings,
 * the options, and per target its files and what it enforces. Equal keys: the targets are the
 * same functions of the same content, so their outputs differ in provenance comments at most.
 */
function enforcedKey(r: Report): string {
  const sets = new Map(r.endpointSets.map((s) => [s.id, s]));
  const attrs = (ids: string[]) =>
    [
      ...new Set(
        ids.map((id) => {
          const s = sets.get(id);
          return s ? `${s.serviceArea}|${s.category}|${s.required}|${s.expressRoute}` : id;
        }),
      ),
    ].sort();
  return JSON.stringify([
    r.options ?? {},
    r.rules.map((x) => [
      x.key,
      x.direction ?? '',
      localOf(x) ?? '',
      [...x.prefixes],
      x.provenance.serviceAreas,
      x.provenance.categories,
      x.provenance.required,
    ]),
    r.urlRules.map((u) => [u.key, u.entries.map((e) => [e.host, e.kind, attrs(e.setIds)])]),
    r.findings.map((f) => [f.target ?? '', findingKey(f)]).sort(),
    Object.entries(r.targets ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([n, t]) => [n, t.artifacts.map((a) => a.path), t.enforcement ?? null]),
  ]);
}

/**
 * Entries that left one set and joined another, and sets that only changed id: provenance, which
 * the Markdown folds into one line each and no count takes for an addition or a removal.
 */
function movesOf(sets: SetChange[]): Plan['moves'] {
  const sig = (x: { ips: string[]; urls: string[] }) =>
    JSON.stringify([[...x.ips].sort(), [...x.urls].sort()]);
  const gone = sets.filter((s) => s.change === 'removed');
  const renumbered: { from: string; to: string }[] = [];
  const used = new Set<string>();
  for (const s of sets.filter((x) => x.change === 'added')) {
    const twin = gone.find(
      (g) =>
        !used.has(g.id) &&
        sig(g.removed) === sig(s.added) &&
        g.serviceArea === s.serviceArea &&
        g.category === s.category,
    );
    if (twin) {
      used.add(twin.id);
      renumbered.push({ from: twin.id, to: s.id });
    }
  }
  const from = new Map<string, string[]>(),
    to = new Map<string, string[]>();
  const folded = new Set([...renumbered.flatMap((r) => [r.from, r.to])]);
  for (const s of sets) {
    if (folded.has(s.id)) continue;
    for (const e of [...s.removed.ips, ...s.removed.urls])
      from.set(e, [...(from.get(e) ?? []), s.id]);
    for (const e of [...s.added.ips, ...s.added.urls]) to.set(e, [...(to.get(e) ?? []), s.id]);
  }
  const entries = [...from.keys()]
    .filter((e) => to.has(e))
    .sort()
    .map((entry) => ({ entry, from: from.get(entry)!, to: to.get(entry)! }));
  return { renumbered, entries };
}

function policyChanges(p: Report, next: Report): Plan['policy'] {
  const global = (r: Report) => r.findings.filter((f) => !f.target);
  const pk = new Set(global(p).map(findingKey)),
    nk = new Set(global(next).map(findingKey));
  return {
    added: global(next).filter((f) => !pk.has(findingKey(f))),
    removed: global(p).filter((f) => !nk.has(findingKey(f))),
  };
}

const hostsOf = (r: Report) => [
  ...new Set(r.urlRules.flatMap((u) => u.entries.map((e) => e.host))),
];

/** Distinct address blocks added and removed over all rules, per family, by address space. */
function spaceCounts(p: Report, next: Report): { prefixesAdded: number; prefixesRemoved: number } {
  let added = 0,
    removed = 0;
  for (const fam of [4, 6] as const) {
    const all = (r: Report) =>
      r.rules.filter((x) => x.family === fam).flatMap((x) => [...x.prefixes]);
    const a = all(next),
      b = all(p);
    added += subtractPrefixes(fam, a, b).length;
    removed += subtractPrefixes(fam, b, a).length;
  }
  return { prefixesAdded: added, prefixesRemoved: removed };
}

/**
 * Compare two reports on content only: provenance (input hash, version, tool, set ids) is not a
 * change. `changed` is whether anything a target enforces or reports differs.
 */
export function diffReports(prev: Report | undefined, next: Report, refused?: string): Plan {
  const p: Report = prev ?? EMPTY_REPORT;
  const sets = setChanges(p, next);
  const rules = ruleChanges(p, next);
  const urls = urlChanges(p, next);
  const targets = targetChanges(p, next);
  const moves = movesOf(sets);
  const counts = {
    setsAdded: sets.filter((s) => s.change === 'added').length - moves.renumbered.length,
    setsRemoved: sets.filter((s) => s.change === 'removed').length - moves.renumbered.length,
    setsModified: sets.filter((s) => s.change === 'modified').length,
    setsRenumbered: moves.renumbered.length,
    entriesMoved: moves.entries.length,
    rulesAdded: rules.filter((r) => r.change === 'added').length,
    rulesRemoved: rules.filter((r) => r.change === 'removed').length,
    rulesModified: rules.filter((r) => r.change === 'modified').length,
    // the address space and the hosts of all rules together: a prefix or a host that changed rule
    // (its ports changed) is neither added nor removed; the rules table says where it went
    ...spaceCounts(p, next),
    urlsAdded: minus(hostsOf(next), hostsOf(p)).length,
    urlsRemoved: minus(hostsOf(p), hostsOf(next)).length,
  };
  const changed = !prev || enforcedKey(p) !== enforcedKey(next);
  return {
    changed,
    ...(refused ? { refused } : {}),
    previous: { input: prev?.input, found: !!prev },
    next: { input: next.input },
    counts,
    sets,
    policy: policyChanges(p, next),
    moves,
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

const LEGEND =
  'Legend: `+` added, `−` removed, `~` changed in place (same set id or rule; for findings, as many in as out, over other entries), `a → b` before and after. ' +
  'Prefixes count the address blocks allowed before or after and not both, over all rules (a prefix the merge split or joined, or one that only changed rule, is neither added nor removed); URL entries count hosts the same way. ' +
  'Set ids are provenance: a set that only changed id, or an entry that only moved between sets, is listed under Moved, not as an addition and a removal.';

/** The verdict of a guard as plain text a reviewer reads: a fenced block, nothing escaped or cut. */
function verdictMarkdown(refused: string): string[] {
  // one line (terminalText shows controls as \uXXXX), no backtick to close the fence
  const plain = terminalText(refused, 4000).replace(/`/g, "'");
  return ['**Refused: nothing was written.** The verdict:', '', '```text', plain, '```', ''];
}

function inputLine(plan: Plan): string {
  const i = plan.next.input,
    p = plan.previous.input;
  return (
    `Input ${code(i.file)} (sha256 ${code(i.sha256.slice(0, 12))}, instance ${md(i.instance ?? 'unknown')}, version ${md(i.version ?? 'unknown')})` +
    (plan.previous.found
      ? ` against ${code(p?.file ?? '?')} (sha256 ${code((p?.sha256 ?? '').slice(0, 12))}, version ${md(p?.version ?? 'unknown')}).`
      : '; no previous report.json: everything is new.')
  );
}

function countsTable(c: Plan['counts']): string[] {
  const moved = [
    c.setsRenumbered
      ? `${c.setsRenumbered} ${c.setsRenumbered === 1 ? 'set' : 'sets'} renumbered`
      : '',
    c.entriesMoved ? `${c.entriesMoved} ${c.entriesMoved === 1 ? 'entry' : 'entries'} moved` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return [
    '| endpoint sets | rules | prefixes | URL entries | moved between sets |',
    '| --- | --- | --- | --- | --- |',
    `| +${c.setsAdded} −${c.setsRemoved} ~${c.setsModified} | +${c.rulesAdded} −${c.rulesRemoved} ~${c.rulesModified} | +${c.prefixesAdded} −${c.prefixesRemoved} | +${c.urlsAdded} −${c.urlsRemoved} | ${moved || 'none'} |`,
    '',
  ];
}

/** The sets table without what only moved: renumbered sets and moved entries are folded away. */
function setsMarkdown(plan: Plan): string[] {
  const renumbered = new Set(plan.moves.renumbered.flatMap((r) => [r.from, r.to]));
  const moved = new Set(plan.moves.entries.map((e) => e.entry));
  const rows: string[] = [];
  for (const s of plan.sets) {
    if (renumbered.has(s.id)) continue;
    const added = [...s.added.ips, ...s.added.urls].filter((e) => !moved.has(e));
    const removed = [...s.removed.ips, ...s.removed.urls].filter((e) => !moved.has(e));
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
    if (!added.length && !removed.length && !ports) continue;
    const sign = s.change === 'added' ? '+' : s.change === 'removed' ? '−' : '~';
    rows.push(
      `| ${md(s.id)} (${md(s.serviceArea)}, ${md(s.category)}) | ${sign} | ${list(added)} | ${list(removed)} | ${md(ports)} |`,
    );
  }
  if (!rows.length) return [];
  return [
    '### Endpoint sets',
    '',
    '| set | change | added | removed | ports / flags |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}

/** Set ids that changed and entries that moved between sets, one line per move. */
function movesMarkdown(plan: Plan): string[] {
  const { renumbered, entries } = plan.moves;
  if (!renumbered.length && !entries.length) return [];
  const out = [
    '### Moved between sets',
    '',
    'Set ids are provenance: what a move changes in the rules, if anything, is in the sections above.',
    '',
  ];
  if (renumbered.length)
    out.push(
      `- sets renumbered: ${renumbered.map((r) => `${md(r.from)} → ${md(r.to)}`).join(', ')}`,
    );
  const byMove = new Map<string, string[]>();
  for (const e of entries) {
    const k = `${e.from.join(',')} → ${e.to.join(',')}`;
    byMove.set(k, [...(byMove.get(k) ?? []), e.entry]);
  }
  for (const [k, es] of byMove) out.push(`- sets ${md(k)}: ${list(es)}`);
  return [...out, ''];
}

function rulesMarkdown(plan: Plan): string[] {
  if (!plan.rules.length) return [];
  const out = [
    '### Rules',
    '',
    '| rule | change | added prefixes | removed prefixes |',
    '| --- | --- | --- | --- |',
  ];
  for (const r of plan.rules) {
    const sign = r.change === 'added' ? '+' : r.change === 'removed' ? '−' : '~';
    const ingress = r.direction
      ? `ingress to ${r.localBefore !== undefined ? `${md(r.localBefore)} → ` : ''}${md(r.local ?? 'any')}, `
      : '';
    out.push(
      `| ${code(r.key)} (${ingress}${md(r.protocol)} ${md(r.ports || 'any')}) | ${sign} | ${list(r.addedPrefixes)} | ${list(r.removedPrefixes)} |`,
    );
  }
  return [...out, ''];
}

function urlsMarkdown(plan: Plan): string[] {
  const urls = plan.urls.filter((u) => u.change !== 'moved');
  if (!urls.length) return [];
  return [
    '### URL entries',
    '',
    '| entry | ports bucket | change | sets |',
    '| --- | --- | --- | --- |',
    ...urls.map(
      (u) =>
        `| ${code(u.host)} | ${code(u.rule)} | ${u.change === 'added' ? '+' : '−'} | ${md(u.setIds.join(','))} |`,
    ),
    '',
  ];
}

/** Policy findings (excludes, overrides, excludes that match nothing) that appear or go, with their reasons. */
function policyMarkdown(plan: Plan): string[] {
  const { added, removed } = plan.policy;
  if (!added.length && !removed.length) return [];
  const row = (sign: string) => (f: Finding) =>
    `| ${sign} | ${md(f.kind)} | ${f.entry ? code(f.entry) : ''} | ${md((f.setIds ?? []).join(','))} | ${md(f.detail)} |`;
  return [
    '### Policy',
    '',
    '| | kind | entry | sets | reason |',
    '| --- | --- | --- | --- | --- |',
    ...added.map(row('+')),
    ...removed.map(row('−')),
    '',
  ];
}

function targetsMarkdown(plan: Plan): string[] {
  const tl = Object.entries(plan.targets).filter(
    ([, t]) =>
      t.added ||
      t.removed ||
      t.contentChanged ||
      t.findingsAdded.length ||
      t.findingsRemoved.length,
  );
  if (!tl.length) return [];
  const out = ['### Targets', '', '| target | output | findings |', '| --- | --- | --- |'];
  for (const [name, t] of tl) {
    const count = (fs: Finding[]) =>
      fs.reduce<Record<string, number>>((m, f) => ({ ...m, [f.kind]: (m[f.kind] ?? 0) + 1 }), {});
    const plus = count(t.findingsAdded),
      gone = count(t.findingsRemoved);
    // per kind: as many in as out is the same count over other entries (~), never "+3; −3"
    const findings = [...new Set([...Object.keys(plus), ...Object.keys(gone)])]
      .sort()
      .map((k) => {
        const a = plus[k] ?? 0,
          r = gone[k] ?? 0;
        const n =
          a === r ? `~${a}` : [a ? `+${a}` : '', r ? `−${r}` : ''].filter(Boolean).join(' ');
        return `${n} ${md(k)}`;
      })
      .join(', ');
    const output = t.added
      ? 'new target'
      : t.removed
        ? 'no longer generated'
        : t.contentChanged
          ? 'changed'
          : 'same';
    out.push(`| ${md(name)} | ${output} | ${findings} |`);
  }
  return [...out, ''];
}

/** A Markdown summary fit for a pull-request comment. */
export function planMarkdown(plan: Plan): string {
  const verdict = plan.refused ? 'refused' : plan.changed ? 'changes' : 'no changes';
  const out: string[] = [`## m365fw plan: ${verdict}`, ''];
  if (plan.refused) out.push(...verdictMarkdown(plan.refused));
  out.push(inputLine(plan), '');
  if (!plan.changed) {
    out.push('Nothing that any target enforces or reports has changed.', '');
    out.push(...movesMarkdown(plan));
    return out.join('\n').replace(/\n+$/, '\n');
  }
  out.push(LEGEND, '', ...countsTable(plan.counts));
  out.push(...setsMarkdown(plan), ...policyMarkdown(plan), ...rulesMarkdown(plan));
  out.push(...urlsMarkdown(plan), ...movesMarkdown(plan), ...targetsMarkdown(plan));
  out.push(...changesMarkdown(plan.microsoftChanges));
  return out.join('\n').replace(/\n+$/, '\n');
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
