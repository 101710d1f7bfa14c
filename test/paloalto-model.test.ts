/**
 * PAN-OS in-process, piece by piece: scopes (text, read back from an untrusted report, paths,
 * words, xpaths), every option and its refusal word for word, names cut at their limit, URL
 * entries, the previous run's inventory refused in each tampered shape, and the deletes and
 * moves a change produces. (paloalto.test.ts checks whole configs against Palo Alto's specs.)
 */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { refusal } from './helpers/refusal.js';
import {
  addressName,
  bucketOf,
  fitName,
  fqdnName,
  panosOptions,
  PANOS_OPTIONS,
  panosUrl,
  parseScopeText,
  rulebaseOf,
  scopePath,
  scopeText,
  scopeWords,
  type PanosConfig,
  type PanosScope,
} from '../targets/paloalto/model.js';
import {
  checkInventory,
  deleteCommand,
  deleteXpath,
  panosDeletes,
  panosElement,
  panosMoves,
  panosXml,
  scopeXpath,
  type PanosInventory,
} from '../targets/paloalto/render.js';
import { paloalto } from '../targets/paloalto/index.js';
import { buildPanos } from '../targets/paloalto/model.js';
import { compile, readFeed } from '../src/index.js';
import { parsePrefixList } from '../src/sources/prefixlist.js';
import { optionKey } from '../targets/define.js';

const KEYS = Object.fromEntries(
  Object.entries(PANOS_OPTIONS).map(([k, spec]) => [k, optionKey(spec)]),
) as Record<keyof typeof PANOS_OPTIONS, string>;
const options = (o: Partial<Record<keyof typeof PANOS_OPTIONS, unknown>> = {}) =>
  panosOptions(
    paloalto.parseOptions(
      Object.fromEntries(Object.entries(o).map(([k, v]) => [KEYS[k as keyof typeof KEYS], v])),
    ) as never,
  );

const VSYS1: PanosScope = { kind: 'vsys', name: 'vsys1' };
const VSYS2: PanosScope = { kind: 'vsys', name: 'vsys2' };
const DG: PanosScope = { kind: 'device-group', name: 'branches', rulebase: 'pre-rulebase' };
const DG_POST: PanosScope = { kind: 'device-group', name: 'branches', rulebase: 'post-rulebase' };
const SHARED: PanosScope = { kind: 'shared', rulebase: 'post-rulebase' };

describe('scopes', () => {
  it.each([
    [
      VSYS1,
      'vsys:vsys1',
      '',
      'rulebase',
      "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']",
    ],
    [
      VSYS2,
      'vsys:vsys2',
      'vsys vsys2 ',
      'rulebase',
      "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys2']",
    ],
    [
      DG,
      'device-group:branches:pre-rulebase',
      'device-group branches ',
      'pre-rulebase',
      "/config/devices/entry[@name='localhost.localdomain']/device-group/entry[@name='branches']",
    ],
    [
      DG_POST,
      'device-group:branches:post-rulebase',
      'device-group branches ',
      'post-rulebase',
      "/config/devices/entry[@name='localhost.localdomain']/device-group/entry[@name='branches']",
    ],
    [SHARED, 'shared:post-rulebase', 'shared ', 'post-rulebase', '/config/shared'],
  ] as const)('%j: text %s, words %j, rulebase %s, xpath %s', (s, text, words, rb, xpath) => {
    expect(scopeText(s)).toBe(text);
    expect(parseScopeText(text)).toEqual(s);
    expect(scopeWords(s)).toBe(words);
    expect(rulebaseOf(s)).toBe(rb);
    expect(scopeXpath(s)).toBe(xpath);
  });

  it('scopePath: below <config>, the device entry then the vsys or device group', () => {
    expect(scopePath(SHARED)).toEqual([['shared']]);
    expect(scopePath(DG)).toEqual([
      ['devices'],
      ['entry', 'localhost.localdomain'],
      ['device-group'],
      ['entry', 'branches'],
    ]);
    expect(scopePath(VSYS2)[2]).toEqual(['vsys']);
  });

  it.each([
    'vsys:',
    'vsys:a:b',
    'vsys:shared',
    'vsys:-a',
    'vsys:a b',
    `vsys:${'a'.repeat(32)}`,
    'device-group:x',
    'device-group:x:mid-rulebase',
    'device-group:shared:pre-rulebase',
    'shared',
    'shared:rulebase',
    'VSYS:vsys1',
    ' vsys:vsys1',
    'vsys:vsys1 ',
    'vsys:vsys1\n',
    '',
  ])('an untrusted scope text %j is not read as a scope', (t) => {
    expect(parseScopeText(t)).toBeUndefined();
  });
  it('a name of 31 characters is', () => {
    expect(parseScopeText(`vsys:${'a'.repeat(31)}`)).toEqual({
      kind: 'vsys',
      name: 'a'.repeat(31),
    });
  });
});

