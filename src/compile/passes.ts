/**
 * The compiler as an ordered list of named passes, each `state → state`: validate, policy,
 * plausibility guard, filter, bucket, merge. Files are read before the first pass
 * (compile/index.ts) and written after the last target pass (src/render.ts: fit, render,
 * provenance, unenforced). Each pass is a plain function, tested on its own with tables.
 */
import { InputError, showValue } from '../errors.js';
import {
  CATEGORIES,
  compareIds,
  PrefixSet,
  type CompileOptions,
  type EndpointSet,
  type Finding,
  type InputInfo,
  type Rule,
  type RuleModel,
  type UrlRule,
} from '../model.js';
import type { Policy } from '../model.js';
import { applyPolicy } from './policy.js';
import { portsText } from '../net/ports.js';
import { bucketSets, mergeBuckets, type Buckets } from './build.js';
import { filterSets } from './filter.js';
import { selectDirections } from './ingress.js';
import { guardImplausible, guardPublicSuffix } from './guards.js';

export interface CompileState {
  /** the input's file name, for errors */
  readonly name: string;
  readonly input: InputInfo;
  readonly options: CompileOptions;
  readonly sets: readonly EndpointSet[];
  readonly policy?: Policy;
  readonly findings: readonly Finding[];
  /** sets before filtering */
  readonly setsIn: number;
  /** the filter pass's split: ingress sets (with their ingress ports) and the local side */
  readonly ingress?: { sets: readonly EndpointSet[]; local?: { v4: PrefixSet; v6: PrefixSet } };
  readonly buckets?: Buckets;
  /** the sets egress rules are made of (all the model's sets unless --direction says otherwise) */
  readonly egressSets?: readonly EndpointSet[];
  readonly rules?: readonly Rule[];
  readonly urlRules?: readonly UrlRule[];
  readonly onProgress?: (phase: string, done?: number, total?: number) => void;
}

export interface Pass {
  readonly name: string;
  run(state: CompileState): CompileState;
}

/** Sets handed in by a library caller are held to what the readers guarantee. */
const validate: Pass = {
  name: 'validate',
  run(s) {
    const ids = new Set<string>();
    for (const set of s.sets) {
      const bad = (field: string, v: unknown): never => {
        throw new InputError(s.name, `invalid endpoint set`, set.id, field, v);
      };
      if (typeof set.id !== 'string' || !set.id) bad('id', set.id);
      if (ids.has(set.id)) bad('id', `${set.id} (duplicate)`);
      ids.add(set.id);
      if (!CATEGORIES.includes(set.category)) bad('category', set.category);
      for (const fam of ['v4', 'v6'] as const)
        if (
          !(set.prefixes?.[fam] instanceof PrefixSet) ||
          set.prefixes[fam].family !== (fam === 'v4' ? 4 : 6)
        )
          bad(`prefixes.${fam}`, 'not a PrefixSet of that family');
      for (const p of [...set.tcpPorts, ...set.udpPorts])
        if (!(
          Number.isInteger(p.from) &&
          Number.isInteger(p.to) &&
          1 <= p.from &&
          p.from <= p.to &&
          p.to <= 65535
        ))
          bad('ports', `${p.from}-${p.to}`);
    }
    return s;
  },
};

/** The user's own sets and excludes (each with a reason, reported). */
const policy: Pass = {
  name: 'policy',
  run(s) {
    if (!s.policy) return s;
    const applied = applyPolicy([...s.sets], s.policy);
    const options = withPolicyIngress(s.name, s.options, s.policy);
    const i = s.policy.ingress;
    // the policy's ingress section is a change to what is allowed in: reported with its reason
    const said: Finding[] = i
      ? [
          {
            kind: 'override',
            entry: 'ingress',
            detail: `policy ${s.policy.file}: ingress ${[
              i.presets && `presets ${i.presets.join(',')}`,
              i.local && `to ${i.local.join(',')}`,
              i.tcpPorts && `TCP ${portsText(i.tcpPorts) || 'none'}`,
              i.udpPorts && `UDP ${portsText(i.udpPorts) || 'none'}`,
            ]
              .filter(Boolean)
              .join(', ')}${s.policy.ingressReason ? ` (${s.policy.ingressReason})` : ''}`,
          },
        ]
      : [];
    return {
      ...s,
      options,
      sets: applied.sets,
      findings: [...s.findings, ...applied.findings, ...said],
    };
  },
};

