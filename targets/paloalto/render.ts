import { createRequire } from 'node:module';
import type { XMLBuilder as Builder } from 'fast-xml-parser';

// loaded on first use: runs for other targets do not pay for the XML library
let XMLBuilder: typeof Builder | undefined;
const xmlBuilder = (): typeof Builder =>
  (XMLBuilder ??= (
    createRequire(import.meta.url)('fast-xml-parser') as { XMLBuilder: typeof Builder }
  ).XMLBuilder);
import {
  parseScopeText,
  rulebaseOf,
  scopePath,
  scopeText,
  scopeWords,
  type PanosConfig,
  type PanosScope,
  TAG,
} from './model.js';

/**
 * The scope's whole subtree (a vsys, a Panorama device group or Panorama's shared scope) as a
 * config document for `load config partial` or the XML API.
 */
export function panosXml(c: PanosConfig): string {
  let inner: XmlObject = scopeChildren(c);
  for (const [el, name] of [...scopePath(c.scope)].reverse())
    inner = { [el]: name === undefined ? inner : { '@_name': name, ...inner } };
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    config: { '@_version': '10.1.0', ...inner },
  };
  return build(doc, true);
}

/**
 * The scope's children alone (tag, address, …, rulebase), unindented: the `element` of an XML API
 * `set` at scopeXpath, which merges them into the candidate config.
 */
export function panosElement(c: PanosConfig): string {
  return build(scopeChildren(c), false);
}

/** An element as fast-xml-parser's builder takes it: "@_" attributes, "#text", arrays repeat. */
type XmlObject = { [k: string]: string | XmlObject | XmlObject[] | string[] };

/** The serializer escapes every text and attribute value (&, <, >, quotes): names and descriptions are data. */
function build(doc: XmlObject, pretty: boolean): string {
  const b = new (xmlBuilder())({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    format: pretty,
    indentBy: '  ',
    suppressEmptyNode: true,
    processEntities: true,
  });
  const out = b.build(doc);
  return pretty ? out.replace(/\n*$/, '\n') : out;
}

const members = (list: readonly string[]): XmlObject => ({ member: [...list] });

function scopeChildren(c: PanosConfig): XmlObject {
  const tag = members([c.tag]);
  const entry = (name: string, body: XmlObject): XmlObject => ({ '@_name': name, ...body });
  const out: XmlObject = {
    tag: { entry: [entry(c.tag, { color: 'color3' })] },
    address: { entry: c.addresses.map((a) => entry(a.name, { [a.kind]: a.value, tag })) },
    'address-group': {
      entry: c.groups.map((g) =>
        entry(g.name, { static: members(g.members), description: g.description, tag }),
      ),
    },
    service: {
      entry: c.services.map((x) =>
        entry(x.name, { protocol: { [x.protocol]: { port: x.port } }, tag }),
      ),
    },
    profiles: {
      'custom-url-category': {
        entry: c.urlCategories.map((u) =>
          entry(u.name, { type: 'URL List', list: members(u.members), description: u.description }),
        ),
      },
    },
  };
  if (c.externalLists.length)
    out['external-list'] = {
      entry: c.externalLists.map((x) =>
        entry(x.name, {
          type: { [x.type]: { url: x.url, recurring: { hourly: '' }, description: x.description } },
        }),
      ),
    };
  out[rulebaseOf(c.scope)] = {
    security: {
      rules: {
        entry: c.rules.map((r) =>
          entry(r.name, {
            from: members(r.from),
            to: members(r.to),
            source: members(r.source),
            destination: members(r.destination),
            'source-user': members(['any']),
            category: members(r.category),
            application: members(['any']),
            service: members(r.service),
            action: 'allow',
            description: r.description,
            tag,
          }),
        ),
      },
    },
  };
  return out;
}