describe('options', () => {
  it('the defaults: vsys1, any zone and source, the platform limits, no move, no EDL', () => {
    expect(options()).toEqual({
      scope: VSYS1,
      fromZones: ['any'],
      toZones: ['any'],
      sources: ['any'],
      inFromZones: ['any'],
      inToZones: ['any'],
      edlUrlBase: undefined,
      edlMaxEntries: 50000,
      edlMaxLists: 30,
      maxAddressObjects: 20000,
      ipEdl: false,
    });
  });

  it('each option is carried through', () => {
    const o = options({
      scope: 'device-group:branches',
      rulebase: 'post',
      fromZone: 'trust,dmz.2',
      toZone: 'untrust',
      inFromZone: 'internet',
      inToZone: 'mail',
      source: 'lan-hosts,10.1.0.0/16,2001:DB8:0::/48',
      edlUrlBase: 'https://edl.example:8443/m365//',
      edlMaxEntries: '100',
      edlMaxLists: '3',
      maxAddressObjects: '7',
      move: 'before:deny all',
      ipEdl: true,
    });
    expect(o).toEqual({
      move: { where: 'before', rule: 'deny all' },
      scope: DG_POST,
      fromZones: ['trust', 'dmz.2'],
      toZones: ['untrust'],
      sources: ['lan-hosts', '10.1.0.0/16', '2001:db8::/48'],
      inFromZones: ['internet'],
      inToZones: ['mail'],
      edlUrlBase: 'https://edl.example:8443/m365',
      edlMaxEntries: 100,
      edlMaxLists: 3,
      maxAddressObjects: 7,
      ipEdl: true,
    });
    expect(options({ move: 'top' }).move).toEqual({ where: 'top' });
    expect(options({ scope: 'shared' }).scope).toEqual({
      kind: 'shared',
      rulebase: 'pre-rulebase',
    });
    expect(options({ scope: 'shared', rulebase: 'pre' }).scope).toEqual({
      kind: 'shared',
      rulebase: 'pre-rulebase',
    });
    expect(options({ scope: 'device-group:b' }).scope).toEqual({
      kind: 'device-group',
      name: 'b',
      rulebase: 'pre-rulebase',
    });
    expect(options({ vsys: 'vsys3' }).scope).toEqual({ kind: 'vsys', name: 'vsys3' });
    expect(options({ scope: 'vsys:vsys4' }).scope).toEqual({ kind: 'vsys', name: 'vsys4' });
  });

  const SCOPE_HELP =
    'vsys:NAME, device-group:NAME or shared (a name is 1-31 letters, digits, "_", "." or "-")';
  it.each([
    [
      { scope: 'vsys:a', vsys: 'b' },
      'paloalto: --panos-vsys and --panos-scope both given; use --panos-scope vsys:NAME alone',
    ],
    [{ scope: 'vsys:' }, `paloalto: --panos-scope "vsys:": ${SCOPE_HELP}`],
    [{ scope: 'dg:x' }, `paloalto: --panos-scope "dg:x": ${SCOPE_HELP}`],
    [{ scope: 'shared:x' }, `paloalto: --panos-scope "shared:x": ${SCOPE_HELP}`],
    [
      { scope: `vsys:${'a'.repeat(32)}` },
      `paloalto: --panos-scope "vsys:${'a'.repeat(32)}": ${SCOPE_HELP}`,
    ],
    [{ vsys: 'a b' }, `paloalto: --panos-vsys "a b": ${SCOPE_HELP}`],
    [
      { scope: 'device-group:shared' },
      'paloalto: --panos-scope "device-group:shared": a vsys or device group cannot be named "shared"; use --panos-scope shared',
    ],
    [
      { vsys: 'shared' },
      'paloalto: --panos-vsys "vsys:shared": a vsys or device group cannot be named "shared"; use --panos-scope shared',
    ],
    [
      { scope: 'vsys:vsys2', rulebase: 'post' },
      'paloalto: --panos-rulebase applies to Panorama scopes (device-group:NAME, shared), not to a vsys',
    ],
    [
      { rulebase: 'pre' },
      'paloalto: --panos-rulebase applies to Panorama scopes (device-group:NAME, shared), not to a vsys',
    ],
    [
      { ipEdl: true },
      'paloalto: --panos-ip-edl needs --panos-edl-url-base: the rules name the lists, the firewall fetches them from there',
    ],
    [{ rulebase: 'middle' }, '--panos-rulebase "middle": one of pre, post'],
    [{ fromZone: 'trust,' }, '--panos-from-zone "trust,": "" is not a valid name'],
    [{ toZone: 'un trusted!' }, '--panos-to-zone "un trusted!": "un trusted!" is not a valid name'],
    [
      { inFromZone: `z${'a'.repeat(31)}` },
      `--panos-in-from-zone "z${'a'.repeat(31)}": "z${'a'.repeat(31)}" is not a valid name`,
    ],
    [{ inToZone: '-mail' }, '--panos-in-to-zone "-mail": "-mail" is not a valid name'],
    [{ source: 'lan;rm' }, '--panos-source "lan;rm": "lan;rm" is not a valid name'],
    [
      { edlUrlBase: 'ftp://edl.example/' },
      '--panos-edl-url-base "ftp://edl.example/": is not a plain http(s) URL',
    ],
    [
      { edlUrlBase: 'https://edl.example/a?b' },
      '--panos-edl-url-base "https://edl.example/a?b": is not a plain http(s) URL',
    ],
    [
      { edlUrlBase: 'https://user@edl.example/' },
      '--panos-edl-url-base "https://user@edl.example/": is not a plain http(s) URL',
    ],
    [
      { move: 'bottom' },
      '--panos-move "bottom": top, or before:RULE with the name of one of your rules (letters, digits, "_", "-", ".", space)',
    ],
    [
      { move: 'before:' },
      '--panos-move "before:": top, or before:RULE with the name of one of your rules (letters, digits, "_", "-", ".", space)',
    ],
    [
      { move: `before:${'r'.repeat(64)}` },
      `--panos-move "before:${'r'.repeat(64)}": top, or before:RULE with the name of one of your rules (letters, digits, "_", "-", ".", space)`,
    ],
  ])('%j is refused: %s', (o, msg) => {
    expect(refusal(() => options(o))).toBe(msg);
  });

  it.each(['xbefore:deny', 'before deny', 'Top', ' top', 'top:', 'top\n'])(
    '--panos-move %j is refused (top or before:RULE, the whole text)',
    (move) => {
      expect(refusal(() => options({ move }))).toBe(
        `--panos-move ${JSON.stringify(move)}: top, or before:RULE with the name of one of your rules (letters, digits, "_", "-", ".", space)`,
      );
    },
  );

  it('zones of 31 characters, rules of 63, sources of 63 and every count from 1 are accepted', () => {
    expect(options({ fromZone: `z${'a'.repeat(30)}` }).fromZones).toEqual([`z${'a'.repeat(30)}`]);
    expect(options({ move: `before:${'r'.repeat(63)}` }).move).toEqual({
      where: 'before',
      rule: 'r'.repeat(63),
    });
    expect(options({ source: `s${'a'.repeat(62)}` }).sources).toEqual([`s${'a'.repeat(62)}`]);
    expect(refusal(() => options({ source: `s${'a'.repeat(63)}` }))).toMatch(
      /is not a valid name$/,
    );
    expect(options({ edlMaxEntries: '1', edlMaxLists: '1', maxAddressObjects: '1' })).toMatchObject(
      { edlMaxEntries: 1, edlMaxLists: 1, maxAddressObjects: 1 },
    );
    expect(refusal(() => options({ edlMaxEntries: '0' }))).toMatch(/^--panos-edl-max-entries/);
    expect(refusal(() => options({ edlMaxLists: '0' }))).toMatch(/^--panos-edl-max-lists/);
    expect(refusal(() => options({ maxAddressObjects: '0' }))).toMatch(
      /^--panos-max-address-objects/,
    );
    expect(options({ edlUrlBase: 'http://edl.example' }).edlUrlBase).toBe('http://edl.example');
  });

  it('a source prefix with host bits is refused as the address parser says', () => {
    expect(refusal(() => options({ source: '10.1.0.1/16' }))).toMatch(
      /^--panos-source "10\.1\.0\.1\/16": --panos-source.*10\.1\.0\.1\/16/,
    );
  });
});

describe('names and URL entries', () => {
  it('fitName keeps a name of max characters and cuts one more, with a content hash', () => {
    expect(fitName('a'.repeat(63), 63)).toBe('a'.repeat(63));
    const cut = fitName('a'.repeat(64), 63);
    expect(cut).toHaveLength(63);
    expect(cut).toMatch(/^a{54}-[0-9a-f]{8}$/);
    expect(fitName('a'.repeat(63) + 'b', 63)).not.toBe(cut);
  });
  it('address, FQDN and bucket names', () => {
    expect(addressName('198.51.100.0/24')).toBe('m365-198_51_100_0-24');
    expect(addressName('2001:db8::/32')).toBe('m365-2001_db8__-32');
    expect(fqdnName('outlook.example.com')).toBe('m365-fqdn-outlook_example_com');
    expect(fqdnName(`${'a'.repeat(60)}.example`)).toHaveLength(63);
    expect(bucketOf({ protocol: 'any', ports: [] })).toBe('any');
    expect(
      bucketOf({
        protocol: 'tcp',
        ports: [
          { from: 80, to: 80 },
          { from: 443, to: 443 },
        ],
      }),
    ).toBe('tcp_80_443');
    expect(bucketOf({ protocol: 'udp', ports: [{ from: 3478, to: 3481 }] })).toBe('udp_3478to3481');
  });
  it('panosUrl: a trailing "/" on every entry; a partial label or a tenant placeholder widened', () => {
    expect(panosUrl('outlook.example.com', 'fqdn')).toEqual({ entry: 'outlook.example.com/' });
    expect(panosUrl('*.example.com', 'wildcard')).toEqual({ entry: '*.example.com/' });
    expect(panosUrl('*cdn.example.com', 'partial-wildcard')).toEqual({
      entry: '*.example.com/',
      widened:
        'a "*" inside a label is not PAN-OS syntax: *cdn.example.com widened to *.example.com',
    });
    expect(panosUrl('autodiscover.*.onmicrosoft.example', 'tenant')).toEqual({
      entry: 'autodiscover.*.onmicrosoft.example/',
      widened: 'tenant placeholder matches every tenant (pass --tenant to narrow it)',
    });
  });
});

