/**
 * The run guards: they judge what the targets rendered against what the previous run enforced (an
 * empty output, more removed than --max-removal allows). Refusals are GuardErrors: nothing written.
 */
import { GuardError } from '../errors.js';
import { toIntervals, unionIntervals, type Interval } from '../net/merge.js';
import type { Family } from '../net/prefix.js';

/** Refuse to write a target's output when it would enforce nothing (after filters and merging). */
export function guardNotEmpty(
  target: string,
  enforced: { rules: string[]; names: string[] },
  model: { rules: unknown[]; urlRules: { entries: unknown[] }[] },
  allowEmpty: boolean,
): void {
  if (allowEmpty || enforced.rules.length || enforced.names.length) return;
  const urls = model.urlRules.reduce((n, u) => n + u.entries.length, 0);
  const what =
    model.rules.length || urls
      ? `of ${model.rules.length} IP rules and ${urls} URL entries, it enforces none`
      : 'no rule and no URL entry survived the filters';
  throw new GuardError(
    `refusing to write: target ${target} would enforce nothing (${what}); pass --allow-empty if this is deliberate`,
  );
}

/** "10%" or "25": the most of what a target enforced that may disappear. */
export function parseMaxRemoval(spec: string): { percent: number } | { count: number } {
  const m = /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?(%?)$/.exec(spec);
  if (!m || (m[2] && !m[3]))
    throw new GuardError(
      `--max-removal ${JSON.stringify(spec)}: give a percentage from 0% to 100% (like 10% or 2.5%) or a whole count (like 25)`,
    );
  const n = Number(`${m[1]}${m[2] ?? ''}`);
  if (m[3] && n > 100)
    throw new GuardError(`--max-removal ${JSON.stringify(spec)}: a percentage is at most 100%`);
  return m[3] ? { percent: n } : { count: n };
}

interface PrevReport {
  rules: { key: string; family: number; prefixes: Iterable<string> }[];
  urlRules: { key: string; protocol: string; ports: string; entries: { host: string }[] }[];
  targets: Record<string, { enforces?: { rules: string[]; names: string[] } }>;
}

/** What a previous target enforced; a report from before targets recorded it: every rule (and PAN-OS every URL entry). */
export function previousEnforced(
  prev: PrevReport,
  target: string,
): { rules: string[]; names: string[] } {
  const t = prev.targets[target];
  if (t?.enforces) return t.enforces;
  const names =
    target === 'paloalto'
      ? prev.urlRules.flatMap((u) => u.entries.map((e) => `${e.host} ${u.protocol}/${u.ports}`))
      : [];
  return { rules: prev.rules.map((r) => r.key), names };
}

/**
 * Refuse when, for any target, more of what it enforced before would no longer be enforced than
 * allowed: previous prefixes (a prefix counts as gone unless the new rule with the same key that
 * the target still enforces covers all of it, so a re-aggregation is not a removal) and URL entries.
 * A target the previous run rendered and this one does not has removed everything.
 */
export function guardMaxRemoval(
  prev: PrevReport,
  runs: { name: string; enforces: { rules: string[]; names: string[] } }[],
  next: readonly { key: string; family: number; prefixes: Iterable<string> }[],
  spec: string,
): void {
  const limit = parseMaxRemoval(spec);
  const nextByKey = new Map(next.map((r) => [r.key, r]));
  const prevByKey = new Map(prev.rules.map((r) => [r.key, r]));
  const covers = new Map<string, Interval[]>();
  const coverOf = (key: string) => {
    let c = covers.get(key);
    if (!c) {
      const r = nextByKey.get(key);
      covers.set(key, (c = r ? unionIntervals(toIntervals(r.family as Family, r.prefixes)) : []));
    }
    return c;
  };
  const now = new Map(runs.map((r) => [r.name, r.enforces]));
  const verdicts: string[] = [];
  for (const target of [
    ...new Set([...Object.keys(prev.targets), ...runs.map((r) => r.name)]),
  ].sort()) {
    if (!prev.targets[target]) continue;
    const before = previousEnforced(prev, target);
    const after = now.get(target) ?? { rules: [], names: [] };
    const keep = new Set(after.rules),
      names = new Set(after.names);
    let total = 0,
      removed = 0;
    for (const key of before.rules) {
      const r = prevByKey.get(key);
      if (!r) continue;
      const cover = keep.has(key) ? coverOf(key) : [];
      for (const p of r.prefixes) {
        total++;
        const [[s, e]] = toIntervals(r.family as Family, [p]);
        if (!covered(cover, s, e)) removed++;
      }
    }
    for (const n of before.names) {
      total++;
      if (!names.has(n)) removed++;
    }
    const allowed = 'percent' in limit ? (total * limit.percent) / 100 : limit.count;
    if (removed > allowed)
      verdicts.push(
        `${target}: ${removed} of ${total} previous prefixes and URL entries (${total ? ((100 * removed) / total).toFixed(1) : 0}%)${now.has(target) ? '' : ' (no longer generated)'}${prev.targets[target].enforces ? '' : ' (the previous report does not record what this target enforced, so every previous rule and URL entry counts; one run with --max-removal raised records it)'}`,
      );
  }
  if (verdicts.length) {
    throw new GuardError(
      `refusing to write: ${verdicts.join('; ')} would disappear, more than --max-removal ${spec}; review the change (m365fw plan) and raise --max-removal if it is deliberate`,
    );
  }
}

function covered(cover: Interval[], s: bigint, e: bigint): boolean {
  let lo = 0,
    hi = cover.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cover[mid][1] < s) lo = mid + 1;
    else if (cover[mid][0] > s) hi = mid - 1;
    else return cover[mid][1] >= e;
  }
  return false;
}