/** A value for a `set` command: bare when it is a plain token, else double-quoted (our text has no quotes). */
function v(s: string): string {
  if (/["\\\n]/.test(s)) throw new Error(`unquotable value ${JSON.stringify(s)}`);
  return /^[A-Za-z0-9_.:/*-]+$/.test(s) ? s : `"${s}"`;
}
const vl = (xs: string[]) => (xs.length === 1 ? v(xs[0]) : `[ ${xs.map(v).join(' ')} ]`);

/** What one run puts on the firewall, by kind: kept in report.json so the next run can delete what left. */
export interface PanosInventory {
  /** scopeText of where the objects went ("vsys:vsys1", "device-group:NAME:pre-rulebase", …) */
  scope: string;
  rules: Record<string, Record<RuleList, string[]>>;
  groups: Record<string, string[]>;
  urlCategories: Record<string, string[]>;
  addresses: string[];
  services: string[];
  externalLists: string[];
}
const RULE_LISTS = ['from', 'to', 'source', 'destination', 'service', 'category'] as const;
type RuleList = (typeof RULE_LISTS)[number];

export function panosInventory(c: PanosConfig): PanosInventory {
  return {
    scope: scopeText(c.scope),
    rules: Object.fromEntries(
      c.rules.map((r) => [
        r.name,
        Object.fromEntries(RULE_LISTS.map((k) => [k, [...r[k]].sort()])) as Record<
          RuleList,
          string[]
        >,
      ]),
    ),
    groups: Object.fromEntries(c.groups.map((g) => [g.name, g.members])),
    urlCategories: Object.fromEntries(c.urlCategories.map((u) => [u.name, u.members])),
    addresses: c.addresses.map((a) => a.name),
    services: c.services.map((x) => x.name),
    externalLists: c.externalLists.map((x) => x.name),
  };
}

/** A value m365fw could have written: names, members and URL entries (no quotes, no controls). */
const TOKEN = /^[A-Za-z0-9 _.:/*-]{1,255}$/;

/** Check a previous run's inventory (from report.json: untrusted) or say why it is unusable. */
export function checkInventory(x: unknown): PanosInventory {
  const bad = (why: string): never => {
    throw new Error(
      `the previous report.json's paloalto inventory is not usable (${why}); move report.json away to start without deletes`,
    );
  };
  const tokens = (v: unknown, what: string): string[] =>
    Array.isArray(v) && v.every((t) => typeof t === 'string' && TOKEN.test(t))
      ? (v as string[])
      : bad(what);
  const map = (v: unknown, what: string): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => TOKEN.test(k))
      ? (v as Record<string, unknown>)
      : bad(what);
  const o = map(x, 'not an object');
  // reports of 0.2.0 recorded a vsys name only
  const scope =
    typeof o.scope === 'string'
      ? parseScopeText(o.scope)
      : typeof o.vsys === 'string'
        ? parseScopeText(`vsys:${o.vsys}`)
        : undefined;
  if (!scope) bad('scope');
  const rules = Object.fromEntries(
    Object.entries(map(o.rules, 'rules')).map(([k, v]) => {
      const r = map(v, `rule ${k}`);
      return [
        k,
        Object.fromEntries(RULE_LISTS.map((f) => [f, tokens(r[f] ?? [], `rule ${k} ${f}`)])),
      ];
    }),
  ) as PanosInventory['rules'];
  const lists = (v: unknown, what: string) =>
    Object.fromEntries(
      Object.entries(map(v, what)).map(([k, m]) => [k, tokens(m, `${what} ${k}`)]),
    );
  return {
    scope: scopeText(scope!),
    rules,
    groups: lists(o.groups, 'groups'),
    urlCategories: lists(o.urlCategories, 'urlCategories'),
    addresses: tokens(o.addresses, 'addresses'),
    services: tokens(o.services, 'services'),
    externalLists: tokens(o.externalLists, 'externalLists'),
  };
}

/** One thing to remove: an object (kind words + name), or one member of one of its lists. */
export interface PanosDelete {
  scope: PanosScope;
  kind: string[];
  name: string;
  member?: { field: string; value: string };
}

/** The XML API xpath of a scope: "/config/devices/entry[@name='localhost.localdomain']/…". */
export function scopeXpath(s: PanosScope): string {
  return (
    '/config' +
    scopePath(s)
      .map(([el, name]) => (name === undefined ? `/${el}` : `/${el}[@name='${name}']`))
      .join('')
  );
}

/** A delete as a configure-mode command. */
export const deleteCommand = (d: PanosDelete): string =>
  `delete ${scopeWords(d.scope)}${d.kind.join(' ')} ${v(d.name)}` +
  (d.member ? ` ${d.member.field} ${v(d.member.value)}` : '');

/** A delete as an XML API xpath (names and members are tokens: no quote can reach it). */
export const deleteXpath = (d: PanosDelete): string =>
  `${scopeXpath(d.scope)}/${d.kind.join('/')}/entry[@name='${d.name}']` +
  (d.member ? `/${d.member.field}/member[text()='${d.member.value}']` : '');

/**
 * Deletes for everything the previous run put on the firewall that this run drops: rules and
 * their list members first (so nothing still references what goes next), then URL categories,
 * groups and their members, then addresses, services and external lists.
 */
export function panosDeletes(prev: PanosInventory, cur: PanosInventory): PanosDelete[] {
  const scope = parseScopeText(prev.scope)!;
  const rulesAt = [rulebaseOf(scope), 'security', 'rules'];
  // another scope (or rulebase): every previous object is gone from where it was
  const now =
    prev.scope === cur.scope
      ? cur
      : {
          scope: cur.scope,
          rules: {},
          groups: {},
          urlCategories: {},
          addresses: [],
          services: [],
          externalLists: [],
        };
  const out: PanosDelete[] = [];
  const del = (kind: string[], name: string, field?: string, value?: string) =>
    out.push({
      scope,
      kind,
      name,
      ...(field !== undefined && value !== undefined ? { member: { field, value } } : {}),
    });
  const minus = (a: string[], b: string[] = []) => {
    const s = new Set(b);
    return a.filter((x) => !s.has(x));
  };
  const byName = (o: Record<string, string[]>) =>
    Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [name, lists] of Object.entries(prev.rules).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const keep = now.rules[name];
    if (!keep) {
      del(rulesAt, name);
      continue;
    }
    for (const f of RULE_LISTS) for (const m of minus(lists[f], keep[f])) del(rulesAt, name, f, m);
  }
  const members = (
    kind: string[],
    field: string,
    p: Record<string, string[]>,
    c: Record<string, string[]>,
  ) => {
    for (const [name, list] of byName(p)) {
      if (!c[name]) del(kind, name);
      else for (const m of minus(list, c[name])) del(kind, name, field, m);
    }
  };
  members(['profiles', 'custom-url-category'], 'list', prev.urlCategories, now.urlCategories);
  members(['address-group'], 'static', prev.groups, now.groups);
  for (const a of minus(prev.addresses, now.addresses)) del(['address'], a);
  for (const x of minus(prev.services, now.services)) del(['service'], x);
  for (const x of minus(prev.externalLists, now.externalLists)) del(['external-list'], x);
  // the objects left the scope: so does the tag they carried (nothing of ours uses it there now)
  if (prev.scope !== cur.scope) del(['tag'], TAG);
  return out;
}

/** `move` commands placing the rules, in order, at the top or before one of yours (e.g. a deny-all). */
export function panosMoves(
  c: PanosConfig,
  move: { where: 'top' } | { where: 'before'; rule: string } | undefined,
): string[] {
  if (!move) return [];
  const pre = `move ${scopeWords(c.scope)}${rulebaseOf(c.scope)} security rules`;
  // moving each to the top in reverse order leaves them on top in order; "before X" in order likewise
  return move.where === 'top'
    ? [...c.rules].reverse().map((r) => `${pre} ${v(r.name)} top`)
    : c.rules.map((r) => `${pre} ${v(r.name)} before ${v(move.rule)}`);
}

/** The same objects as `set` CLI commands (configure mode). */
export function panosSet(c: PanosConfig, deletes: string[] = [], moves: string[] = []): string {
  const pre = `set ${scopeWords(c.scope)}`.trimEnd();
  const out = [`# ${commitHint(c.scope)}`];
  if (deletes.length) {
    out.push(
      `# ${deletes.length} deletes: what the previous run (its report.json) put on the firewall and this run drops`,
    );
    out.push(...deletes);
    out.push("# this run's objects");
  }
  out.push(`${pre} tag ${v(c.tag)} color color3`);
  for (const a of c.addresses)
    out.push(
      `${pre} address ${v(a.name)} ${a.kind} ${v(a.value)}`,
      `${pre} address ${v(a.name)} tag ${vl([c.tag])}`,
    );
  for (const g of c.groups)
    out.push(
      `${pre} address-group ${v(g.name)} static ${vl(g.members)}`,
      `${pre} address-group ${v(g.name)} description ${v(g.description)}`,
      `${pre} address-group ${v(g.name)} tag ${vl([c.tag])}`,
    );
  for (const s of c.services)
    out.push(
      `${pre} service ${v(s.name)} protocol ${s.protocol} port ${v(s.port)}`,
      `${pre} service ${v(s.name)} tag ${vl([c.tag])}`,
    );
  for (const u of c.urlCategories)
    out.push(
      `${pre} profiles custom-url-category ${v(u.name)} type "URL List"`,
      `${pre} profiles custom-url-category ${v(u.name)} list ${vl(u.members)}`,
      `${pre} profiles custom-url-category ${v(u.name)} description ${v(u.description)}`,
    );
  for (const x of c.externalLists)
    out.push(
      `${pre} external-list ${v(x.name)} type ${x.type} url ${v(x.url)}`,
      `${pre} external-list ${v(x.name)} type ${x.type} recurring hourly`,
      `${pre} external-list ${v(x.name)} type ${x.type} description ${v(x.description)}`,
    );
  for (const r of c.rules) {
    const base = `${pre} ${rulebaseOf(c.scope)} security rules ${v(r.name)}`;
    out.push(
      `${base} from ${vl(r.from)} to ${vl(r.to)} source ${vl(r.source)} destination ${vl(r.destination)} source-user any category ${vl(r.category)} application any service ${vl(r.service)} action allow`,
    );
    out.push(`${base} description ${v(r.description)}`, `${base} tag ${vl([c.tag])}`);
  }
  if (moves.length)
    out.push('# place the rules (set appends them at the bottom of the rulebase)', ...moves);
  return out.join('\n') + '\n';
}

/** What to do with the commands once pasted: a firewall commits; Panorama commits, then pushes. */
function commitHint(s: PanosScope): string {
  if (s.kind === 'vsys') return 'paste in configure mode, then review and commit';
  const push =
    s.kind === 'device-group'
      ? `commit-all shared-policy device-group ${s.name}`
      : 'commit-all shared-policy device-group NAME (each device group that uses the shared objects)';
  return `paste in Panorama's configure mode, review, commit, then push: ${push}`;
}
