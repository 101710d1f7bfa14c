/**
 * The PAC target in-process: --pac-proxy's grammar at each edge (ports 1-65535, 512 characters,
 * every proxy kind, "; " lists), the pattern of each wildcard kind, which category wins per host,
 * the whole file for both types (exact names, exceptions, most specific first), what it is run
 * as by a JavaScript engine, and the findings. (pac.test.ts runs the files in a PAC sandbox.)
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compile, readFeed, type RuleModel } from '../src/index.js';
import { entryRegex, pac, pacEntries, renderPac, PAC_LIMITS } from '../targets/pac/index.js';

const refusal = (proxy: unknown): string => {
  try {
    pac.parseOptions({ pacProxy: proxy });
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};
const GIVE = 'give "PROXY host:port" (several separated by "; ")';

describe('--pac-proxy', () => {
  it.each([
    'PROXY proxy.example:8080',
    'PROXY p:1',
    'PROXY p:65535',
    'HTTPS p.example:443',
    'SOCKS p:1080',
    'SOCKS4 p:1080',
    'SOCKS5 p:1080',
    'DIRECT',
    'PROXY a.example:8080; PROXY b.example:8080',
    'PROXY a.example:8080;PROXY b.example:8080',
    'PROXY a.example:8080; DIRECT',
    'PROXY A-1.Example:3128',
  ])('accepts %s', (p) => {
    expect(refusal(p)).toBe('accepted');
    expect(pac.parseOptions({ pacProxy: p })).toEqual({ type: '1', proxy: p });
  });

  it.each([
    ['PROXY p:0', 'port 0 is not 1-65535'],
    ['PROXY p:65536', 'port 65536 is not 1-65535'],
    ['PROXY p:99999', 'port 99999 is not 1-65535'],
    ['PROXY p:080', 'port 080 is not 1-65535'],
    ['PROXY a:8080; PROXY b:0', 'port 0 is not 1-65535'],
    ['PROXY p:123456', GIVE],
    ['proxy p:8080', GIVE],
    ['PROXY p', GIVE],
    ['PROXY :8080', GIVE],
    ['PROXY p_q:8080', GIVE],
    ['PROXY p:8080;', GIVE],
    ['PROXY p:8080 ; DIRECT', GIVE],
    ['PROXY p:8080;  DIRECT', GIVE],
    [' PROXY p:8080', GIVE],
    ['PROXY p:8080 ', GIVE],
    ['HTTP p:8080', GIVE],
    ['SOCKS6 p:1080', GIVE],
    ['PROXY p:8080"; alert(1); "', GIVE],
    ['PROXY p:8080\nDIRECT', GIVE],
    ['', GIVE],
  ])('refuses %j: %s', (p, why) => {
    expect(refusal(p)).toBe(`--pac-proxy ${JSON.stringify(p)}: ${why}`);
  });

  it('is at most 512 characters long', () => {
    const of = (n: number) => {
      // "PROXY " + host + ":1" of n characters in all
      const host = 'a'.repeat(n - 'PROXY :1'.length);
      return `PROXY ${host}:1`;
    };
    expect(of(512)).toHaveLength(512);
    expect(refusal(of(512))).toBe('accepted');
    expect(refusal(of(513))).toBe(
      `--pac-proxy ${JSON.stringify(of(513)).slice(0, 117)}...: ${GIVE}`,
    );
    expect(PAC_LIMITS.proxyLength).toBe(512);
  });

  it('--pac-type is 1 or 2; without --pac-proxy nothing renders', () => {
    expect(pac.parseOptions({ pacType: '2', pacProxy: 'DIRECT' })).toEqual({
      type: '2',
      proxy: 'DIRECT',
    });
    expect(() => pac.parseOptions({ pacType: '3' })).toThrow('--pac-type "3": one of 1, 2');
    expect(pac.requires).toEqual(['proxy']);
    expect(() => renderPac(model(), { type: '1', proxy: undefined })).toThrow(
      'pac: --pac-proxy is required, e.g. --pac-proxy "PROXY proxy.corp:8080"',
    );
    expect(() => renderPac(model(), { type: '1', proxy: '' })).toThrow(
      'pac: --pac-proxy is required',
    );
  });
});

describe('entryRegex', () => {
  it('one pattern per wildcard kind, anchored, dots escaped', () => {
    expect(entryRegex('*.sp.example.com', 'wildcard')).toBe('^(?:[^.]+\\.)+sp\\.example\\.com$');
    expect(entryRegex('autodiscover.*.onmicrosoft.example', 'tenant')).toBe(
      '^autodiscover\\.[^.]+\\.onmicrosoft\\.example$',
    );
    expect(entryRegex('*cdn.example.org', 'partial-wildcard')).toBe('^[^.]*cdn\\.example\\.org$');
    expect(entryRegex('a*b.example.org', 'partial-wildcard')).toBe('^a[^.]*b\\.example\\.org$');
    expect(() => entryRegex('outlook.example.com', 'fqdn')).toThrow('exact names are not patterns');
  });

  it.each([
    ['*.sp.example.com', 'wildcard', 'a.sp.example.com', true],
    ['*.sp.example.com', 'wildcard', 'a.b.sp.example.com', true],
    ['*.sp.example.com', 'wildcard', 'sp.example.com', false],
    ['*.sp.example.com', 'wildcard', 'asp.example.com', false],
    ['*.sp.example.com', 'wildcard', 'a.sp.example.com.evil', false],
    // the browser passes any label through (Chromium: foo_bar.sharepoint.com), as shExpMatch matches it
    ['*.sp.example.com', 'wildcard', 'a_b.sp.example.com', true],
    ['*.sp.example.com', 'wildcard', 'a_b.sp.example.com.evil', false],
    ['*.sp.example.com', 'wildcard', 'sp.example.com', false],
    ['*.sp.example.com', 'wildcard', 'a.spxexample.com', false],
    [
      'autodiscover.*.onmicrosoft.example',
      'tenant',
      'autodiscover.contoso.onmicrosoft.example',
      true,
    ],
    ['autodiscover.*.onmicrosoft.example', 'tenant', 'autodiscover.a.b.onmicrosoft.example', false],
    ['autodiscover.*.onmicrosoft.example', 'tenant', 'xautodiscover.a.onmicrosoft.example', false],
    ['*cdn.example.org', 'partial-wildcard', 'cdn.example.org', true],
    ['*cdn.example.org', 'partial-wildcard', 'appcdn.example.org', true],
    ['*cdn.example.org', 'partial-wildcard', 'a.bcdn.example.org', false],
  ] as const)('%s (%s) matches %s: %s', (entry, kind, host, yes) => {
    expect(new RegExp(entryRegex(entry, kind)).test(host)).toBe(yes);
  });
});

const FEED = [
  {
    id: 1,
    serviceArea: 'Exchange',
    category: 'Optimize',
    required: true,
    tcpPorts: '443',
    urls: ['outlook.example.com', '*.sp.example.com'],
    ips: ['198.51.100.0/24', '203.0.113.0/24'],
  },
  {
    id: 2,
    serviceArea: 'Exchange',
    category: 'Default',
    required: false,
    tcpPorts: '443,80',
    urls: [
      'admin.sp.example.com',
      '*.files.sp.example.com',
      'outlook.example.com',
      'other.example.net',
    ],
  },
  {
    id: 3,
    serviceArea: 'Skype',
    category: 'Allow',
    required: true,
    tcpPorts: '443',
    urls: ['autodiscover.*.onmicrosoft.example', '*cdn.example.org', 'smtp.example.com'],
  },
  {
    id: 4,
    serviceArea: 'Skype',
    category: 'Allow',
    required: true,
    udpPorts: '3478',
    urls: ['autodiscover.*.onmicrosoft.example'],
  },
];
function model(sets: unknown[] = FEED): RuleModel {
  return compile(readFeed(sets, { name: 'pac.json' }), { allowImplausible: ['all'] });
}
const PROXY = 'PROXY p.example:8080';
const render = (type: '1' | '2', m = model()) => renderPac(m, { type, proxy: PROXY });
const body = (type: '1' | '2', m = model()) => render(type, m).files[0].body as string;
/** FindProxyForURL run by V8 on the file as written */
const decide = (text: string, host: string): string =>
  runInNewContext(`${text}\nFindProxyForURL("https://" + h + "/", h)`, { h: host }) as string;

