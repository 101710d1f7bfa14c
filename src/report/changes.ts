/**
 * Microsoft's change records beside the plan: per endpoint set the records published since the
 * previous output's version (id, impact, version, effective date; an addition not yet in effect
 * on the new version's date is marked), and every address or URL the feed diff adds or removes
 * that no record explains (a sign of a truncated or tampered feed).
 */
import { canonicalPrefix } from '../net/prefix.js';
import { parsePortString, portsText } from '../net/ports.js';
import type { ChangeRecord } from '../model.js';
import type { Plan, PlanChanges, SetChange } from './plan.js';

export type { PlanChanges };

const norm = (entry: string): string => {
  try {
    return canonicalPrefix(entry, true).text;
  } catch {
    return entry.toLowerCase().replace(/\.$/, '');
  }
};

/** A port list as the report writes it ("80,443"), or the text itself when it is not one. */
const portsNorm = (t: string): string => {
  try {
    return portsText(parsePortString(t));
  } catch {
    return t;
  }
};

/** What one set's records explain: the entries they add and remove, the attributes they set. */
function explained(recs: readonly ChangeRecord[]) {
  const added = new Set<string>(),
    removed = new Set<string>();
  const current = new Map<string, Set<string>>();
  for (const r of recs) {
    for (const e of [...(r.add?.ips ?? []), ...(r.add?.urls ?? [])]) added.add(norm(e));
    for (const e of [...(r.remove?.ips ?? []), ...(r.remove?.urls ?? [])]) removed.add(norm(e));
    for (const [k, v] of Object.entries(r.current ?? {})) {
      const t = k.endsWith('Ports') ? portsNorm(String(v)) : String(v);
      const set = current.get(k);
      if (set) set.add(t);
      else current.set(k, new Set([t]));
    }
  }
  return { added, removed, current };
}

/** The changes of one set of the plan that its records leave unexplained. */
function unexplainedOf(s: SetChange, recs: readonly ChangeRecord[]): PlanChanges['unexplained'] {
  const out: PlanChanges['unexplained'] = [];
  const { added, removed, current } = explained(recs);
  for (const e of [...s.added.ips, ...s.added.urls])
    if (!added.has(norm(e))) out.push({ setId: s.id, change: 'added', entry: e });
  for (const e of [...s.removed.ips, ...s.removed.urls])
    if (!removed.has(norm(e))) out.push({ setId: s.id, change: 'removed', entry: e });
  const attr = (field: string, before: string, after: string) => {
    if (!current.get(field)?.has(after))
      out.push({ setId: s.id, change: 'changed', entry: `${field}: ${before} → ${after}` });
  };
  if (s.ports) {
    if (s.ports.tcp[0] !== s.ports.tcp[1]) attr('tcpPorts', s.ports.tcp[0], s.ports.tcp[1]);
    if (s.ports.udp[0] !== s.ports.udp[1]) attr('udpPorts', s.ports.udp[0], s.ports.udp[1]);
  }
  for (const f of s.attributes ?? []) attr(f.field, f.before, f.after);
  return out;
}

/** The records per set, in set and version order, as the plan shows them. */
function recordsBySet(bySet: Map<string, ChangeRecord[]>, day: string): PlanChanges['sets'] {
  return [...bySet.entries()]
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
}

/**
 * Attach the records to a plan and cross-check them against its set changes: every address and
 * URL added or removed, and every change of what enforcement depends on (TCP and UDP ports,
 * category, required, expressRoute, service area) must be explained by a record of that set in
 * the range. Linear in the records and the changes.
 */
export function crossCheck(
  plan: Plan,
  since: string,
  version: string,
  records: readonly ChangeRecord[] | undefined,
  unavailable?: string,
  basis?: string,
): PlanChanges {
  const inRange = (records ?? []).filter(
    (r) => Number(r.version) > Number(since) && Number(r.version) <= Number(version),
  );
  const bySet = new Map<string, ChangeRecord[]>();
  for (const r of inRange) {
    const list = bySet.get(r.endpointSetId);
    if (list) list.push(r);
    else bySet.set(r.endpointSetId, [r]);
  }
  // without records nothing can be cross-checked: the plan says so instead of listing everything
  const unexplained = (records ? plan.sets : []).flatMap((s) =>
    unexplainedOf(s, bySet.get(s.id) ?? []),
  );
  return {
    since,
    version,
    ...(unavailable ? { unavailable } : {}),
    ...(basis ? { basis } : {}),
    sets: recordsBySet(bySet, version.slice(0, 8)),
    unexplained,
  };
}