const INV: PanosInventory = {
  scope: 'vsys:vsys1',
  rules: {
    'm365-tcp_443': {
      from: ['trust'],
      to: ['untrust'],
      source: ['any'],
      destination: ['m365-grp-v4-tcp_443', 'm365-grp-v6-tcp_443'],
      service: ['m365-svc-tcp_443'],
      category: ['any'],
    },
    'm365-url-tcp_443': {
      from: ['trust'],
      to: ['untrust'],
      source: ['any'],
      destination: ['any'],
      service: ['m365-svc-tcp_443'],
      category: ['m365-url-tcp_443'],
    },
  },
  groups: {
    'm365-grp-v4-tcp_443': ['m365-198_51_100_0-24', 'm365-203_0_113_0-24'],
    'm365-grp-v6-tcp_443': ['m365-2001_db8__-32'],
  },
  urlCategories: { 'm365-url-tcp_443': ['outlook.example.com/', '*.example.org/'] },
  addresses: ['m365-198_51_100_0-24', 'm365-2001_db8__-32', 'm365-203_0_113_0-24'],
  services: ['m365-svc-tcp_443'],
  externalLists: [],
};
const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe("the previous run's inventory (untrusted)", () => {
  const WHERE = 'out/report.json: /targets/paloalto/inventory';
  const why = (path: string, value: string, w: string) =>
    `${WHERE}${path}: ${value} ${w}; refusing to delete from it (move report.json away to start without deletes)`;
  const tamper = (f: (x: Record<string, any>) => void) => {
    const x = copy(INV) as unknown as Record<string, any>;
    f(x);
    return refusal(() => checkInventory(x, WHERE, { kind: 'vsys', name: 'vsys1' }));
  };
  const NOT_WRITTEN = 'is not a name m365fw writes';

  it('a good one reads back as it was; a 0.2.0 report with a vsys name too', () => {
    expect(checkInventory(copy(INV), WHERE, { kind: 'vsys', name: 'vsys1' })).toEqual(INV);
    const old = copy(INV) as unknown as Record<string, unknown>;
    delete old.scope;
    old.vsys = 'vsys2';
    expect(checkInventory(old).scope).toBe('vsys:vsys2');
    // a rule without some list: an empty one
    const partial = copy(INV) as unknown as Record<string, any>;
    delete partial.rules['m365-tcp_443'].category;
    expect(checkInventory(partial).rules['m365-tcp_443'].category).toEqual([]);
  });

  it.each<[string, (x: Record<string, any>) => void]>([
    [why('/scope', '"vsys:a;b"', 'is not a scope'), (x) => (x.scope = 'vsys:a;b')],
    [why('/scope', '7', 'is not a scope'), (x) => (x.scope = 7)],
    [why('/scope', 'undefined', 'is not a scope'), (x) => delete x.scope],
    [
      why('/scope', '"device-group:shared:pre-rulebase"', 'is not a scope'),
      (x) => (x.scope = 'device-group:shared:pre-rulebase'),
    ],
    [why('/rules', '[]', 'is not an object'), (x) => (x.rules = [])],
    [why('/rules', 'null', 'is not an object'), (x) => (x.rules = null)],
    [why('/rules/bad"name', '"bad\\"name"', NOT_WRITTEN), (x) => (x.rules = { 'bad"name': {} })],
    [why('/rules/m365-tcp_443', '"x"', 'is not an object'), (x) => (x.rules['m365-tcp_443'] = 'x')],
    [
      why('/rules/m365-tcp_443/destination', '"any"', 'is not a list'),
      (x) => (x.rules['m365-tcp_443'].destination = 'any'),
    ],
    [
      why('/rules/m365-tcp_443/from/0', '"trust\\"; delete"', NOT_WRITTEN),
      (x) => (x.rules['m365-tcp_443'].from = ['trust"; delete']),
    ],
    [
      why('/rules/m365-tcp_443/service/0', '7', NOT_WRITTEN),
      (x) => (x.rules['m365-tcp_443'].service = [7]),
    ],
    [
      why('/rules/m365-tcp_443/category/0', '""', NOT_WRITTEN),
      (x) => (x.rules['m365-tcp_443'].category = ['']),
    ],
    [
      why('/rules/m365-tcp_443/to/0', '"a\\nb"', NOT_WRITTEN),
      (x) => (x.rules['m365-tcp_443'].to = ['a\nb']),
    ],
    [
      why('/rules/m365-tcp_443/source/0', `"${'x'.repeat(116)}...`, NOT_WRITTEN),
      (x) => (x.rules['m365-tcp_443'].source = ['x'.repeat(256)]),
    ],
    [why('/groups', 'undefined', 'is not an object'), (x) => (x.groups = undefined)],
    [
      why('/groups/m365-grp-v4-tcp_443', '{}', 'is not a list'),
      (x) => (x.groups['m365-grp-v4-tcp_443'] = {}),
    ],
    [why("/groups/it's", '"it\'s"', NOT_WRITTEN), (x) => (x.groups = { "it's": [] })],
    [why('/urlCategories', '"x"', 'is not an object'), (x) => (x.urlCategories = 'x')],
    [
      why('/urlCategories/m365-url-tcp_443/0', '"<a>"', NOT_WRITTEN),
      (x) => (x.urlCategories['m365-url-tcp_443'] = ['<a>']),
    ],
    [why('/addresses', '{"a":1}', 'is not a list'), (x) => (x.addresses = { a: 1 })],
    [why('/addresses/0', '"m365-a\']"', NOT_WRITTEN), (x) => (x.addresses = ["m365-a']"])],
    [why('/services', 'undefined', 'is not a list'), (x) => delete x.services],
    [why('/externalLists/0', '"a\\u0000"', NOT_WRITTEN), (x) => (x.externalLists = ['a\u0000'])],
    // a JSON Pointer escapes "/" and "~" in a name
    [why('/groups/a~1b~0c', '"a/b~c"', NOT_WRITTEN), (x) => (x.groups = { 'a/b~c': [] })],
  ])('refused: %s', (message, f) => {
    expect(tamper(f)).toBe(message);
  });

  // what m365fw never made: an operator's objects of every kind, and objects in other scopes
  it.each<[string, string, (x: Record<string, any>) => void]>([
    ['/rules/deny-all', 'm365-…', (x) => (x.rules['deny-all'] = x.rules['m365-tcp_443'])],
    ['/groups/branch-servers', 'm365-grp-…', (x) => (x.groups['branch-servers'] = [])],
    ['/groups/m365-tcp_443', 'm365-grp-…', (x) => (x.groups['m365-tcp_443'] = [])],
    [
      '/groups/m365-grp-v4-tcp_443/2',
      'm365-ADDRESS or m365-fqdn-…',
      (x) => x.groups['m365-grp-v4-tcp_443'].push('corp-dns'),
    ],
    [
      '/groups/m365-grp-v4-tcp_443/2',
      'm365-ADDRESS or m365-fqdn-…',
      (x) => x.groups['m365-grp-v4-tcp_443'].push('m365-grp-nested'),
    ],
    ['/urlCategories/allowed-sites', 'm365-url-…', (x) => (x.urlCategories['allowed-sites'] = [])],
    [
      '/urlCategories/m365-url-' + 'x'.repeat(23),
      'm365-url-…',
      (x) => (x.urlCategories['m365-url-' + 'x'.repeat(23)] = []),
    ],
    ['/addresses/3', 'm365-ADDRESS or m365-fqdn-…', (x) => x.addresses.push('dns-server')],
    ['/addresses/3', 'm365-ADDRESS or m365-fqdn-…', (x) => x.addresses.push('m365-svc-tcp_443')],
    ['/services/1', 'm365-svc-…', (x) => x.services.push('service-https')],
    ['/externalLists/0', 'm365-edl-…', (x) => x.externalLists.push('panw-bulletproof-ip-list')],
    ['/externalLists/0', 'm365-edl-…', (x) => x.externalLists.push('m365-edl-' + 'x'.repeat(24))],
  ])('a foreign name at %s is refused (m365fw names them %s)', (path, form, f) => {
    const x = copy(INV) as unknown as Record<string, any>;
    f(x);
    expect(refusal(() => checkInventory(x, WHERE, { kind: 'vsys', name: 'vsys1' }))).toMatch(
      new RegExp(
        `^${WHERE}${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ".*" is not a name m365fw gives \\(${form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); refusing to delete from it`,
      ),
    );
  });

  it('the longest names m365fw gives each kind pass; one more character does not', () => {
    const x = copy(INV);
    x.urlCategories = { ['m365-url-' + 'x'.repeat(22)]: [] };
    x.externalLists = ['m365-edl-' + 'x'.repeat(23)];
    x.addresses = ['m365-' + '1'.repeat(58)];
    x.rules = { ['m365-' + 'a'.repeat(58)]: x.rules['m365-tcp_443'] };
    expect(() => checkInventory(x, WHERE, { kind: 'vsys', name: 'vsys1' })).not.toThrow();
    x.addresses = ['m365-' + '1'.repeat(59)];
    expect(() => checkInventory(x, WHERE, { kind: 'vsys', name: 'vsys1' })).toThrow(/addresses\/0/);
  });

  it.each<[string, string, string]>([
    ['another vsys', 'vsys:vsys2', 'vsys:vsys1'],
    ['a device group', 'device-group:dg1:pre-rulebase', 'vsys:vsys1'],
    ['the other rulebase', 'device-group:dg1:post-rulebase', 'device-group:dg1:pre-rulebase'],
    ['shared', 'shared:pre-rulebase', 'device-group:dg1:pre-rulebase'],
  ])(
    'objects in %s are not deleted from a run in another scope; --panos-previous-scope names it',
    (_w, prev, now) => {
      const x = copy(INV);
      x.scope = prev;
      const scope = parseScopeText(now)!;
      expect(refusal(() => checkInventory(x, WHERE, scope))).toBe(
        why(
          '/scope',
          JSON.stringify(prev),
          `is not this run's scope (${now}); m365fw deletes only inside the scope it writes to: say --panos-previous-scope ${prev} to remove the previous run's objects there`,
        ),
      );
      expect(checkInventory(x, WHERE, scope, parseScopeText(prev)).scope).toBe(prev);
      // naming another scope than the previous one does not open it
      expect(() => checkInventory(x, WHERE, scope, parseScopeText('vsys:vsys9'))).toThrow(
        /is not this run's scope/,
      );
    },
  );

  it('refuses what is not an object at all', () => {
    for (const x of [null, undefined, 'x', 7, [], [INV]])
      expect(
        refusal(() => checkInventory(x, WHERE)),
        JSON.stringify(x),
      ).toMatch(new RegExp(`^${WHERE}: .* is not an object; refusing to delete from it`));
    // 255 characters is a token, 256 is not (for the lists of m365fw's own rules)
    const long = copy(INV);
    long.rules['m365-tcp_443'].from = ['a'.repeat(255)];
    expect(checkInventory(long).rules['m365-tcp_443'].from).toEqual(['a'.repeat(255)]);
  });
});