const HEAD = (type: 1 | 2) => [
  `// Microsoft 365 PAC file, type ${type}: ${type === 1 ? 'Optimize' : 'Optimize and Allow'} endpoints go DIRECT, everything else to the proxy.`,
  '// Decides on the host name only (no DNS lookups). Exact names first, then wildcards, most specific first.',
  'var M365_PROXY = "PROXY p.example:8080";',
  '',
  '// exact host names: 1 = DIRECT, 0 = proxy (a name a direct wildcard would otherwise cover)',
  'var M365_EXACT = {',
];
const TAIL = [
  'function FindProxyForURL(url, host) {',
  '  var h = host.toLowerCase();',
  '  if (h.charAt(h.length - 1) == ".") h = h.substring(0, h.length - 1);',
  '  if (M365_EXACT.hasOwnProperty(h)) return M365_EXACT[h] ? "DIRECT" : M365_PROXY;',
  '  for (var i = 0; i < M365_WILD.length; i++) {',
  '    if (M365_WILD[i][0].test(h)) return M365_WILD[i][1] ? "DIRECT" : M365_PROXY;',
  '  }',
  '  return M365_PROXY;',
  '}',
  '',
];

describe('the PAC file', () => {
  it('type 1: Optimize names direct, the exceptions a direct wildcard covers proxied, nothing else', () => {
    expect(body('1').split('\n')).toEqual([
      ...HEAD(1),
      '  "admin.sp.example.com": 0,',
      '  "outlook.example.com": 1',
      '};',
      '',
      '// wildcard entries, most specific first: [pattern, 1 = DIRECT / 0 = proxy]',
      'var M365_WILD = [',
      '  [/^(?:[^.]+\\.)+files\\.sp\\.example\\.com$/, 0], // *.files.sp.example.com (Default)',
      '  [/^(?:[^.]+\\.)+sp\\.example\\.com$/, 1] // *.sp.example.com (Optimize)',
      '];',
      '',
      ...TAIL,
    ]);
  });

  it('type 2: Allow names too; most fixed characters first, then name order', () => {
    expect(body('2').split('\n')).toEqual([
      ...HEAD(2),
      '  "admin.sp.example.com": 0,',
      '  "outlook.example.com": 1,',
      '  "smtp.example.com": 1',
      '};',
      '',
      '// wildcard entries, most specific first: [pattern, 1 = DIRECT / 0 = proxy]',
      'var M365_WILD = [',
      '  [/^autodiscover\\.[^.]+\\.onmicrosoft\\.example$/, 1], // autodiscover.*.onmicrosoft.example (Allow)',
      '  [/^(?:[^.]+\\.)+files\\.sp\\.example\\.com$/, 0], // *.files.sp.example.com (Default)',
      '  [/^(?:[^.]+\\.)+sp\\.example\\.com$/, 1], // *.sp.example.com (Optimize)',
      '  [/^[^.]*cdn\\.example\\.org$/, 1] // *cdn.example.org (Allow)',
      '];',
      '',
      ...TAIL,
    ]);
  });

  it.each([
    // host, type 1, type 2
    ['outlook.example.com', 'DIRECT', 'DIRECT'],
    ['OUTLOOK.example.COM.', 'DIRECT', 'DIRECT'],
    ['a.sp.example.com', 'DIRECT', 'DIRECT'],
    ['admin.sp.example.com', PROXY, PROXY],
    ['x.files.sp.example.com', PROXY, PROXY],
    ['files.sp.example.com', 'DIRECT', 'DIRECT'],
    ['smtp.example.com', PROXY, 'DIRECT'],
    ['appcdn.example.org', PROXY, 'DIRECT'],
    ['autodiscover.contoso.onmicrosoft.example', PROXY, 'DIRECT'],
    ['other.example.net', PROXY, PROXY],
    ['sp.example.com', PROXY, PROXY],
    ['hasOwnProperty', PROXY, PROXY],
  ])('%s → type 1 %s, type 2 %s (as V8 runs the file)', (host, t1, t2) => {
    expect(decide(body('1'), host)).toBe(t1);
    expect(decide(body('2'), host)).toBe(t2);
  });

  it('with no name at all both tables are empty and everything goes to the proxy', () => {
    const m = model([
      {
        id: 9,
        serviceArea: 'Common',
        category: 'Allow',
        required: true,
        tcpPorts: '443',
        ips: ['198.51.100.0/24'],
      },
    ]);
    const text = body('1', m);
    expect(text).toContain('var M365_EXACT = {\n\n};\n');
    expect(text).toContain('var M365_WILD = [\n\n];\n');
    expect(decide(text, 'outlook.example.com')).toBe(PROXY);
  });

  it('one entry in a table: no separator after it (an ES3 engine reads a trailing comma as one more element)', () => {
    const m = model([
      {
        id: 9,
        serviceArea: 'Common',
        category: 'Optimize',
        required: true,
        tcpPorts: '443',
        urls: ['*.a.example', 'b.example'],
      },
    ]);
    const text = body('1', m);
    expect(text).toContain('var M365_EXACT = {\n  "b.example": 1\n};');
    expect(text).toContain(
      'var M365_WILD = [\n  [/^(?:[^.]+\\.)+a\\.example$/, 1] // *.a.example (Optimize)\n];',
    );
  });
});

