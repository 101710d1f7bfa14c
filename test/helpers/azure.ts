/** Validate ARM templates with ajv (draft-04) against Microsoft's NSG schema plus the project's overlays. */
import Ajv04 from 'ajv-draft-04';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import cidr from 'cidr-tools';
import { SHARED } from './env.js';

export const AZURE = join(SHARED, 'schemas/azure');
const load = (f: string) => JSON.parse(readFileSync(join(AZURE, f), 'utf8'));

export function azureValidators() {
  const ajv = new (Ajv04 as unknown as typeof Ajv04.default)({
    allErrors: true,
    strict: false,
    validateFormats: false,
  });
  ajv.addSchema(
    load('common-definitions.json'),
    'https://schema.management.azure.com/schemas/common/definitions.json',
  );
  ajv.addSchema(load('nsg-2024-05-01.subset.json'));
  ajv.addSchema(load('nsg-2025-07-01.subset.json'));
  const template = ajv.compile(load('nsg-template.schema.json'));
  const strict = ajv.compile(load('nsg-strict.schema.json'));
  return {
    template,
    strict,
    errors: (v: { errors?: unknown }) => JSON.stringify(v.errors)?.slice(0, 2000),
  };
}

const PORT = /^(\*|[0-9]{1,5}(-[0-9]{1,5})?)$/;

/** What the schemas let through, checked in code. Returns a list of problems (empty = fine). */
export function codeChecks(template: any): string[] {
  const problems: string[] = [];
  let dst = 0,
    src = 0;
  for (const res of template.resources) {
    const rules: any[] = res.properties?.securityRules ?? [];
    if (rules.length > 1000) problems.push(`${rules.length} rules > 1000`);
    const names = new Set<string>(),
      prio = new Set<string>();
    for (const r of rules) {
      const p = r.properties;
      if (names.has(r.name)) problems.push(`duplicate name ${r.name}`);
      names.add(r.name);
      const k = `${p.direction}/${p.priority}`;
      if (prio.has(k)) problems.push(`duplicate priority ${k}`);
      prio.add(k);
      if (!(p.priority >= 100 && p.priority <= 4096)) problems.push(`priority ${p.priority}`);
      for (const [one, many] of [
        ['sourceAddressPrefix', 'sourceAddressPrefixes'],
        ['destinationAddressPrefix', 'destinationAddressPrefixes'],
        ['sourcePortRange', 'sourcePortRanges'],
        ['destinationPortRange', 'destinationPortRanges'],
      ]) {
        if (one in p && many in p) problems.push(`${r.name}: both ${one} and ${many}`);
        if (!(one in p) && !(many in p)) problems.push(`${r.name}: neither ${one} nor ${many}`);
      }
      for (const list of [p.destinationAddressPrefixes, p.sourceAddressPrefixes]) {
        if (!list) continue;
        const fams = new Set(list.map((x: string) => cidr.parseCidr(x).version));
        if (fams.size > 1) problems.push(`${r.name}: mixed address families`);
      }
      for (const port of [...(p.destinationPortRanges ?? []), p.destinationPortRange].filter(
        Boolean,
      )) {
        if (!PORT.test(port)) {
          problems.push(`${r.name}: port ${port}`);
          continue;
        }
        const [a, b] =
          port === '*'
            ? [1, 65535]
            : port
                .split('-')
                .map(Number)
                .concat(port.includes('-') ? [] : [Number(port)]);
        if (!(a >= 0 && b <= 65535 && a <= b)) problems.push(`${r.name}: port ${port}`);
      }
      for (const [k, v] of Object.entries(p))
        if (typeof v === 'string' && v.startsWith('['))
          problems.push(`${r.name}: ARM expression in ${k}`);
      dst += p.destinationAddressPrefixes?.length ?? 1;
      src += p.sourceAddressPrefixes?.length ?? 1;
    }
  }
  if (dst > 4000) problems.push(`${dst} destination prefixes > 4000`);
  if (src > 4000) problems.push(`${src} source prefixes > 4000`);
  return problems;
}