describe('deletes and moves', () => {
  it('nothing changed: nothing to delete', () => {
    expect(panosDeletes(INV, copy(INV))).toEqual([]);
  });

  it('what left goes: rules and their members first, then categories, groups, objects', () => {
    const cur = copy(INV);
    delete cur.rules['m365-url-tcp_443'];
    cur.rules['m365-tcp_443'].destination = ['m365-grp-v4-tcp_443'];
    delete cur.groups['m365-grp-v6-tcp_443'];
    cur.groups['m365-grp-v4-tcp_443'] = ['m365-198_51_100_0-24'];
    cur.urlCategories['m365-url-tcp_443'] = ['outlook.example.com/'];
    cur.addresses = ['m365-198_51_100_0-24'];
    cur.services = [];
    const d = panosDeletes(INV, cur);
    expect(d.map(deleteCommand)).toEqual([
      'delete rulebase security rules m365-tcp_443 destination m365-grp-v6-tcp_443',
      'delete rulebase security rules m365-url-tcp_443',
      'delete profiles custom-url-category m365-url-tcp_443 list *.example.org/',
      'delete address-group m365-grp-v4-tcp_443 static m365-203_0_113_0-24',
      'delete address-group m365-grp-v6-tcp_443',
      'delete address m365-2001_db8__-32',
      'delete address m365-203_0_113_0-24',
      'delete service m365-svc-tcp_443',
    ]);
    const x = "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']";
    expect(d.map(deleteXpath).slice(0, 3)).toEqual([
      `${x}/rulebase/security/rules/entry[@name='m365-tcp_443']/destination/member[text()='m365-grp-v6-tcp_443']`,
      `${x}/rulebase/security/rules/entry[@name='m365-url-tcp_443']`,
      `${x}/profiles/custom-url-category/entry[@name='m365-url-tcp_443']/list/member[text()='*.example.org/']`,
    ]);
  });

  it('another scope: everything of the previous one goes from where it was, with its tag', () => {
    const cur = { ...copy(INV), scope: 'device-group:branches:pre-rulebase' };
    const d = panosDeletes({ ...copy(INV), scope: 'vsys:vsys2' }, cur);
    expect(d.map(deleteCommand)).toEqual([
      'delete vsys vsys2 rulebase security rules m365-tcp_443',
      'delete vsys vsys2 rulebase security rules m365-url-tcp_443',
      'delete vsys vsys2 profiles custom-url-category m365-url-tcp_443',
      'delete vsys vsys2 address-group m365-grp-v4-tcp_443',
      'delete vsys vsys2 address-group m365-grp-v6-tcp_443',
      'delete vsys vsys2 address m365-198_51_100_0-24',
      'delete vsys vsys2 address m365-2001_db8__-32',
      'delete vsys vsys2 address m365-203_0_113_0-24',
      'delete vsys vsys2 service m365-svc-tcp_443',
      'delete vsys vsys2 tag m365fw',
    ]);
    const dg = panosDeletes(
      { ...copy(INV), scope: 'device-group:branches:pre-rulebase', externalLists: ['m365-edl-v4'] },
      { ...copy(INV), scope: 'device-group:branches:post-rulebase' },
    );
    expect(dg.map(deleteCommand)[0]).toBe(
      'delete device-group branches pre-rulebase security rules m365-tcp_443',
    );
    expect(dg.map(deleteCommand).slice(-2)).toEqual([
      'delete device-group branches external-list m365-edl-v4',
      'delete device-group branches tag m365fw',
    ]);
  });

  it('names with a space are quoted; a quote or newline cannot be written at all', () => {
    const d = { scope: VSYS1, kind: ['address'], name: 'my host' };
    expect(deleteCommand(d)).toBe('delete address "my host"');
    expect(deleteCommand({ ...d, name: 'a*b:c/d.e_f-g' })).toBe('delete address a*b:c/d.e_f-g');
    expect(() => deleteCommand({ ...d, name: 'a"b' })).toThrow('unquotable value "a\\"b"');
    expect(() => deleteCommand({ ...d, name: 'a\\b' })).toThrow('unquotable value');
    expect(() => deleteCommand({ ...d, name: 'a\nb' })).toThrow('unquotable value');
  });

  it('moves: to the top in reverse order, before a rule in order, in the scope`s rulebase', () => {
    const c = {
      scope: DG,
      rules: [{ name: 'm365-a' }, { name: 'm365-b' }],
    } as unknown as PanosConfig;
    expect(panosMoves(c, undefined)).toEqual([]);
    expect(panosMoves(c, { where: 'top' })).toEqual([
      'move device-group branches pre-rulebase security rules m365-b top',
      'move device-group branches pre-rulebase security rules m365-a top',
    ]);
    expect(panosMoves({ ...c, scope: VSYS1 }, { where: 'before', rule: 'deny all' })).toEqual([
      'move rulebase security rules m365-a before "deny all"',
      'move rulebase security rules m365-b before "deny all"',
    ]);
  });
});

