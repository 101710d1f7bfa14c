import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedFeeds } from './helpers/env.js';
import { bucketKey, expectedFromFeed } from './helpers/oracle.js';
import { sameIntervals } from './helpers/nft.js';
import { intervalsOfCidrs } from './helpers/ipt.js';
import { loadSpec, PANOS_SPECS, type ParamRule } from './helpers/panos.js';
import { PANOS_LIMITS } from '../targets/paloalto/index.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const haveSpecs = existsSync(PANOS_SPECS);
if (!haveSpecs) console.warn(`SKIP PAN-OS spec checks: ${PANOS_SPECS} not found`);
const feeds = [join(FIXTURES, 'sample-feed.json'), ...sharedFeeds()];
const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9 _-]*$/;

function compile(feed: string, extra: string[] = []) {
  const out = tmpDir('pa');
  const r = compileHere([
    '--input',
    feed,
    '--target',
    'paloalto',
    '--out',
    out,
    '--panos-from-zone',
    'trust',
    '--panos-to-zone',
    'untrust',
    ...extra,
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const read = (f: string) => readFileSync(join(out, f), 'utf8');
  return { out, read, report: JSON.parse(read('report.json')) };
}

/** Parse with a real XML parser; every element as an array so structure is explicit. */
function parseXml(text: string) {
  const p = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    isArray: (_n: string, _p: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
    parseTagValue: false,
    trimValues: true,
    commentPropName: '#comment',
  });
  const doc = p.parse(text);
  const vsys = doc.config[0].devices[0].entry[0].vsys[0].entry[0];
  return { doc, vsys };
}

const entries = (container: any) => arr(container?.[0]?.entry);
const text = (x: any) => (typeof x === 'string' ? x : (x?.['#text'] ?? ''));
const members = (x: any) => arr(x?.[0]?.member).map(text);

/** Every element of an entry must be a path the spec knows, within its length and enum. */
function checkAgainstSpec(
  entry: any,
  spec: Map<string, ParamRule>,
  what: string,
  prefix = '',
): void {
  for (const [k, v] of Object.entries(entry)) {
    if (k.startsWith('@') || k === '#text') continue;
    const path = prefix ? `${prefix}/${k}` : k;
    const rule = spec.get(path);
    expect(rule, `${what}: element ${path} is not in the PAN-OS spec`).toBeDefined();
    for (const child of arr(v as any)) {
      if (
        typeof child === 'string' ||
        (child && '#text' in child && Object.keys(child).length === 1)
      ) {
        const t = text(child);
        if (rule!.max !== undefined)
          expect(t.length, `${what}: ${path} length`).toBeLessThanOrEqual(rule!.max);
        if (rule!.min !== undefined)
          expect(t.length, `${what}: ${path} length`).toBeGreaterThanOrEqual(rule!.min);
        if (rule!.values) expect(rule!.values, `${what}: ${path}`).toContain(t);
      } else if (child && typeof child === 'object') checkAgainstSpec(child, spec, what, path);
    }
  }
}

/** Tokenise `set` lines (quotes, [ lists ]) into a nested object. */
function parseSet(lines: string): Record<string, any> {
  const root: Record<string, any> = {};
  for (const line of lines.split('\n')) {
    if (!line.startsWith('set ')) continue;
    const toks = [...line.matchAll(/"([^"]*)"|\[|\]|[^\s"[\]]+/g)].map((m) =>
      m[1] !== undefined ? { s: m[1] } : { s: m[0], raw: true },
    );
    toks.shift();
    const path: string[] = [];
    const vals: (string | string[])[] = [];
    for (let i = 0; i < toks.length; i++) {
      if (toks[i].raw && toks[i].s === '[') {
        const l: string[] = [];
        for (i++; toks[i].s !== ']'; i++) l.push(toks[i].s);
        vals.push(l);
      } else vals.push(toks[i].s);
    }
    // structural keys until the object name, then key/value pairs
    const heads: Record<string, number> = {
      address: 2,
      'address-group': 2,
      service: 2,
      tag: 2,
      'external-list': 2,
      profiles: 3,
      rulebase: 4,
    };
    const n = heads[vals[0] as string];
    for (let i = 0; i < n; i++) path.push(vals[i] as string);
    let node = root;
    for (const p of path) node = node[p] ??= {};
    const rest = vals.slice(n);
    if (path[0] === 'service' && rest[0] === 'protocol') {
      node.protocol = rest[1];
      node.port = rest[3];
      continue;
    }
    if (path[0] === 'external-list') {
      node[rest[3] as string] = rest[4];
      node.type = rest[1];
      continue;
    }
    for (let i = 0; i + 1 < rest.length; i += 2) node[rest[i] as string] = rest[i + 1];
  }
  return root;
}

