/**
 * Microsoft's change records beside the plan: per endpoint set the records published since the
 * previous output's version (id, impact, version, effective date; an addition not yet in effect
 * on the new version's date is marked), and every address or URL the feed diff adds or removes
 * that no record explains (a sign of a truncated or tampered feed).
 */
import { canonicalPrefix } from '../net/prefix.js';
import type { ChangeRecord } from '../sources/changes.js';
import type { Plan, PlanChanges } from './plan.js';

export type { PlanChanges };

const norm = (entry: string): string => {
  try {
    return canonicalPrefix(entry, true).text;
  } catch {
    return entry.toLowerCase().replace(/\.$/, '');
  }
};

/** Attach the records to a plan and cross-check them against its set changes. */
export function crossCheck(
  plan: Plan,
  since: string,
  version: string,
  records: readonly ChangeRecord[] | undefined,
  unavailable?: string,
): PlanChanges {
  const inRange = (records ?? []).filter((r) => r.version > since && r.version <= version);
  const day = version.slice(0, 8);
  const bySet = new Map<string, ChangeRecord[]>();
  for (const r of inRange) bySet.set(r.endpointSetId, [...(bySet.get(r.endpointSetId) ?? []), r]);
  const unexplained: PlanChanges['unexplained'] = [];
  // without records nothing can be cross-checked: the plan says so instead of listing everything
  for (const s of records ? plan.sets : []) {
    const recs = bySet.get(s.id) ?? [];
    const added = new Set(
      recs.flatMap((r) => [...(r.add?.ips ?? []), ...(r.add?.urls ?? [])]).map(norm),
    );
    const removed = new Set(
      recs.flatMap((r) => [...(r.remove?.ips ?? []), ...(r.remove?.urls ?? [])]).map(norm),
    );
    for (const e of [...s.added.ips, ...s.added.urls])
      if (!added.has(norm(e))) unexplained.push({ setId: s.id, change: 'added', entry: e });
    for (const e of [...s.removed.ips, ...s.removed.urls])
      if (!removed.has(norm(e))) unexplained.push({ setId: s.id, change: 'removed', entry: e });
  }
  const sets = [...bySet.entries()]
    .sort(([a], [b]) =>
      /^[0-9]+$/.test(a) && /^[0-9]+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : 1,
    )
    .map(([id, recs]) => ({
      id,
      records: recs
        .sort((a, b) =>
          a.version < b.version ? -1 : a.version > b.version ? 1 : a.id < b.id ? -1 : 1,
        )
        .map((r) => ({
          id: r.id,
          disposition: r.disposition,
          ...(r.impact ? { impact: r.impact } : {}),
          version: r.version,
          ...(r.add?.effectiveDate ? { effectiveDate: r.add.effectiveDate } : {}),
          ...(r.add?.effectiveDate && r.add.effectiveDate > day ? { future: true } : {}),
          added: (r.add?.ips.length ?? 0) + (r.add?.urls.length ?? 0),
          removed: (r.remove?.ips.length ?? 0) + (r.remove?.urls.length ?? 0),
        })),
    }));
  return { since, version, ...(unavailable ? { unavailable } : {}), sets, unexplained };
}