const FEED = [
  {
    id: 1,
    serviceArea: 'Exchange',
    category: 'Optimize',
    required: true,
    tcpPorts: '443,80',
    urls: ['outlook.example.com', '*.sp.example.com'],
    ips: ['198.51.100.0/25', '2001:db8:1::/48'],
  },
  {
    id: 2,
    serviceArea: 'Skype',
    category: 'Allow',
    required: true,
    udpPorts: '3478-3481',
    urls: ['*.teams.example.com'],
    ips: ['203.0.113.0/26'],
  },
  {
    id: 3,
    serviceArea: 'Common',
    category: 'Default',
    required: false,
    tcpPorts: '443,8080',
    urls: ['*cdn.example.org', 'autodiscover.*.onmicrosoft.example'],
  },
];
const model = (sets: unknown[] = FEED, o: Parameters<typeof compile>[1] = {}) =>
  compile(readFeed(sets, { name: 'p.json' }), { allowImplausible: ['all'], ...o });
const build = (o: Parameters<typeof options>[0] = {}, m = model()) =>
  buildPanos(m, options({ fromZone: 'trust', toZone: 'untrust', ...o }));
const rule = (
  name: string,
  destination: string[],
  service: string,
  category: string,
  description: string,
) => ({
  name,
  from: ['trust'],
  to: ['untrust'],
  source: ['any'],
  destination,
  service: [service],
  category: [category],
  description,
});

describe('buildPanos', () => {
  it('objects, groups, services, URL categories and rules per port bucket, sorted', () => {
    const { config: c } = build();
    expect(c.addresses).toEqual([
      { name: 'm365-198_51_100_0-25', kind: 'ip-netmask', value: '198.51.100.0/25' },
      { name: 'm365-2001_db8_1__-48', kind: 'ip-netmask', value: '2001:db8:1::/48' },
      { name: 'm365-203_0_113_0-26', kind: 'ip-netmask', value: '203.0.113.0/26' },
      { name: 'm365-fqdn-outlook_example_com', kind: 'fqdn', value: 'outlook.example.com' },
    ]);
    expect(c.groups).toEqual([
      {
        name: 'm365-grp-fqdn-tcp_80_443',
        members: ['m365-fqdn-outlook_example_com'],
        description: 'FQDNs of sets 1',
      },
      {
        name: 'm365-grp-v4-tcp_80_443',
        members: ['m365-198_51_100_0-25'],
        description: 'sets 1 Exchange Optimize required',
      },
      {
        name: 'm365-grp-v4-udp_3478to3481',
        members: ['m365-203_0_113_0-26'],
        description: 'sets 2 Skype Allow required',
      },
      {
        name: 'm365-grp-v6-tcp_80_443',
        members: ['m365-2001_db8_1__-48'],
        description: 'sets 1 Exchange Optimize required',
      },
    ]);
    expect(c.services).toEqual([
      { name: 'm365-svc-tcp_443_8080', protocol: 'tcp', port: '443,8080' },
      { name: 'm365-svc-tcp_80_443', protocol: 'tcp', port: '80,443' },
      { name: 'm365-svc-udp_3478to3481', protocol: 'udp', port: '3478-3481' },
    ]);
    expect(c.urlCategories).toEqual([
      {
        name: 'm365-url-tcp_443_8080',
        members: ['*.example.org/', 'autodiscover.*.onmicrosoft.example/'],
        description: 'wildcard URLs of sets 3 on tcp/443,8080',
      },
      {
        name: 'm365-url-tcp_80_443',
        members: ['*.sp.example.com/'],
        description: 'wildcard URLs of sets 1 on tcp/80,443',
      },
    ]);
    expect(c.rules).toEqual([
      rule(
        'm365-url-tcp_443_8080',
        ['any'],
        'm365-svc-tcp_443_8080',
        'm365-url-tcp_443_8080',
        'URL category m365-url-tcp_443_8080',
      ),
      rule(
        'm365-tcp_80_443',
        ['m365-grp-fqdn-tcp_80_443', 'm365-grp-v4-tcp_80_443', 'm365-grp-v6-tcp_80_443'],
        'm365-svc-tcp_80_443',
        'any',
        'sets 1 Exchange Optimize required',
      ),
      rule(
        'm365-url-tcp_80_443',
        ['any'],
        'm365-svc-tcp_80_443',
        'm365-url-tcp_80_443',
        'URL category m365-url-tcp_80_443',
      ),
      rule(
        'm365-udp_3478to3481',
        ['m365-grp-v4-udp_3478to3481'],
        'm365-svc-udp_3478to3481',
        'any',
        'sets 2 Skype Allow required',
      ),
    ]);
    expect(c.edl).toEqual({
      ipv4: ['198.51.100.0/25', '203.0.113.0/26'],
      ipv6: ['2001:db8:1::/48'],
      urls: [
        '*.example.org/',
        '*.sp.example.com/',
        '*.teams.example.com/',
        'autodiscover.*.onmicrosoft.example/',
        'outlook.example.com/',
      ],
    });
    expect(c.externalLists).toEqual([]);
    expect(c.ruleEdls).toEqual([]);
    expect(c.tag).toBe('m365fw');
  });

  it('findings: wildcards off the web ports and on UDP unenforced, partial labels and tenants widened', () => {
    const { findings, enforces } = build();
    const offWeb =
      'a URL category matches the HTTP Host header or the TLS SNI, which traffic on these ports (other than 80 and 443) does not carry; the wildcard is not enforced there';
    const tail = ' (the form PAN-OS URL lists take: custom URL categories and edl-urls.txt)';
    expect(findings).toEqual([
      {
        kind: 'unenforced',
        target: 'paloalto',
        setIds: ['3'],
        entry: '*cdn.example.org tcp/8080',
        detail: offWeb,
      },
      {
        kind: 'unenforced',
        target: 'paloalto',
        setIds: ['3'],
        entry: 'autodiscover.*.onmicrosoft.example tcp/8080',
        detail: offWeb,
      },
      {
        kind: 'unenforced',
        target: 'paloalto',
        setIds: ['2'],
        entry: '*.teams.example.com udp/3478-3481',
        detail:
          'URL categories match HTTP host and TLS SNI; a wildcard on UDP (QUIC) cannot be enforced by URL category',
      },
      {
        kind: 'widened',
        target: 'paloalto',
        setIds: ['3'],
        entry: '*cdn.example.org → *.example.org/',
        detail: `a "*" inside a label is not PAN-OS syntax: *cdn.example.org widened to *.example.org${tail}`,
      },
      {
        kind: 'widened',
        target: 'paloalto',
        setIds: ['3'],
        entry: 'autodiscover.*.onmicrosoft.example → autodiscover.*.onmicrosoft.example/',
        detail: `tenant placeholder matches every tenant (pass --tenant to narrow it)${tail}`,
      },
    ]);
    expect(enforces).toEqual({
      rules: ['v4_tcp_80_443', 'v4_udp_3478to3481', 'v6_tcp_80_443'],
      names: [
        '*cdn.example.org tcp/443,8080',
        'autodiscover.*.onmicrosoft.example tcp/443,8080',
        'outlook.example.com tcp/80,443',
        '*.sp.example.com tcp/80,443',
      ],
    });
  });

  it('a wildcard on a port range covering 443 is enforced; on 8443 alone it is not, and gets no category', () => {
    const on = (ports: string) =>
      build(
        {},
        model([
          {
            id: 5,
            serviceArea: 'X',
            category: 'Allow',
            required: true,
            tcpPorts: ports,
            urls: ['*.w.example'],
          },
        ]),
      );
    const range = on('400-500');
    expect(range.config.urlCategories.map((u) => u.name)).toEqual(['m365-url-tcp_400to500']);
    expect(range.findings.map((f) => f.entry)).toEqual(['*.w.example tcp/400-500']);
    expect(on('80').findings).toEqual([]);
    expect(on('443').findings).toEqual([]);
    const off = on('8443');
    expect(off.config.urlCategories).toEqual([]);
    expect(off.config.rules).toEqual([]);
    expect(off.enforces.names).toEqual([]);
    expect(off.findings.map((f) => f.entry)).toEqual(['*.w.example tcp/8443']);
  });

  it('an address-only rule is TCP and UDP on every port, and says what it drops', () => {
    const list = parsePrefixList('list.txt', Buffer.from('198.51.100.0/24\n'), {
      tcpPorts: [],
      udpPorts: [],
    });
    const feed = readFeed(FEED, { name: 'p.json' });
    const m = compile({ ...feed, sets: [list] }, { allowImplausible: ['all'] });
    const { config: c, findings } = build({}, m);
    expect(c.services).toEqual([
      { name: 'm365-svc-tcp-all', protocol: 'tcp', port: '1-65535' },
      { name: 'm365-svc-udp-all', protocol: 'udp', port: '1-65535' },
    ]);
    expect(c.rules[0]).toMatchObject({
      name: 'm365-any',
      service: ['m365-svc-tcp-all', 'm365-svc-udp-all'],
    });
    expect(findings).toEqual([
      {
        kind: 'dropped',
        target: 'paloalto',
        setIds: ['prefixes'],
        entry: 'any',
        detail:
          'an address-only rule is rendered for TCP and UDP on every port; other IP protocols (ICMP, ESP, …) are not allowed',
      },
    ]);
  });

  it('ingress: from the groups to the local prefixes, in the ingress zones, named apart', () => {
    const m = model(
      [
        {
          id: 10,
          serviceArea: 'Exchange',
          category: 'Allow',
          required: true,
          tcpPorts: '25',
          ips: ['198.51.100.0/25'],
        },
      ],
      {
        direction: 'both',
        ingress: { local: ['192.0.2.25/32'] },
      },
    );
    const { config: c } = build({ inFromZone: 'internet', inToZone: 'mail' }, m);
    expect(c.rules).toEqual([
      {
        name: 'm365-in-tcp_25',
        from: ['internet'],
        to: ['mail'],
        source: ['m365-grp-in-v4-tcp_25'],
        destination: ['192.0.2.25/32'],
        service: ['m365-svc-tcp_25'],
        category: ['any'],
        description: 'sets 10 Exchange Allow required',
      },
      rule(
        'm365-tcp_25',
        ['m365-grp-v4-tcp_25'],
        'm365-svc-tcp_25',
        'any',
        'sets 10 Exchange Allow required',
      ),
    ]);
    // an ingress source is not an egress destination: the EDLs hold the egress side only
    const only = build(
      {},
      model(
        [
          {
            id: 10,
            serviceArea: 'Exchange',
            category: 'Allow',
            required: true,
            tcpPorts: '25',
            ips: ['198.51.100.0/25'],
          },
        ],
        { direction: 'ingress' },
      ),
    );
    expect(only.config.edl.ipv4).toEqual([]);
    expect(only.config.rules[0].destination).toEqual(['any']);
  });

  it('--panos-ip-edl: one list per rule, served from the URL base, instead of address objects', () => {
    const { config: c } = build({ ipEdl: true, edlUrlBase: 'https://edl.example/m365/' });
    expect(c.addresses.map((a) => a.kind)).toEqual(['fqdn']);
    expect(c.externalLists.map((x) => [x.name, x.type, x.url])).toEqual([
      ['m365-edl-ipv4', 'ip', 'https://edl.example/m365/edl-ipv4.txt'],
      ['m365-edl-ipv6', 'ip', 'https://edl.example/m365/edl-ipv6.txt'],
      ['m365-edl-urls', 'url', 'https://edl.example/m365/edl-urls.txt'],
      ['m365-edl-v4-tcp_80_443', 'ip', 'https://edl.example/m365/edl-v4-tcp_80_443.txt'],
      ['m365-edl-v4-udp_3478to3481', 'ip', 'https://edl.example/m365/edl-v4-udp_3478to3481.txt'],
      ['m365-edl-v6-tcp_80_443', 'ip', 'https://edl.example/m365/edl-v6-tcp_80_443.txt'],
    ]);
    expect(c.externalLists.find((x) => x.name === 'm365-edl-v4-tcp_80_443')?.description).toBe(
      'sets 1 Exchange Optimize required',
    );
    expect(c.ruleEdls.map((e) => [e.file, e.rule.key])).toEqual([
      ['edl-v4-tcp_80_443.txt', 'v4_tcp_80_443'],
      ['edl-v6-tcp_80_443.txt', 'v6_tcp_80_443'],
      ['edl-v4-udp_3478to3481.txt', 'v4_udp_3478to3481'],
    ]);
    expect(c.rules.find((r) => r.name === 'm365-tcp_80_443')?.destination).toEqual([
      'm365-edl-v4-tcp_80_443',
      'm365-edl-v6-tcp_80_443',
      'm365-grp-fqdn-tcp_80_443',
    ]);
  });
});