describe.skipIf(!haveSpecs)(
  "PAN-OS config checked structurally against the model and Palo Alto's specs",
  () => {
    const specs = haveSpecs
      ? {
          address: loadSpec('address.yaml'),
          group: loadSpec('address-group.yaml'),
          service: loadSpec('service.yaml'),
          url: loadSpec('custom-url-category.yaml'),
          rule: loadSpec('security-policy-rule.yaml'),
          edl: loadSpec('external-dynamic-list.yaml'),
        }
      : undefined!;

    it.each([
      ...feeds.map((f) => [basename(f), f, []]),
      ['edge-feed.json', join(FIXTURES, 'edge-feed.json'), ['--allow-implausible', 'all']],
    ] as [string, string, string[]][])('%s', (_n, feed, extra) => {
      const { read, report } = compile(feed, [
        '--panos-edl-url-base',
        'https://edl.example.net/m365',
        ...extra,
      ]);
      const { vsys } = parseXml(read('panos-config.xml'));
      const addr = new Map(entries(vsys.address).map((e: any) => [e['@name'], e]));
      const groups = new Map(entries(vsys['address-group']).map((e: any) => [e['@name'], e]));
      const services = new Map(entries(vsys.service).map((e: any) => [e['@name'], e]));
      const cats = new Map(
        entries(vsys.profiles?.[0]?.['custom-url-category']).map((e: any) => [e['@name'], e]),
      );
      const rules = entries(vsys.rulebase[0].security[0].rules);
      const tags = new Set(entries(vsys.tag).map((e: any) => e['@name']));

      // names and spec conformance
      for (const [kind, map, spec, max] of [
        ['address', addr, specs.address, PANOS_LIMITS.objectNameLength],
        ['group', groups, specs.group, PANOS_LIMITS.objectNameLength],
        ['service', services, specs.service, PANOS_LIMITS.objectNameLength],
        ['url category', cats, specs.url, PANOS_LIMITS.urlCategoryNameLength],
      ] as const) {
        for (const [name, e] of map) {
          expect(name, kind).toMatch(NAME);
          expect(name.length, `${kind} ${name}`).toBeLessThanOrEqual(max);
          checkAgainstSpec(e, spec, `${kind} ${name}`);
          for (const t of members(e.tag)) expect(tags.has(t)).toBe(true);
        }
      }
      for (const e of entries(vsys['external-list'])) {
        expect(e['@name'].length).toBeLessThanOrEqual(PANOS_LIMITS.edlNameLength);
        checkAgainstSpec(e, specs.edl, `edl ${e['@name']}`);
      }
      const ruleNames = new Set<string>();
      for (const r of rules) {
        expect(r['@name']).toMatch(NAME);
        expect(r['@name'].length).toBeLessThanOrEqual(PANOS_LIMITS.ruleNameLength);
        expect(ruleNames.has(r['@name'])).toBe(false);
        ruleNames.add(r['@name']);
        checkAgainstSpec(r, specs.rule, `rule ${r['@name']}`);
        expect(text(r.action[0])).toBe('allow');
        expect(members(r.from)).toEqual(['trust']);
        expect(members(r.to)).toEqual(['untrust']);
        // service: always one of ours, never any / application-default / predefined
        for (const s of members(r.service))
          expect(services.has(s), `rule ${r['@name']} service ${s}`).toBe(true);
        for (const d of members(r.destination))
          expect(d === 'any' || groups.has(d), `rule ${r['@name']} destination ${d}`).toBe(true);
        for (const c of members(r.category)) expect(c === 'any' || cats.has(c)).toBe(true);
        if (members(r.destination).includes('any'))
          expect(members(r.category).every((c) => cats.has(c))).toBe(true);
      }
      for (const [, g] of groups)
        for (const m of members(g.static)) expect(addr.has(m), `group member ${m}`).toBe(true);

      // addresses and ports are exactly the raw feed's, per family/protocol/port bucket
      const expected = expectedFromFeed(feed);
      const seen = new Set<string>();
      for (const r of rules.filter((x: any) => !members(x.destination).includes('any'))) {
        const svc = services.get(members(r.service)[0]);
        const proto = Object.keys(svc.protocol[0])[0];
        const ports = text(svc.protocol[0][proto][0].port[0])
          .split(',')
          .map((p: string) => p.split('-').map(Number))
          .map((p: number[]) => [p[0], p[1] ?? p[0]]);
        for (const g of members(r.destination)) {
          const m = members(groups.get(g).static).map((n) => addr.get(n));
          if (m.every((a: any) => a.fqdn)) continue;
          const prefixes = m.map((a: any) => text(a['ip-netmask'][0]));
          const family = prefixes[0].includes(':') ? 6 : 4;
          const key = bucketKey(family, proto, ports);
          const e = expected.get(key);
          expect(e, key).toBeDefined();
          expect(sameIntervals(intervalsOfCidrs(prefixes), e!.intervals)).toBe(true);
          seen.add(key);
        }
      }
      expect(seen.size).toBe(expected.size);

      // every URL entry is enforced (FQDN object or URL category) or reported
      for (const u of report.urlRules) {
        for (const e of u.entries) {
          const inFqdn = [...addr.values()].some((a: any) => a.fqdn && text(a.fqdn[0]) === e.host);
          const inCat = [...cats.values()].some((c: any) => members(c.list).includes(`${e.host}/`));
          const reported = report.findings.some(
            (f: any) => f.target === 'paloalto' && f.entry?.startsWith(e.host),
          );
          expect(inFqdn || inCat || reported, `${e.host} in ${u.key}`).toBe(true);
        }
      }

      // EDL files: merged prefixes, one per line, LF, no BOM
      const v4 = read('edl-ipv4.txt');
      expect(v4.endsWith('\n') || v4 === '').toBe(true);
      const allV4 = [...expected.values()]
        .filter((e) => e.family === 4)
        .flatMap((e) => e.intervals);
      expect(sameIntervals(intervalsOfCidrs(v4.trim().split('\n').filter(Boolean)), allV4)).toBe(
        true,
      );

      // the set commands describe the same objects as the XML
      const set = parseSet(read('panos-set.txt'));
      expect(Object.keys(set.address ?? {}).sort()).toEqual([...addr.keys()].sort());
      for (const [n, a] of addr)
        expect(set.address[n]['ip-netmask'] ?? set.address[n].fqdn).toBe(
          text((a['ip-netmask'] ?? a.fqdn)[0]),
        );
      for (const [n, g] of groups)
        expect([set['address-group'][n].static].flat()).toEqual(members(g.static));
      for (const [n, s] of services) {
        const p = Object.keys(s.protocol[0])[0];
        expect(set.service[n]).toMatchObject({
          protocol: p,
          port: text(s.protocol[0][p][0].port[0]),
        });
      }
      for (const [n, c] of cats)
        expect([set.profiles['custom-url-category'][n].list].flat()).toEqual(members(c.list));
      const setRules = set.rulebase.security.rules;
      expect(Object.keys(setRules).sort()).toEqual([...ruleNames].sort());
      for (const r of rules) {
        const s = setRules[r['@name']];
        expect([s.destination].flat()).toEqual(members(r.destination));
        expect([s.service].flat()).toEqual(members(r.service));
        expect([s.category].flat()).toEqual(members(r.category));
      }
    });

    it('wildcards PAN-OS cannot take as written are widened and reported; UDP wildcards are reported unenforced', () => {
      const { report, read } = compile(join(FIXTURES, 'sample-feed.json'));
      const widened = report.findings
        .filter((f: any) => f.target === 'paloalto' && f.kind === 'widened')
        .map((f: any) => f.entry);
      expect(widened).toContain('*cdn.onenote.net → *.onenote.net/');
      expect(widened).toContain('autodiscover.*.onmicrosoft.com → autodiscover.*.onmicrosoft.com/');
      expect(read('edl-urls.txt')).toContain('*.onenote.net/\n');
      const withTenant = compile(join(FIXTURES, 'sample-feed.json'), ['--tenant', 'contoso']);
      expect(withTenant.read('panos-config.xml')).toContain(
        '<fqdn>autodiscover.contoso.onmicrosoft.com</fqdn>',
      );
      expect(
        withTenant.report.findings.some(
          (f: any) => f.kind === 'widened' && f.entry.startsWith('autodiscover'),
        ),
      ).toBe(false);
    });

    it('a rewrite used only in edl-urls.txt (a UDP-only wildcard) is reported too, once per name', () => {
      const feed = join(tmpDir('pa'), 'udp.json');
      writeFileSync(
        feed,
        JSON.stringify([
          {
            id: 1,
            serviceArea: 'Skype',
            category: 'Optimize',
            required: true,
            urls: ['*media.teams.example.com'],
            udpPorts: '3478-3481',
          },
          {
            id: 2,
            serviceArea: 'Common',
            category: 'Allow',
            required: true,
            urls: ['*cdn.onenote.net'],
            tcpPorts: '80',
            udpPorts: '443',
          },
          {
            id: 3,
            serviceArea: 'Common',
            category: 'Allow',
            required: true,
            urls: ['*cdn.onenote.net'],
            tcpPorts: '443',
          },
        ]),
      );
      const { report, read } = compile(feed);
      const widened = report.findings.filter(
        (f: any) => f.target === 'paloalto' && f.kind === 'widened',
      );
      expect(widened.map((f: any) => [f.entry, f.setIds])).toEqual([
        ['*media.teams.example.com → *.teams.example.com/', ['1']],
        ['*cdn.onenote.net → *.onenote.net/', ['2', '3']],
      ]);
      expect(read('edl-urls.txt')).toBe('*.onenote.net/\n*.teams.example.com/\n');
      expect(
        report.findings.some(
          (f: any) =>
            f.kind === 'unenforced' && f.entry === '*media.teams.example.com udp/3478-3481',
        ),
      ).toBe(true);
    });

    it('--tenant on a partial wildcard with a tenant label keeps it a wildcard (never an FQDN object)', () => {
      const feed = join(tmpDir('pa'), 'tenant.json');
      writeFileSync(
        feed,
        JSON.stringify([
          {
            id: 1,
            serviceArea: 'Common',
            category: 'Allow',
            required: true,
            urls: ['*cdn.*.example.com'],
            tcpPorts: '443',
          },
        ]),
      );
      const { read, report } = compile(feed, ['--tenant', 'contoso']);
      expect(read('panos-config.xml')).not.toContain('<fqdn>');
      expect(read('edl-urls.txt')).toBe('*.contoso.example.com/\n');
      expect(report.findings.map((f: any) => f.entry)).toContain(
        '*cdn.contoso.example.com → *.contoso.example.com/',
      );
    });

    it('untrusted-looking strings cannot break out of XML: names and text are escaped by the serializer', () => {
      const { read } = compile(join(FIXTURES, 'sample-feed.json'));
      const xml = read('panos-config.xml');
      expect(xml).not.toContain('untrusted');
      expect(() => parseXml(xml)).not.toThrow();
    });

    it.each(feeds.map((f) => [basename(f), f]))(
      '--panos-ip-edl, %s: rules name one EDL per family and port bucket, each exactly that bucket of the raw feed',
      (_n, feed) => {
        const base = 'https://edl.example.net/m365';
        const { out, read } = compile(feed, ['--panos-ip-edl', '--panos-edl-url-base', base]);
        const { vsys } = parseXml(read('panos-config.xml'));
        const addr = entries(vsys.address);
        expect(addr.filter((a: any) => a['ip-netmask'])).toEqual([]); // no address object per prefix
        const groups = new Map(entries(vsys['address-group']).map((e: any) => [e['@name'], e]));
        const services = new Map(entries(vsys.service).map((e: any) => [e['@name'], e]));
        const edls = new Map(entries(vsys['external-list']).map((e: any) => [e['@name'], e]));
        for (const [name, e] of edls) {
          expect(name.length).toBeLessThanOrEqual(PANOS_LIMITS.edlNameLength);
          checkAgainstSpec(e, specs.edl, `edl ${name}`);
        }
        const expected = expectedFromFeed(feed);
        const seen = new Set<string>();
        const rules = entries(vsys.rulebase[0].security[0].rules);
        for (const r of rules.filter((x: any) => !members(x.destination).includes('any'))) {
          checkAgainstSpec(r, specs.rule, `rule ${r['@name']}`);
          const svc = services.get(members(r.service)[0]);
          const proto = Object.keys(svc.protocol[0])[0];
          const ports = text(svc.protocol[0][proto][0].port[0])
            .split(',')
            .map((p: string) => p.split('-').map(Number))
            .map((p: number[]) => [p[0], p[1] ?? p[0]]);
          for (const d of members(r.destination)) {
            if (groups.has(d)) continue; // FQDN group
            const edl = edls.get(d);
            expect(edl, `rule ${r['@name']} destination ${d}`).toBeDefined();
            const url = text(edl.type[0].ip[0].url[0]);
            expect(url.startsWith(`${base}/edl-v`)).toBe(true);
            const file = url.slice(base.length + 1);
            const body = readFileSync(join(out, file), 'utf8');
            expect(body.endsWith('\n')).toBe(true);
            const prefixes = body.trim().split('\n');
            const key = bucketKey(prefixes[0].includes(':') ? 6 : 4, proto, ports);
            expect(
              sameIntervals(intervalsOfCidrs(prefixes), expected.get(key)!.intervals),
              key,
            ).toBe(true);
            seen.add(key);
          }
        }
        expect([...seen].sort()).toEqual([...expected.keys()].sort());
        // the set commands name the same lists
        const set = parseSet(read('panos-set.txt'));
        for (const r of rules)
          expect([set.rulebase.security.rules[r['@name']].destination].flat()).toEqual(
            members(r.destination),
          );
      },
    );

    it('--panos-ip-edl: a 41k-prefix list compiles (the address-object limit points there); without a URL base it fails', () => {
      const dir = tmpDir('pa-big');
      const list = join(dir, 'big.txt');
      // 41 000 non-adjacent /128s in the documentation range: nothing merges
      writeFileSync(
        list,
        Array.from(
          { length: 41_000 },
          (_, i) => `2001:db8::${((2 * i) >>> 16).toString(16)}:${((2 * i) & 0xffff).toString(16)}`,
        ).join('\n') + '\n',
      );
      const out = join(dir, 'out');
      const plain = compileHere([
        '--input',
        list,
        '--input-format',
        'prefixes',
        '--tcp-ports',
        '443',
        '--target',
        'paloalto',
        '--out',
        out,
      ]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(
        /41000 address objects exceed --panos-max-address-objects 20000 by 21000; put the prefixes in EDLs \(--panos-ip-edl with --panos-edl-url-base\)/,
      );
      expect(
        compileHere([
          '--input',
          list,
          '--input-format',
          'prefixes',
          '--tcp-ports',
          '443',
          '--target',
          'paloalto',
          '--out',
          out,
          '--panos-ip-edl',
        ]).stderr,
      ).toMatch(/--panos-ip-edl needs --panos-edl-url-base/);
      const r = compileHere([
        '--input',
        list,
        '--input-format',
        'prefixes',
        '--tcp-ports',
        '443',
        '--target',
        'paloalto',
        '--out',
        out,
        '--panos-ip-edl',
        '--panos-edl-url-base',
        'https://edl.example.net/m365',
      ]);
      expect(r.stderr).toBe('');
      expect(readFileSync(join(out, 'edl-v6-tcp_443.txt'), 'utf8').trim().split('\n').length).toBe(
        41_000,
      );
      expect(
        compileHere([
          '--input',
          list,
          '--input-format',
          'prefixes',
          '--tcp-ports',
          '443',
          '--target',
          'paloalto',
          '--out',
          out,
          '--panos-ip-edl',
          '--panos-edl-url-base',
          'https://edl.example.net/m365',
          '--panos-edl-max-entries',
          '40000',
        ]).stderr,
      ).toMatch(
        /EDL m365-edl-v6-tcp_443 holds 41000 entries, over --panos-edl-max-entries 40000 by 1000/,
      );
    });

    it('EDL capacity is an option that fails loudly', () => {
      const out = tmpDir('pa');
      const r = compileHere([
        '--input',
        join(FIXTURES, 'sample-feed.json'),
        '--target',
        'paloalto',
        '--out',
        out,
        '--panos-edl-max-entries',
        '10',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EDL ipv4 holds 22 entries, over --panos-edl-max-entries 10 by 12/);
      expect(
        compileHere([
          '--input',
          join(FIXTURES, 'sample-feed.json'),
          '--target',
          'paloalto',
          '--out',
          out,
          '--panos-edl-max-lists',
          '2',
        ]).stderr,
      ).toMatch(/3 EDLs exceed --panos-edl-max-lists 2/);
    });
  },
);

/** The element path of one object kind in one scope, read from Palo Alto's spec (its locations). */
function specPath(
  file: string,
  location: string,
  vars: Record<string, string>,
): { el: string; name?: string }[] {
  const doc = parseYaml(readFileSync(join(PANOS_SPECS, file), 'utf8'));
  const loc = doc.locations.find((l: any) => l.name === location);
  expect(loc, `${file} has location ${location}`).toBeDefined();
  const out: { el: string; name?: string }[] = [];
  for (const seg of loc.xpath.path as string[]) {
    if (!seg.startsWith('$')) {
      out.push({ el: seg });
      continue;
    }
    const v = loc.xpath.vars.find((x: any) => `$${x.name}` === seg);
    const value = vars[v.name] ?? v.default;
    expect(value, `${file} ${location} ${seg}`).toBeDefined();
    // an entry variable is <entry name="value">; an object variable names the element itself
    out.push(v.type === 'entry' ? { el: 'entry', name: value } : { el: value });
  }
  for (const seg of doc.panos_xpath.path as string[]) out.push({ el: seg });
  return out;
}

/** The entry names found at a path of the parsed document (every element an array). */
function namesAt(doc: any, path: { el: string; name?: string }[]): string[] {
  let node = doc;
  for (const { el, name } of path) {
    const list = arr(node?.[el]);
    node = name === undefined ? list[0] : list.find((e: any) => e['@name'] === name);
    if (node === undefined) return [];
  }
  return entries([node]).map((e: any) => e['@name']);
}

describe.skipIf(!haveSpecs)(
  '--panos-scope: every object kind sits at the xpath of its location in the specs',
  () => {
    const KINDS = [
      ['address.yaml', 'address'],
      ['address-group.yaml', 'address-group'],
      ['service.yaml', 'service'],
      ['custom-url-category.yaml', 'profiles custom-url-category'],
      ['external-dynamic-list.yaml', 'external-list'],
      ['security-policy-rule.yaml', 'RULES security rules'],
    ] as const;
    const feed = join(FIXTURES, 'sample-feed.json');
    const edl = ['--panos-edl-url-base', 'https://edl.example.net/m365'];
    const base = compile(feed, edl);
    const baseSet = base.read('panos-set.txt');
    const named = (kind: string, set: string, pre: string) =>
      [
        ...set.matchAll(
          new RegExp(
            `^set ${pre}${kind.replace('RULES', '(?:rulebase|pre-rulebase|post-rulebase)')} ("[^"]+"|\\S+) `,
            'gm',
          ),
        ),
      ]
        .map((m) => m[1].replace(/"/g, ''))
        .filter((x, i, a) => a.indexOf(x) === i)
        .sort();

    it.each([
      ['vsys:vsys2', [], 'vsys', { vsys: 'vsys2' }, 'vsys vsys2 '],
      [
        'device-group:branch-eu',
        [],
        'device-group',
        { device_group: 'branch-eu' },
        'device-group branch-eu ',
      ],
      [
        'device-group:branch-eu',
        ['--panos-rulebase', 'post'],
        'device-group',
        { device_group: 'branch-eu', rulebase: 'post-rulebase' },
        'device-group branch-eu ',
      ],
      ['shared', [], 'shared', {}, 'shared '],
      ['shared', ['--panos-rulebase', 'post'], 'shared', { rulebase: 'post-rulebase' }, 'shared '],
    ] as [string, string[], string, Record<string, string>, string][])(
      '%s %s',
      (scope, extra, location, vars, words) => {
        const { read, report } = compile(feed, [...edl, '--panos-scope', scope, ...extra]);
        const doc = new XMLParser({
          ignoreAttributes: false,
          attributeNamePrefix: '@',
          isArray: (_n: string, _p: unknown, _l: boolean, isAttribute: boolean) => !isAttribute,
          parseTagValue: false,
        }).parse(read('panos-config.xml'));
        const set = read('panos-set.txt');
        for (const [file, kind] of KINDS) {
          const names = namesAt(doc, specPath(file, location, vars));
          // the same objects as a firewall's vsys1 gets, only elsewhere
          expect(names.length, `${file} in ${scope}`).toBeGreaterThan(0);
          expect(names.sort(), `${file} in ${scope}`).toEqual(named(kind, baseSet, ''));
          expect(named(kind, set, words), `set commands of ${file}`).toEqual(names);
        }
        // and nothing anywhere else: every command addresses the scope
        for (const l of set.split('\n').filter((x) => /^(set|delete|move) /.test(x)))
          expect(l.split(' ').slice(1).join(' ').startsWith(words), l).toBe(true);
        expect(report.targets.paloalto.inventory.scope).toBe(
          location === 'vsys' ? scope : `${scope}:${vars.rulebase ?? 'pre-rulebase'}`,
        );
      },
    );
  },
);

describe.skipIf(sharedFeeds().length === 0)(
  'PAN-OS: one service and one security rule per distinct (protocol, ports)',
  () => {
    it.each(sharedFeeds().map((f) => [basename(f), f]))('%s', (_n, feed) => {
      const { read } = compile(feed);
      const set = read('panos-set.txt');
      const services = [...set.matchAll(/^set service (\S+) protocol (tcp|udp) port (\S+)$/gm)];
      const byPorts = new Map<string, string[]>();
      for (const [, name, proto, ports] of services)
        byPorts.set(`${proto} ${ports}`, [...(byPorts.get(`${proto} ${ports}`) ?? []), name]);
      for (const [k, names] of byPorts) expect(names, k).toHaveLength(1);
      // every IP and URL bucket of one (protocol, ports) shares one rule (URL categories get their own)
      const rules = [
        ...set.matchAll(
          /^set rulebase security rules (\S+) from .* category any .* service (\S+) /gm,
        ),
      ];
      const perService = new Map<string, string[]>();
      for (const [, rule, svc] of rules)
        perService.set(svc, [...(perService.get(svc) ?? []), rule]);
      for (const [svc, rs] of perService) expect(rs, svc).toHaveLength(1);
      expect(perService.size).toBeGreaterThan(0);
    });
  },
);

describe('--panos-max-address-objects', () => {
  it.each([
    [6, 0],
    [5, 1],
  ])('6 address objects against a limit of %i: exit %i', (limit, code) => {
    const dir = tmpDir('pa-max');
    const list = join(dir, 'six.txt');
    // six prefixes that do not merge, each its own address object
    writeFileSync(list, [0, 2, 4, 6, 8, 10].map((i) => `192.0.2.${i * 16}/28`).join('\n') + '\n');
    const out = join(dir, 'out');
    const r = compileHere([
      '--input',
      list,
      '--input-format',
      'prefixes',
      '--tcp-ports',
      '443',
      '--target',
      'paloalto',
      '--out',
      out,
      '--panos-max-address-objects',
      String(limit),
    ]);
    expect(r.code).toBe(code);
    if (code)
      expect(r.stderr).toMatch(/6 address objects exceed --panos-max-address-objects 5 by 1/);
    else
      expect(
        readFileSync(join(out, 'panos-set.txt'), 'utf8').match(/^set address /gm),
      ).toHaveLength(12);
  });
});
