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

/**
 * The names m365fw itself gives each kind of object (model.ts: `m365-…` plus the kind's word, cut
 * by fitName to the kind's length). A previous inventory may only name these: whatever else it
 * lists (an operator's rule, another tool's object) is never m365fw's to delete.
 */
const OWN = {
  rules: { re: /^m365-[A-Za-z0-9_.-]+$/, max: 63, form: 'm365-…' },
  groups: { re: /^m365-grp-[A-Za-z0-9_.-]+$/, max: 63, form: 'm365-grp-…' },
  urlCategories: { re: /^m365-url-[A-Za-z0-9_.-]+$/, max: 31, form: 'm365-url-…' },
  addresses: {
    re: /^m365-(?!grp-|svc-|url-|edl-|in-)[A-Za-z0-9_.-]+$/,
    max: 63,
    form: 'm365-ADDRESS or m365-fqdn-…',
  },
  services: { re: /^m365-svc-[A-Za-z0-9_.-]+$/, max: 63, form: 'm365-svc-…' },
  externalLists: { re: /^m365-edl-[A-Za-z0-9_.-]+$/, max: 32, form: 'm365-edl-…' },
} as const;
type OwnKind = keyof typeof OWN;

/** A previous inventory that names something m365fw does not own, or is not one at all. */
export class InventoryError extends Error {}

/** JSON Pointer escaping of one path segment (RFC 6901). */
const seg = (k: string | number) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Check a previous run's inventory (from report.json: untrusted). `where` names the file and the
 * JSON path of the inventory in it; every refusal names the path and the value below it.
 * `scope` is this run's scope (and `also`, one previous scope the user named with
 * --panos-previous-scope): deletes never leave them.
 */
export function checkInventory(
  x: unknown,
  where = "the previous report.json's paloalto inventory",
  scope?: PanosScope,
  also?: PanosScope,
): PanosInventory {
  const bad = (path: (string | number)[], v: unknown, why: string): never => {
    let shown: string;
    try {
      shown = JSON.stringify(v) ?? String(v);
    } catch {
      shown = String(v);
    }
    throw new InventoryError(
      `${where}${path.map((p) => `/${seg(p)}`).join('')}: ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown} ${why}; refusing to delete from it (move report.json away to start without deletes)`,
    );
  };
  const isMap = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  const map = (v: unknown, path: (string | number)[]): Record<string, unknown> =>
    isMap(v) ? v : bad(path, v, 'is not an object');
  const tokens = (v: unknown, path: (string | number)[], own?: OwnKind): string[] => {
    if (!Array.isArray(v)) return bad(path, v, 'is not a list');
    v.forEach((t, i) => token(t, [...path, i], own));
    return v as string[];
  };
  const token = (t: unknown, path: (string | number)[], own?: OwnKind): string => {
    if (typeof t !== 'string' || !TOKEN.test(t)) return bad(path, t, 'is not a name m365fw writes');
    if (own && (!OWN[own].re.test(t) || t.length > OWN[own].max))
      return bad(path, t, `is not a name m365fw gives (${OWN[own].form})`);
    return t;
  };
  const o = map(x, []);
  // reports of 0.2.0 recorded a vsys name only
  const prevScope =
    o.scope !== undefined
      ? typeof o.scope === 'string'
        ? parseScopeText(o.scope)
        : undefined
      : typeof o.vsys === 'string'
        ? parseScopeText(`vsys:${o.vsys}`)
        : undefined;
  const scopeAt: [string[], unknown] =
    o.scope !== undefined || o.vsys === undefined ? [['scope'], o.scope] : [['vsys'], o.vsys];
  if (!prevScope) bad(scopeAt[0], scopeAt[1], 'is not a scope');
  const text = scopeText(prevScope!);
  if (scope && text !== scopeText(scope) && !(also && text === scopeText(also)))
    bad(
      scopeAt[0],
      scopeAt[1],
      `is not this run's scope (${scopeText(scope)}); m365fw deletes only inside the scope it writes to: say --panos-previous-scope ${text} to remove the previous run's objects there`,
    );
  const rules = Object.fromEntries(
    Object.entries(map(o.rules, ['rules'])).map(([k, v]) => {
      token(k, ['rules', k], 'rules');
      const r = map(v, ['rules', k]);
      return [
        k,
        Object.fromEntries(RULE_LISTS.map((f) => [f, tokens(r[f] ?? [], ['rules', k, f])])),
      ];
    }),
  ) as PanosInventory['rules'];
  const lists = (field: 'groups' | 'urlCategories', member?: OwnKind) =>
    Object.fromEntries(
      Object.entries(map(o[field], [field])).map(([k, m]) => {
        token(k, [field, k], field);
        return [k, tokens(m, [field, k], member)];
      }),
    );
  return {
    scope: text,
    rules,
    groups: lists('groups', 'addresses'),
    urlCategories: lists('urlCategories'),
    addresses: tokens(o.addresses, ['addresses'], 'addresses'),
    services: tokens(o.services, ['services'], 'services'),
    externalLists: tokens(o.externalLists, ['externalLists'], 'externalLists'),
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
    for (const d of deletes) out.push(d); // not push(...deletes): 100k+ deletes overflow the stack
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
  if (moves.length) out.push('# place the rules (set appends them at the bottom of the rulebase)');
  for (const m of moves) out.push(m);
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