describe('buildPanos limits, at each and one past', () => {
  const many = (n: number) => [
    {
      id: 1,
      serviceArea: 'X',
      category: 'Allow',
      required: true,
      tcpPorts: '443',
      // every other /32: nothing merges
      ips: Array.from({ length: n }, (_, i) => `198.51.100.${2 * i}/32`),
    },
  ];
  it('--panos-max-address-objects', () => {
    expect(refusal(() => build({ maxAddressObjects: '3' }, model(many(3))))).toBe('accepted');
    expect(refusal(() => build({ maxAddressObjects: '3' }, model(many(4))))).toBe(
      'paloalto: 4 address objects exceed --panos-max-address-objects 3 by 1; put the prefixes in EDLs (--panos-ip-edl with --panos-edl-url-base) or narrow the input',
    );
  });
  it('--panos-edl-max-entries, for the shared lists and for a rule`s own', () => {
    expect(refusal(() => build({ edlMaxEntries: '3' }, model(many(3))))).toBe('accepted');
    expect(refusal(() => build({ edlMaxEntries: '3' }, model(many(4))))).toBe(
      "paloalto: EDL ipv4 holds 4 entries, over --panos-edl-max-entries 3 by 1; check your platform's EDL capacity or narrow the input",
    );
    const edl = { ipEdl: true, edlUrlBase: 'https://edl.example' };
    expect(refusal(() => build({ ...edl, edlMaxEntries: '3' }, model(many(4))))).toBe(
      "paloalto: EDL m365-edl-v4-tcp_443 holds 4 entries, over --panos-edl-max-entries 3 by 1; check your platform's EDL capacity or narrow the input",
    );
  });
  it('--panos-edl-max-lists: the three shared lists and one per rule with --panos-ip-edl', () => {
    expect(refusal(() => build({ edlMaxLists: '3' }))).toBe('accepted');
    expect(refusal(() => build({ edlMaxLists: '2' }))).toBe(
      'paloalto: 3 EDLs exceed --panos-edl-max-lists 2',
    );
    const edl = { ipEdl: true, edlUrlBase: 'https://edl.example' };
    expect(refusal(() => build({ ...edl, edlMaxLists: '6' }))).toBe('accepted');
    expect(refusal(() => build({ ...edl, edlMaxLists: '5' }))).toBe(
      'paloalto: 6 EDLs exceed --panos-edl-max-lists 5',
    );
  });
  it('a service port list of 1023 characters fits, 1024 do not', () => {
    const list = (s: string) =>
      model([
        {
          id: 1,
          serviceArea: 'X',
          category: 'Allow',
          required: true,
          tcpPorts: s,
          ips: ['198.51.100.0/24'],
        },
      ]);
    // 170 five-digit ports are 170 × 6 - 1 = 1019 characters; one more of 3 or 4 digits makes 1023 or 1024
    const five = Array.from({ length: 170 }, (_, i) => 10000 + 2 * i);
    expect(five.join(',')).toHaveLength(1019);
    const svc = (s: string) => build({}, list(s)).config.services[0].port;
    expect(svc([...five, 100].join(','))).toHaveLength(1023);
    expect(refusal(() => build({}, list([...five, 1000].join(','))))).toMatch(
      /^paloalto: port list of tcp_1000_10000_10002_\S+ is longer than 1023 characters$/,
    );
  });
});

