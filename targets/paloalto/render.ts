import { createRequire } from 'node:module';
import type { create as Create } from 'xmlbuilder2';

// loaded on first use: runs for other targets do not pay for the XML library
let createDoc: typeof Create | undefined;
const xml = (): typeof Create => (createDoc ??= (createRequire(import.meta.url)('xmlbuilder2') as { create: typeof Create }).create);
import type { PanosConfig } from './model.js';

/** The whole vsys subtree as a config document for `load config partial` or the XML API. */
export function panosXml(c: PanosConfig, header: string[]): string {
  const doc = xml()({ version: '1.0', encoding: 'UTF-8' });
  for (const line of header) doc.com(` ${line} `);
  const vsys = doc.ele('config', { version: '10.1.0' }).ele('devices').ele('entry', { name: c.device }).ele('vsys').ele('entry', { name: c.vsys });
  const members = (parent: ReturnType<typeof doc.ele>, name: string, list: string[]) => {
    const el = parent.ele(name);
    for (const m of list) el.ele('member').txt(m);
  };
  vsys.ele('tag').ele('entry', { name: c.tag }).ele('color').txt('color3').up().up().up();
  const addr = vsys.ele('address');
  for (const a of c.addresses) {
    const e = addr.ele('entry', { name: a.name });
    e.ele(a.kind).txt(a.value);
    members(e, 'tag', [c.tag]);
  }
  const grp = vsys.ele('address-group');
  for (const g of c.groups) {
    const e = grp.ele('entry', { name: g.name });
    members(e, 'static', g.members);
    e.ele('description').txt(g.description);
    members(e, 'tag', [c.tag]);
  }
  const svc = vsys.ele('service');
  for (const s of c.services) {
    const e = svc.ele('entry', { name: s.name });
    e.ele('protocol').ele(s.protocol).ele('port').txt(s.port);
    members(e, 'tag', [c.tag]);
  }
  const cats = vsys.ele('profiles').ele('custom-url-category');
  for (const u of c.urlCategories) {
    const e = cats.ele('entry', { name: u.name });
    e.ele('type').txt('URL List');
    members(e, 'list', u.members);
    e.ele('description').txt(u.description);
  }
  if (c.externalLists.length) {
    const ext = vsys.ele('external-list');
    for (const x of c.externalLists) {
      const t = ext.ele('entry', { name: x.name }).ele('type').ele(x.type);
      t.ele('url').txt(x.url);
      t.ele('recurring').ele('hourly');
      t.ele('description').txt(x.description);
    }
  }
  const rules = vsys.ele('rulebase').ele('security').ele('rules');
  for (const r of c.rules) {
    const e = rules.ele('entry', { name: r.name });
    members(e, 'from', r.from);
    members(e, 'to', r.to);
    members(e, 'source', r.source);
    members(e, 'destination', r.destination);
    members(e, 'source-user', ['any']);
    members(e, 'category', r.category);
    members(e, 'application', ['any']);
    members(e, 'service', r.service);
    e.ele('action').txt('allow');
    e.ele('description').txt(r.description);
    members(e, 'tag', [c.tag]);
  }
  return doc.end({ prettyPrint: true, indent: '  ', newline: '\n' }) + '\n';
}

/** A value for a `set` command: bare when it is a plain token, else double-quoted (our text has no quotes). */
function v(s: string): string {
  if (/["\\\n]/.test(s)) throw new Error(`unquotable value ${JSON.stringify(s)}`);
  return /^[A-Za-z0-9_.:\/*-]+$/.test(s) ? s : `"${s}"`;
}
const vl = (xs: string[]) => (xs.length === 1 ? v(xs[0]) : `[ ${xs.map(v).join(' ')} ]`);

/** The same objects as `set` CLI commands (configure mode). */
export function panosSet(c: PanosConfig, header: string[]): string {
  const pre = c.vsys === 'vsys1' ? 'set' : `set vsys ${c.vsys}`;
  const out = header.map((l) => `# ${l}`);
  out.push('# paste in configure mode, then review and commit');
  out.push(`${pre} tag ${v(c.tag)} color color3`);
  for (const a of c.addresses) out.push(`${pre} address ${v(a.name)} ${a.kind} ${v(a.value)}`, `${pre} address ${v(a.name)} tag ${vl([c.tag])}`);
  for (const g of c.groups) out.push(`${pre} address-group ${v(g.name)} static ${vl(g.members)}`, `${pre} address-group ${v(g.name)} description ${v(g.description)}`, `${pre} address-group ${v(g.name)} tag ${vl([c.tag])}`);
  for (const s of c.services) out.push(`${pre} service ${v(s.name)} protocol ${s.protocol} port ${v(s.port)}`, `${pre} service ${v(s.name)} tag ${vl([c.tag])}`);
  for (const u of c.urlCategories) out.push(`${pre} profiles custom-url-category ${v(u.name)} type "URL List"`, `${pre} profiles custom-url-category ${v(u.name)} list ${vl(u.members)}`, `${pre} profiles custom-url-category ${v(u.name)} description ${v(u.description)}`);
  for (const x of c.externalLists) out.push(`${pre} external-list ${v(x.name)} type ${x.type} url ${v(x.url)}`, `${pre} external-list ${v(x.name)} type ${x.type} recurring hourly`, `${pre} external-list ${v(x.name)} type ${x.type} description ${v(x.description)}`);
  for (const r of c.rules) {
    const base = `${pre} rulebase security rules ${v(r.name)}`;
    out.push(`${base} from ${vl(r.from)} to ${vl(r.to)} source ${vl(r.source)} destination ${vl(r.destination)} source-user any category ${vl(r.category)} application any service ${vl(r.service)} action allow`);
    out.push(`${base} description ${v(r.description)}`, `${base} tag ${vl([c.tag])}`);
  }
  return out.join('\n') + '\n';
}
