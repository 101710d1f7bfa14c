/** The policy as a compile pass: its own sets added (an id clash is an error), its excludes applied. */
import { excludeCidr, overlapCidr } from 'cidr-tools';
import { InputError } from '../errors.js';
import type { EndpointSet, Finding, Policy } from '../model.js';
import { canonicalPrefix } from '../net/prefix.js';
import { PrefixSet } from '../net/prefixset.js';

/** Whether URL entry `host` falls under exclude `pattern` (the same entry, or a name a wildcard covers). */
export function urlCovered(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1); // ".example.com"
  return host.endsWith(suffix) && host.length > suffix.length;
}

/**
 * Add the policy's own sets (an id clash is an error) and apply its excludes to the feed's sets.
 * Every change is a finding with its reason; an exclude that matched nothing is one too.
 */
export function applyPolicy(
  sets: EndpointSet[],
  p: Policy,
): { sets: EndpointSet[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const ids = new Set(sets.map((s) => s.id));
  for (const s of p.endpointSets) {
    if (ids.has(s.id))
      throw new InputError(
        p.idAt?.[s.id] ?? p.file,
        `id clashes with an existing endpoint set`,
        s.id,
        'id',
        s.id,
      );
    ids.add(s.id);
    findings.push({
      kind: 'override',
      setIds: [s.id],
      entry: `added set ${s.id}`,
      detail: `policy ${p.file}: ${s.reason}`,
    });
  }
  // excludes work on prefix strings (a large prefix list is read as its merged list: same addresses)
  let out = sets.map((s): EndpointSet => ({ ...s, urls: [...s.urls] }));
  for (const x of p.exclude) {
    for (const id of x.ids ?? [])
      if (!ids.has(id))
        throw new InputError(x.where, `exclude names endpoint set ${id}, which does not exist`);
    const hit: string[] = [];
    out = out.map((s) => {
      if (s.origin === 'policy' || (x.ids && !x.ids.includes(s.id))) return s;
      if (x.prefix) {
        const fam = x.prefix.family;
        const list = [...(fam === 4 ? s.prefixes.v4 : s.prefixes.v6)];
        // small lists and one prefix: cidr-tools' set algebra (overlap, exclude), back to canonical text
        if (!list.length || !overlapCidr(list, [x.prefix.text])) return s;
        const left = excludeCidr(list, [x.prefix.text]).map((c) => canonicalPrefix(c).text);
        hit.push(s.id);
        findings.push({
          kind: 'excluded',
          setIds: [s.id],
          entry: x.prefix.text,
          detail: `policy ${p.file}: ${x.reason} (${list.length} prefixes became ${left.length})`,
        });
        const kept = PrefixSet.of(fam, left);
        return {
          ...s,
          prefixes: fam === 4 ? { v4: kept, v6: s.prefixes.v6 } : { v4: s.prefixes.v4, v6: kept },
        };
      }
      const removed = s.urls.filter((u) => urlCovered(x.url!, u.host));
      if (!removed.length) return s;
      hit.push(s.id);
      for (const u of removed)
        findings.push({
          kind: 'excluded',
          setIds: [s.id],
          entry: u.host,
          detail: `policy ${p.file}: ${x.reason}`,
        });
      return { ...s, urls: s.urls.filter((u) => !urlCovered(x.url!, u.host)) };
    });
    if (!hit.length)
      findings.push({
        kind: 'unmatched-exclude',
        entry: x.prefix?.text ?? x.url,
        setIds: x.ids,
        detail: `policy ${p.file}: exclude matched nothing (${x.reason})`,
      });
  }
  return { sets: [...out, ...p.endpointSets], findings };
}