describe('what the file enforces and what it reports', () => {
  it('the most direct category of a host wins, whatever the order of its sets', () => {
    const cats = (type: 1 | 2, m = model()) =>
      pacEntries(m, type).map((e) => [e.host, e.kind, e.category, e.direct]);
    expect(cats(1)).toEqual([
      ['*.files.sp.example.com', 'wildcard', 'Default', false],
      ['*.sp.example.com', 'wildcard', 'Optimize', true],
      ['*cdn.example.org', 'partial-wildcard', 'Allow', false],
      ['admin.sp.example.com', 'fqdn', 'Default', false],
      ['autodiscover.*.onmicrosoft.example', 'tenant', 'Allow', false],
      ['other.example.net', 'fqdn', 'Default', false],
      ['outlook.example.com', 'fqdn', 'Optimize', true],
      ['smtp.example.com', 'fqdn', 'Allow', false],
    ]);
    expect(
      cats(2)
        .filter((e) => e[3])
        .map((e) => e[0]),
    ).toEqual([
      '*.sp.example.com',
      '*cdn.example.org',
      'autodiscover.*.onmicrosoft.example',
      'outlook.example.com',
      'smtp.example.com',
    ]);
    expect(cats(1, model([...FEED].reverse()))).toEqual(cats(1));
    // Allow over Default in either order
    const two = (a: string, b: string) =>
      model([
        {
          id: 1,
          serviceArea: 'X',
          category: a,
          required: true,
          tcpPorts: '443',
          urls: ['h.example'],
        },
        {
          id: 2,
          serviceArea: 'X',
          category: b,
          required: true,
          tcpPorts: '80',
          urls: ['h.example'],
        },
      ]);
    expect(cats(2, two('Default', 'Allow'))).toEqual([['h.example', 'fqdn', 'Allow', true]]);
    expect(cats(2, two('Allow', 'Default'))).toEqual([['h.example', 'fqdn', 'Allow', true]]);
    expect(cats(1, two('Allow', 'Optimize'))).toEqual([['h.example', 'fqdn', 'Optimize', true]]);
  });

  it('enforces the direct names only; every IP rule unenforced with its count; a tenant placeholder widened', () => {
    const one = render('1');
    expect(one.enforces).toEqual({ rules: [], names: ['outlook.example.com', '*.sp.example.com'] });
    const unused =
      'a PAC file decides on host names: 2 prefixes of this rule are not used (browsers send them to the proxy unless they are reached by name)';
    expect(one.findings).toEqual([
      { kind: 'unenforced', target: 'pac', setIds: ['1'], entry: 'v4_tcp_443', detail: unused },
    ]);
    const two = render('2');
    expect(two.enforces?.names).toEqual([
      'outlook.example.com',
      'smtp.example.com',
      'autodiscover.*.onmicrosoft.example',
      '*.sp.example.com',
      '*cdn.example.org',
    ]);
    expect(two.findings).toEqual([
      { kind: 'unenforced', target: 'pac', setIds: ['1'], entry: 'v4_tcp_443', detail: unused },
      {
        kind: 'widened',
        target: 'pac',
        setIds: ['3', '4'],
        entry: 'autodiscover.*.onmicrosoft.example',
        detail: 'tenant placeholder matches any tenant name (pass --tenant to narrow it)',
      },
    ]);
    // --tenant fills the placeholder: nothing widened, the name exact
    const tenant = compile(readFeed(FEED, { name: 'pac.json' }), {
      allowImplausible: ['all'],
      tenant: 'contoso',
    });
    const t = renderPac(tenant, { type: '2', proxy: PROXY });
    expect((t.findings ?? []).filter((f) => f.kind === 'widened')).toEqual([]);
    expect(t.files[0].body).toContain('"autodiscover.contoso.onmicrosoft.example": 1');
  });
});
