import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getQuickJS } from '@tootallnate/quickjs-emscripten';
import { parse } from 'acorn';
import { createPacResolver } from 'pac-resolver';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/env.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const FEED = join(FIXTURES, 'pac-feed.json');
const PROXY = 'PROXY proxy.corp:8080';

async function pacFor(args: string[]) {
  const out = tmpDir('pac');
  const r = compileHere([
    '--input',
    FEED,
    '--target',
    'pac',
    '--pac-proxy',
    PROXY,
    '--out',
    out,
    ...args,
  ]);
  expect(r.stderr).toBe('');
  const text = readFileSync(join(out, 'm365fw.pac'), 'utf8');
  const find = createPacResolver(await getQuickJS(), text);
  return {
    text,
    report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')),
    decide: (host: string) => find(`https://${host}/`, host),
  };
}

const D = 'DIRECT',
  P = PROXY;
describe('PAC file evaluated in a PAC sandbox (pac-resolver, QuickJS)', () => {
  it.each([
    // [host, type 1, type 2, why]
    ['outlook.office.com', D, D, 'Optimize; also listed as Default: the most direct wins'],
    ['OUTLOOK.Office.COM', D, D, 'host matching is case-insensitive'],
    ['contoso.sharepoint.com', D, D, 'direct wildcard'],
    ['a.b.sharepoint.com', D, D, 'a wildcard covers every depth'],
    ['sharepoint.com', P, P, '*.sharepoint.com does not cover the apex'],
    ['admin.sharepoint.com', P, P, 'exception: Default name under a direct wildcard'],
    ['x.files.sharepoint.com', P, P, 'exception: Default wildcard under a direct wildcard'],
    ['files.sharepoint.com', D, D, 'the exception wildcard does not cover its own apex'],
    ['appcdn.onenote.net', D, D, '*cdn: a wildcard inside one label'],
    ['a.bcdn.onenote.net', P, P, '*cdn stays within one label'],
    ['smtp.office365.com', P, D, 'Allow: direct in type 2 only'],
    ['chat.teams.microsoft.com', P, D, 'Allow wildcard: direct in type 2 only'],
    ['autodiscover.contoso.onmicrosoft.com', P, D, 'tenant placeholder filled by --tenant'],
    ['autodiscover.fabrikam.onmicrosoft.com', P, P, 'another tenant is not ours'],
    ['example.com', P, P, 'unrelated host'],
    ['outlook.office.com.evil.example', P, P, 'a suffix of ours inside another name'],
    ['evilsharepoint.com', P, P, 'not a subdomain'],
    // what Chromium passes through as the host: an underscore in a label is still a label
    ['foo_bar.sharepoint.com', D, D, 'any label under a wildcard, as shExpMatch matches it'],
    ['a_b.c_d.sharepoint.com', D, D, 'at any depth'],
    ['x_cdn.onenote.net', D, D, '*cdn with an underscore before it'],
    ['foo_bar.sharepoint.com.evil.example', P, P, 'still not a suffix inside another name'],
  ])('%s → type 1 %s, type 2 %s (%s)', async (host, t1, t2) => {
    const [a, b] = await Promise.all([
      pacFor(['--pac-type', '1', '--tenant', 'contoso']),
      pacFor(['--pac-type', '2', '--tenant', 'contoso']),
    ]);
    expect(await a.decide(host)).toBe(t1);
    expect(await b.decide(host)).toBe(t2);
  });

  it('without --tenant the placeholder matches any tenant, and the report says it was widened', async () => {
    const { decide, report } = await pacFor(['--pac-type', '2']);
    expect(await decide('autodiscover.fabrikam.onmicrosoft.com')).toBe(D);
    expect(await decide('autodiscover.a.b.onmicrosoft.com')).toBe(P); // still exactly one label
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: 'widened',
        target: 'pac',
        entry: 'autodiscover.*.onmicrosoft.com',
      }),
    );
  });

  it('is plain ES3 with a top-level FindProxyForURL(url, host)', async () => {
    const { text } = await pacFor(['--pac-type', '2']);
    const ast = parse(text, { ecmaVersion: 3 }) as unknown as {
      body: { type: string; id?: { name: string }; params?: { name: string }[] }[];
    };
    const fn = ast.body.find(
      (n) => n.type === 'FunctionDeclaration' && n.id?.name === 'FindProxyForURL',
    );
    expect(fn?.params?.map((p) => p.name)).toEqual(['url', 'host']);
    expect(text).not.toMatch(/,\s*\]/); // no trailing comma in array literals
  });

  it('--pac-proxy is required and validated', () => {
    const out = tmpDir('pac');
    expect(compileHere(['--input', FEED, '--target', 'pac', '--out', out]).stderr).toBe(
      'error: --target pac needs --pac-proxy\n',
    );
    // under --target all it is skipped, said in the summary and the report, never silently
    // a URL-only feed: the IP-only targets would enforce nothing, which is refused unless allowed
    const refused = compileHere(['--input', FEED, '--target', 'all', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /target (azure-nsg|iptables|nftables) would enforce nothing \(of 0 IP rules and [0-9]+ URL entries, it enforces none\)/,
    );
    const all = compileHere(['--input', FEED, '--target', 'all', '--out', out, '--allow-empty']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('target pac skipped: not generated: --pac-proxy not given');
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).findings).toContainEqual({
      kind: 'dropped',
      target: 'pac',
      detail: 'not generated: --pac-proxy not given',
    });
    expect(
      compileHere([
        '--input',
        FEED,
        '--target',
        'pac',
        '--out',
        out,
        '--pac-proxy',
        'PROXY x:1"; alert(1); "',
      ]).stderr,
    ).toMatch(/--pac-proxy .*give "PROXY host:port"/);
  });

  it('the sample feed works too, and IP rules are reported as unused by a PAC file', async () => {
    const out = tmpDir('pac');
    expect(
      compileHere([
        '--input',
        join(FIXTURES, 'sample-feed.json'),
        '--target',
        'pac',
        '--pac-proxy',
        PROXY,
        '--out',
        out,
      ]).code,
    ).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(
      rep.findings.filter((f: any) => f.target === 'pac' && f.kind === 'unenforced').length,
    ).toBe(rep.rules.length);
    const find = createPacResolver(
      await getQuickJS(),
      readFileSync(join(out, 'm365fw.pac'), 'utf8'),
    );
    expect(await find('https://contoso.sharepoint.com/')).toBe('DIRECT');
  });
});