describe('the files', () => {
  const FEED1 = [
    {
      id: 1,
      serviceArea: 'Exchange',
      category: 'Optimize',
      required: true,
      tcpPorts: '443',
      urls: ['outlook.example.com', '*.sp.example.com'],
      ips: ['198.51.100.0/25'],
    },
  ];
  const PREV = {
    scope: 'device-group:br:pre-rulebase',
    rules: { 'm365-old_rule': {} },
    groups: {},
    urlCategories: {},
    addresses: ['m365-a'],
    services: [],
    externalLists: [],
  };
  const run = (raw: Record<string, unknown>, previousInventory?: Record<string, unknown>) =>
    paloalto.render(model(FEED1), paloalto.parseOptions(raw), {
      provenance: [],
      previousInventory,
    });
  const DG_RAW = {
    panosScope: 'device-group:br',
    panosMove: 'top',
    panosEdlUrlBase: 'https://e.example/x',
  };
  const bodyOf = (b: string | readonly Uint8Array[]) =>
    typeof b === 'string' ? b : Buffer.concat(b.map((x) => Buffer.from(x))).toString('utf8');

  it('panos-set.txt: the hint, the deletes, every object and rule, the moves, in that order', () => {
    const r = run(DG_RAW, PREV);
    const set = r.files.find((f) => f.path === 'panos-set.txt')!;
    expect((set.body as string).split('\n')).toEqual([
      "# paste in Panorama's configure mode, review, commit, then push: commit-all shared-policy device-group br",
      '# 2 deletes: what the previous run (its report.json) put on the firewall and this run drops',
      'delete device-group br pre-rulebase security rules m365-old_rule',
      'delete device-group br address m365-a',
      "# this run's objects",
      'set device-group br tag m365fw color color3',
      'set device-group br address m365-198_51_100_0-25 ip-netmask 198.51.100.0/25',
      'set device-group br address m365-198_51_100_0-25 tag m365fw',
      'set device-group br address m365-fqdn-outlook_example_com fqdn outlook.example.com',
      'set device-group br address m365-fqdn-outlook_example_com tag m365fw',
      'set device-group br address-group m365-grp-fqdn-tcp_443 static m365-fqdn-outlook_example_com',
      'set device-group br address-group m365-grp-fqdn-tcp_443 description "FQDNs of sets 1"',
      'set device-group br address-group m365-grp-fqdn-tcp_443 tag m365fw',
      'set device-group br address-group m365-grp-v4-tcp_443 static m365-198_51_100_0-25',
      'set device-group br address-group m365-grp-v4-tcp_443 description "sets 1 Exchange Optimize required"',
      'set device-group br address-group m365-grp-v4-tcp_443 tag m365fw',
      'set device-group br service m365-svc-tcp_443 protocol tcp port 443',
      'set device-group br service m365-svc-tcp_443 tag m365fw',
      'set device-group br profiles custom-url-category m365-url-tcp_443 type "URL List"',
      'set device-group br profiles custom-url-category m365-url-tcp_443 list *.sp.example.com/',
      'set device-group br profiles custom-url-category m365-url-tcp_443 description "wildcard URLs of sets 1 on tcp/443"',
      'set device-group br external-list m365-edl-ipv4 type ip url https://e.example/x/edl-ipv4.txt',
      'set device-group br external-list m365-edl-ipv4 type ip recurring hourly',
      'set device-group br external-list m365-edl-ipv4 type ip description "Microsoft 365 IPv4 prefixes (m365fw)"',
      'set device-group br external-list m365-edl-ipv6 type ip url https://e.example/x/edl-ipv6.txt',
      'set device-group br external-list m365-edl-ipv6 type ip recurring hourly',
      'set device-group br external-list m365-edl-ipv6 type ip description "Microsoft 365 IPv6 prefixes (m365fw)"',
      'set device-group br external-list m365-edl-urls type url url https://e.example/x/edl-urls.txt',
      'set device-group br external-list m365-edl-urls type url recurring hourly',
      'set device-group br external-list m365-edl-urls type url description "Microsoft 365 URLs (m365fw)"',
      'set device-group br pre-rulebase security rules m365-tcp_443 from any to any source any destination [ m365-grp-fqdn-tcp_443 m365-grp-v4-tcp_443 ] source-user any category any application any service m365-svc-tcp_443 action allow',
      'set device-group br pre-rulebase security rules m365-tcp_443 description "sets 1 Exchange Optimize required"',
      'set device-group br pre-rulebase security rules m365-tcp_443 tag m365fw',
      'set device-group br pre-rulebase security rules m365-url-tcp_443 from any to any source any destination any source-user any category m365-url-tcp_443 application any service m365-svc-tcp_443 action allow',
      'set device-group br pre-rulebase security rules m365-url-tcp_443 description "URL category m365-url-tcp_443"',
      'set device-group br pre-rulebase security rules m365-url-tcp_443 tag m365fw',
      '# place the rules (set appends them at the bottom of the rulebase)',
      'move device-group br pre-rulebase security rules m365-url-tcp_443 top',
      'move device-group br pre-rulebase security rules m365-tcp_443 top',
      '',
    ]);
    // the stable body is the same without the deletes
    const stable = (set.body as string)
      .split('\n')
      .filter((l, i, a) => !(i >= 1 && i <= 4 && a[1].startsWith('# 2 deletes')));
    expect(set.stableBody).toBe(stable.join('\n'));
    expect(set.comment).toEqual({ line: '#' });
  });

  it('the commit hint of each scope', () => {
    const first = (raw: Record<string, unknown>) =>
      (run(raw).files[1].body as string).split('\n')[0];
    expect(first({})).toBe('# paste in configure mode, then review and commit');
    expect(first({ panosScope: 'shared' })).toBe(
      "# paste in Panorama's configure mode, review, commit, then push: commit-all shared-policy device-group NAME (each device group that uses the shared objects)",
    );
    expect(first({ panosScope: 'device-group:b2' })).toBe(
      "# paste in Panorama's configure mode, review, commit, then push: commit-all shared-policy device-group b2",
    );
    // a vsys of its own is named on every line; vsys1 is not
    expect((run({ panosVsys: 'vsys2' }).files[1].body as string).split('\n')[1]).toBe(
      'set vsys vsys2 tag m365fw color color3',
    );
    expect((run({}).files[1].body as string).split('\n')[1]).toBe('set tag m365fw color color3');
    expect(run({ panosScope: 'shared', panosRulebase: 'post' }).files[1].body as string).toContain(
      '\nset shared post-rulebase security rules m365-tcp_443 from any',
    );
  });

  it('the XML: the scope subtree; the API element: the same children; EDL files one entry a line', () => {
    const r = run(DG_RAW, PREV);
    const by = Object.fromEntries(r.files.map((f) => [f.path, f]));
    expect(Object.keys(by)).toEqual([
      'panos-config.xml',
      'panos-set.txt',
      'panos-api.json',
      'edl-ipv4.txt',
      'edl-ipv6.txt',
      'edl-urls.txt',
    ]);
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      isArray: (n) => n === 'entry' || n === 'member',
    });
    const xml = parser.parse(bodyOf(by['panos-config.xml'].body));
    expect(xml['?xml']).toEqual({ '@_version': '1.0', '@_encoding': 'UTF-8' });
    expect(xml.config['@_version']).toBe('10.1.0');
    const dg = xml.config.devices.entry[0]['device-group'].entry[0];
    expect(xml.config.devices.entry[0]['@_name']).toBe('localhost.localdomain');
    expect(dg['@_name']).toBe('br');
    expect(
      dg['pre-rulebase'].security.rules.entry.map((e: { '@_name': string }) => e['@_name']),
    ).toEqual(['m365-tcp_443', 'm365-url-tcp_443']);
    expect(dg['pre-rulebase'].security.rules.entry[0]).toMatchObject({
      from: { member: ['any'] },
      destination: { member: ['m365-grp-fqdn-tcp_443', 'm365-grp-v4-tcp_443'] },
      'source-user': { member: ['any'] },
      application: { member: ['any'] },
      action: 'allow',
      tag: { member: ['m365fw'] },
    });
    expect(dg['external-list'].entry[2]).toEqual({
      '@_name': 'm365-edl-urls',
      type: {
        url: {
          url: 'https://e.example/x/edl-urls.txt',
          recurring: { hourly: '' },
          description: 'Microsoft 365 URLs (m365fw)',
        },
      },
    });
    expect(dg.tag.entry).toEqual([{ '@_name': 'm365fw', color: 'color3' }]);
    expect(bodyOf(by['panos-config.xml'].body).endsWith('</config>\n')).toBe(true);
    const api = JSON.parse(bodyOf(by['panos-api.json'].body));
    expect(api.set.xpath).toBe(
      "/config/devices/entry[@name='localhost.localdomain']/device-group/entry[@name='br']",
    );
    expect(api.deletes).toHaveLength(2);
    const { '@_name': _n, ...children } = dg;
    expect(parser.parse(api.set.element)).toEqual(children);
    expect(api.set.element).not.toContain('\n');
    expect(JSON.parse(by['panos-api.json'].stableBody!).deletes).toEqual([]);
    expect(by['panos-api.json'].comment).toEqual({ json: ['generator'] });
    expect(by['panos-config.xml'].comment).toEqual({ xml: true });
    expect(bodyOf(by['edl-ipv4.txt'].body)).toBe('198.51.100.0/25\n');
    expect(bodyOf(by['edl-ipv6.txt'].body)).toBe('');
    expect(bodyOf(by['edl-urls.txt'].body)).toBe('*.sp.example.com/\noutlook.example.com/\n');
    for (const f of ['edl-ipv4.txt', 'edl-ipv6.txt', 'edl-urls.txt'])
      expect(by[f].comment).toEqual({ none: true });
    // without an EDL URL base there is no external-list element at all
    const plain = parser.parse(bodyOf(run({}).files[0].body));
    expect(plain.config.devices.entry[0].vsys.entry[0]['external-list']).toBeUndefined();
    expect(plain.config.devices.entry[0].vsys.entry[0].rulebase.security.rules.entry).toHaveLength(
      2,
    );
  });

  it('a rule of its own EDL: the list file holds its prefixes, one a line', () => {
    const r = paloalto.render(
      model([{ ...FEED1[0], ips: ['198.51.100.0/25', '203.0.113.0/24'] }]),
      paloalto.parseOptions({ panosIpEdl: true, panosEdlUrlBase: 'https://e.example' }),
      { provenance: [] },
    );
    const f = r.files.find((x) => x.path === 'edl-v4-tcp_443.txt')!;
    expect(bodyOf(f.body)).toBe('198.51.100.0/25\n203.0.113.0/24\n');
    expect(f.comment).toEqual({ none: true });
  });

  it('the inventory for the next run, and a tampered previous one refused under the target name', () => {
    const r = run(DG_RAW);
    expect(r.inventory).toEqual({
      scope: 'device-group:br:pre-rulebase',
      rules: {
        'm365-tcp_443': {
          from: ['any'],
          to: ['any'],
          source: ['any'],
          destination: ['m365-grp-fqdn-tcp_443', 'm365-grp-v4-tcp_443'],
          service: ['m365-svc-tcp_443'],
          category: ['any'],
        },
        'm365-url-tcp_443': {
          from: ['any'],
          to: ['any'],
          source: ['any'],
          destination: ['any'],
          service: ['m365-svc-tcp_443'],
          category: ['m365-url-tcp_443'],
        },
      },
      groups: {
        'm365-grp-fqdn-tcp_443': ['m365-fqdn-outlook_example_com'],
        'm365-grp-v4-tcp_443': ['m365-198_51_100_0-25'],
      },
      urlCategories: { 'm365-url-tcp_443': ['*.sp.example.com/'] },
      addresses: ['m365-198_51_100_0-25', 'm365-fqdn-outlook_example_com'],
      services: ['m365-svc-tcp_443'],
      externalLists: ['m365-edl-ipv4', 'm365-edl-ipv6', 'm365-edl-urls'],
    });
    // the next run with this inventory deletes nothing
    expect(run(DG_RAW, r.inventory).files[1].body as string).not.toContain('delete');
    expect(refusal(() => run(DG_RAW, { ...PREV, addresses: 'x' }))).toBe(
      `paloalto: the previous report.json: /targets/paloalto/inventory/addresses: "x" is not a list; refusing to delete from it (move report.json away to start without deletes)`,
    );
  });
});

