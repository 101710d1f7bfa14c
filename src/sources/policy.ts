import { createRequire } from 'node:module';
import { InputError } from '../errors.js';
import type { EndpointSet, Finding, IngressOptions } from '../model.js';
import { classifyUrl, HostnameSyntaxError } from '../net/hostname.js';
import { excludeCidr, overlapCidr } from 'cidr-tools';
import { canonicalPrefix, PrefixSyntaxError } from '../net/prefix.js';
import { PrefixSet } from '../net/prefixset.js';
import { parseRecord } from './o365json.js';
import { POLICY_SCHEMA } from './policy-schema.js';
import { readInput, type InputFile } from './read.js';

/** Aliases a policy may use: enough for reuse, far from a billion laughs. */
export const POLICY_LIMITS = { maxAliasCount: 50, maxBytes: 4 << 20 } as const;

export interface Exclude {
  prefix?: { family: 4 | 6; text: string };
  url?: string;
  ids?: string[];
  reason: string;
  where: string;
}
export interface Policy {
  file: string;
  sha256: string;
  endpointSets: EndpointSet[];
  exclude: Exclude[];
  /** the local side of ingress rules (addresses canonical, ports parsed) */
  ingress?: IngressOptions;
}

const require = createRequire(import.meta.url);

/** Read and validate a policy: YAML syntax, schema (file:line:column), then the feed's own checks. */
export function loadPolicy(path: string): Policy {
  return parsePolicy(readInput(path));
}

/** The same, from a policy already in memory (the library's readPolicy). */
export function parsePolicy(f: InputFile): Policy {
  if (f.bytes.length > POLICY_LIMITS.maxBytes)
    throw new InputError(f.name, `policy larger than ${POLICY_LIMITS.maxBytes} bytes`);
  const YAML = require('yaml') as typeof import('yaml');
  const lc = new YAML.LineCounter();
  const doc = YAML.parseDocument(f.text, {
    lineCounter: lc,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return f.name;
    const p = lc.linePos(offset);
    return `${f.name}:${p.line}:${p.col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new InputError(at(e.pos[0]), `YAML syntax: ${e.message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: POLICY_LIMITS.maxAliasCount });
  } catch (e) {
    throw new InputError(
      f.name,
      `YAML: ${(e as Error).message.split('\n')[0]} (at most ${POLICY_LIMITS.maxAliasCount} aliases)`,
    );
  }
  if (data === null || data === undefined) data = {};
  const Ajv = require('ajv') as typeof import('ajv').default;
  const validate = new Ajv({ allErrors: false, strict: true, strictRequired: false }).compile(
    POLICY_SCHEMA,
  );
  const nodeAt = (path: (string | number)[]) => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range?.[0];
  };
  if (!validate(data)) {
    const err = validate.errors![0];
    const path = err.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const extra = (err.params as { additionalProperty?: string }).additionalProperty;
    const keyAt = (parent: (string | number)[], key: string) => {
      const map = (parent.length ? doc.getIn(parent, true) : doc.contents) as {
        items?: { key?: { value?: unknown; range?: [number, number, number] } }[];
      } | null;
      return map?.items?.find((pair) => pair.key?.value === key)?.key?.range?.[0];
    };
    const where = at(extra ? keyAt(path, extra) : nodeAt(path));
    const what = extra
      ? `unknown key ${JSON.stringify(extra)}`
      : err.keyword === 'oneOf' && path.includes('exclude')
        ? 'give exactly one of prefix or url'
        : (err.message ?? 'invalid');
    throw new InputError(
      where,
      `${
        path.length
          ? path
              .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
              .join('')
              .replace(/^\./, '') + ': '
          : ''
      }${what}`,
    );
  }
  const d = data as {
    ingress?: { local?: string[]; tcpPorts?: unknown; udpPorts?: unknown; presets?: string[] };
    endpointSets?: Record<string, unknown>[];
    exclude?: { prefix?: string; url?: string; ids?: (string | number)[]; reason: string }[];
  };
  // the feed's own checks, with errors located at the set's line
  const endpointSets = (d.endpointSets ?? []).map((rec, i) => {
    const s = parseRecord(at(nodeAt(['endpointSets', i])), rec, i, 'policy');
    s.reason = String(rec.reason);
    return s;
  });
  const exclude: Exclude[] = (d.exclude ?? []).map((x, i) => {
    const where = at(nodeAt(['exclude', i]));
    const out: Exclude = { reason: x.reason, where };
    if (x.ids) out.ids = x.ids.map(String);
    try {
      if (x.prefix !== undefined) out.prefix = canonicalPrefix(x.prefix);
      if (x.url !== undefined) out.url = classifyUrl(x.url).host;
    } catch (e) {
      if (e instanceof PrefixSyntaxError || e instanceof HostnameSyntaxError)
        throw new InputError(
          where,
          `exclude[${i}].${x.prefix !== undefined ? 'prefix' : 'url'}: ${e.message}`,
          undefined,
          undefined,
          x.prefix ?? x.url,
        );
      throw e;
    }
    return out;
  });
  const ingress = d.ingress && policyIngress(at(nodeAt(['ingress'])), d.ingress);
  return { file: f.name, sha256: f.sha256, endpointSets, exclude, ...(ingress ? { ingress } : {}) };
}

/** The policy's ingress section: local prefixes (canonical) and ports, checked like the feed's. */
function policyIngress(
  where: string,
  x: { local?: string[]; tcpPorts?: unknown; udpPorts?: unknown; presets?: string[] },
): IngressOptions {
  const out: IngressOptions = {};
  if (x.local)
    out.local = x.local.map((t, i) => {
      try {
        return canonicalPrefix(t, true).text;
      } catch (e) {
        if (e instanceof PrefixSyntaxError)
          throw new InputError(where, `ingress.local[${i}]: ${e.message}`, undefined, undefined, t);
        throw e;
      }
    });
  // the ports: the feed's own parser (a list of numbers and "a-b" strings, or "25,587")
  const probe = parseRecord(
    where,
    {
      id: 'ingress',
      serviceArea: 'Ingress',
      category: 'Allow',
      tcpPorts: x.tcpPorts,
      udpPorts: x.udpPorts,
    },
    0,
    'policy',
  );
  if (x.tcpPorts !== undefined) out.tcpPorts = probe.tcpPorts;
  if (x.udpPorts !== undefined) out.udpPorts = probe.udpPorts;
  if (x.presets) out.presets = [...x.presets];
  return out;
}

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
      throw new InputError(p.file, `id clashes with an existing endpoint set`, s.id, 'id', s.id);
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
