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
import { applyPolicy, type Policy } from '../sources/policy.js';
import { bucketSets, mergeBuckets, type Buckets } from './build.js';
import { filterSets } from './filter.js';
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
  readonly buckets?: Buckets;
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
    return { ...s, sets: applied.sets, findings: [...s.findings, ...applied.findings] };
  },
};

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
    return { ...s, setsIn: sorted.length, sets: filterSets(sorted, s.options) };
  },
};

const bucket: Pass = {
  name: 'bucket',
  run(s) {
    const { buckets, findings } = bucketSets(s.sets);
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