describe('the XML serializer itself escapes every XML-special character', () => {
  const HOSTILE = `a<b>&c"d'e]]><!--x--><?pi?>&amp;&#x41;`;
  const config: PanosConfig = {
    scope: { kind: 'vsys', name: 'vsys1' },
    tag: 'm365fw',
    addresses: [{ name: 'm365-a', kind: 'fqdn', value: HOSTILE }],
    groups: [{ name: 'm365-grp-a', members: ['m365-a'], description: HOSTILE }],
    services: [{ name: 'm365-svc-a', protocol: 'tcp', port: '443' }],
    urlCategories: [{ name: 'm365-url-a', members: [HOSTILE], description: HOSTILE }],
    externalLists: [
      { name: 'm365-edl-a', type: 'ip', url: 'https://edl.example/a', description: HOSTILE },
    ],
    rules: [
      {
        name: 'm365-a',
        from: ['any'],
        to: ['any'],
        source: ['any'],
        destination: ['m365-grp-a'],
        service: ['m365-svc-a'],
        category: ['any'],
        description: HOSTILE,
      },
    ],
    edl: { ipv4: [], ipv6: [], urls: [] },
    ruleEdls: [],
  };
  const parse = (xml: string) =>
    new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      processEntities: true,
      htmlEntities: false,
      isArray: () => true,
    }).parse(xml);

  it('reads back exactly what was given, in the file and in the API element', () => {
    for (const xml of [panosXml(config), `<r>${panosElement(config)}</r>`]) {
      expect(xml).not.toContain('<!--x-->');
      expect(xml).not.toContain('<?pi?>');
      expect(xml).not.toContain(']]>');
      const texts: string[] = [];
      const walk = (n: unknown): void => {
        if (typeof n === 'string') texts.push(n);
        else if (Array.isArray(n)) n.forEach(walk);
        else if (n && typeof n === 'object') Object.values(n).forEach(walk);
      };
      walk(parse(xml));
      // description ×4, the fqdn and the URL member: each the same text, nothing else made of it
      expect(texts.filter((t) => t === HOSTILE).length).toBe(6);
      expect(texts.filter((t) => t !== HOSTILE && t.includes('<')).length).toBe(0);
    }
  });
});