/** The policy's ingress section joins the options; a part given in both places is an error. */
function withPolicyIngress(name: string, o: CompileOptions, p: Policy): CompileOptions {
  if (!p.ingress) return o;
  const cli = o.ingress ?? {};
  for (const k of ['local', 'tcpPorts', 'udpPorts'] as const)
    if (cli[k] && p.ingress[k])
      throw new InputError(
        name,
        `ingress ${k} is given by the options and by the policy ${p.file}; give it in one place`,
      );
  const presets = [...new Set([...(cli.presets ?? []), ...(p.ingress.presets ?? [])])].sort();
  return {
    ...o,
    ingress: { ...cli, ...p.ingress, ...(presets.length ? { presets } : {}) },
  };
}

/** After the policy's excludes (which carry a reason): only the feed's own sets are judged. */
const plausibility: Pass = {
  name: 'plausibility',
  run(s) {
    if (s.input.format === 'prefixes') return s;
    guardImplausible(s.name, [...s.sets], s.options.allowImplausible);
    guardPublicSuffix(s.name, [...s.sets], s.options.allowImplausible);
    return s;
  },
};

/** Filters; a filter value that matches nothing is a typo until shown otherwise. Ids order the model. */
const filter: Pass = {
  name: 'filter',
  run(s) {
    const has = (vals: string[], what: string, flag: string, want: string[] | undefined) => {
      for (const w of want ?? [])
        if (!vals.some((v) => v.toLowerCase() === w.toLowerCase()))
          throw new InputError(
            s.name,
            `${flag} ${showValue(w)} matches no endpoint set; the ${what} in the input: ${[...new Set(vals)].sort().join(', ') || 'none'}`,
          );
    };
    has(
      s.sets.map((x) => x.serviceArea),
      'service areas',
      '--service-areas',
      s.options.serviceAreas,
    );
    has(
      s.sets.map((x) => x.category),
      'categories',
      '--categories',
      s.options.categories,
    );
    // the model's order is the ids', never the input's
    const sorted = [...s.sets].sort((a, b) => compareIds(a.id, b.id));
    const d = selectDirections(s.name, sorted, filterSets(sorted, s.options), s.options, s.input);
    // ingress rules are bucketed by their local ports, not the sets' own: sets that never share an
    // egress rule can share one, so their merged prefixes are judged again (a /9 from two /10s)
    if (s.input.format !== 'prefixes' && d.ingress.length)
      guardImplausible(s.name, d.ingress, s.options.allowImplausible);
    // the model's sets: those either direction uses, as the feed gives them (ports and URLs)
    const used = new Set([...d.egress, ...d.ingress].map((x) => x.id));
    const egressIds = new Set(d.egress.map((x) => x.id));
    const sets = [
      ...d.egress,
      ...filterSets(
        sorted.filter((x) => used.has(x.id) && !egressIds.has(x.id)),
        { noIpv4: s.options.noIpv4, noIpv6: s.options.noIpv6, tenant: s.options.tenant },
      ),
    ].sort((a, b) => compareIds(a.id, b.id));
    return {
      ...s,
      setsIn: sorted.length,
      sets,
      egressSets: d.egress,
      ...(d.direction === 'egress'
        ? {}
        : { ingress: { sets: d.ingress, ...(d.local ? { local: d.local } : {}) } }),
      findings: [...s.findings, ...d.findings],
    };
  },
};

const bucket: Pass = {
  name: 'bucket',
  run(s) {
    const { buckets, findings } = bucketSets(s.egressSets ?? s.sets, s.ingress);
    return { ...s, buckets, findings: [...s.findings, ...findings] };
  },
};

const merge: Pass = {
  name: 'merge',
  run(s) {
    const { rules, urlRules } = mergeBuckets(s.buckets!, s.onProgress);
    return { ...s, rules, urlRules };
  },
};

export const PASSES: readonly Pass[] = [validate, policy, plausibility, filter, bucket, merge];

/** Run the passes in order and give the rule model. */
export function runPasses(initial: CompileState, passes: readonly Pass[] = PASSES): RuleModel {
  let s = initial;
  for (const p of passes) s = p.run(s);
  const rules = [...(s.rules ?? [])];
  const merged = (f: 4 | 6) =>
    rules.filter((r) => r.family === f).reduce((n, r) => n + r.prefixes.count, 0);
  return {
    input: s.input,
    options: s.options,
    sets: [...s.sets],
    rules,
    urlRules: [...(s.urlRules ?? [])],
    findings: [...s.findings],
    stats: {
      setsIn: s.setsIn,
      setsKept: s.sets.length,
      prefixesIn: {
        v4: s.sets.reduce((n, x) => n + x.prefixes.v4.given, 0),
        v6: s.sets.reduce((n, x) => n + x.prefixes.v6.given, 0),
      },
      prefixesMerged: { v4: merged(4), v6: merged(6) },
    },
  };
}
