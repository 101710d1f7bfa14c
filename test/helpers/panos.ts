/** Palo Alto structure specs (pan-os-codegen YAML) as a map: element path → validators. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SHARED } from './env.js';

export const PANOS_SPECS = join(SHARED, 'schemas/panos/specs');
export interface ParamRule {
  type: string;
  max?: number;
  min?: number;
  values?: string[];
}

/** Flatten a spec into "a/b/c" (relative to an entry) → rule; lists also get "a/member". */
export function loadSpec(file: string): Map<string, ParamRule> {
  const doc = parse(readFileSync(join(PANOS_SPECS, file), 'utf8'));
  const out = new Map<string, ParamRule>();
  const walk = (spec: any, prefix: string) => {
    for (const p of [...(spec?.params ?? []), ...(spec?.variants ?? [])]) {
      const xp = (p.profiles?.[0]?.xpath ?? [p.name]).join('/');
      const path = prefix ? `${prefix}/${xp}` : xp;
      const rule: ParamRule = { type: p.type };
      for (const v of p.validators ?? []) {
        if (v.type === 'length') {
          rule.max = v.spec?.max;
          rule.min = v.spec?.min;
        }
        if (v.type === 'values') rule.values = v.spec?.values;
      }
      out.set(path, rule);
      if (p.type === 'list')
        out.set(`${path}/member`, {
          type: 'member',
          ...(p.spec?.items?.validators ?? []).reduce(
            (m: any, v: any) => (v.type === 'length' ? { ...m, max: v.spec?.max } : m),
            {},
          ),
        });
      if (p.spec) walk(p.spec, path);
    }
  };
  walk(doc.spec, '');
  return out;
}
