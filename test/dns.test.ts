import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, have, runCli, skipNote, runCliAsync } from './helpers/env.js';
import { checkDomain, editDistance, type CheckResult } from '../src/dns/check.js';
import type { DnsInstance, Service, TenantValues } from '../src/dns/records.js';
import { tmpDir } from './helpers/tmp.js';

const why = have('dnsmasq') ? undefined : 'needs dnsmasq (apt-get install dnsmasq-base)';
skipNote('DNS check against dnsmasq', why);

const CN = {
  msoid: 'clientconfig.partner.microsoftonline-p.net.cn',
  auto: 'autodiscover.partner.outlook.cn',
  mx: 'mail.protection.partner.outlook.cn',
  spf: 'v=spf1 include:spf.protection.partner.outlook.cn -all',
};
const WW = {
  auto: 'autodiscover.outlook.com',
  mx: 'mail.protection.outlook.com',
  spf: 'v=spf1 include:spf.protection.outlook.com -all',
};
const DOD = {
  auto: 'autodiscover-dod.office365.us',
  mx: 'mail.protection.office365.us',
  spf: 'v=spf1 include:spf.protection.office365.us -all',
};

/** dnsmasq answers authoritatively for the test zones; targets must be known to it (host-record). */
function config(port: number): string {
  const zone = (d: string, o: { msoid?: string; auto?: string; mx?: string; spf?: string[] }) =>
    [
      o.msoid && `cname=msoid.${d},${o.msoid}`,
      o.auto && `cname=autodiscover.${d},${o.auto}`,
      o.mx && `mx-host=${d},${o.mx},0`,
      ...(o.spf ?? []).map((t) => `txt-record=${d},"${t}"`),
    ].filter(Boolean);
  return (
    [
      `port=${port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-dhcp-interface=',
      'pid-file=',
      'local=/cn/',
      'local=/com/',
      'local=/test/',
      `host-record=${CN.msoid},192.0.2.10`,
      `host-record=${CN.auto},192.0.2.11`,
      'host-record=clientconfig.partner.microsoftonl1ne-p.net.cn,192.0.2.12',
      `host-record=${WW.auto},192.0.2.13`,
      'host-record=elsewhere.test,192.0.2.14',
      ...zone('ok.cn', {
        msoid: CN.msoid,
        auto: CN.auto,
        mx: `ok-cn.${CN.mx}`,
        spf: [CN.spf, 'google-site-verification=abc'],
      }),
      ...zone('nomsoid.cn', { auto: CN.auto, mx: `nomsoid-cn.${CN.mx}`, spf: [CN.spf] }),
      ...zone('typo.cn', {
        msoid: 'clientconfig.partner.microsoftonl1ne-p.net.cn',
        auto: CN.auto,
        mx: `typo-cn.${CN.mx}`,
        spf: [CN.spf],
      }),
      ...zone('badspf.cn', {
        msoid: CN.msoid,
        auto: CN.auto,
        mx: `badspf-cn.${CN.mx}`,
        spf: [WW.spf],
      }),
      ...zone('chain.cn', {
        msoid: CN.msoid,
        auto: 'alias.chain.cn',
        mx: `chain-cn.${CN.mx}`,
        spf: [CN.spf],
      }),
      'cname=alias.chain.cn,' + CN.auto,
      ...zone('wrongauto.cn', {
        msoid: CN.msoid,
        auto: 'elsewhere.test',
        mx: 'mx.elsewhere.test',
        spf: ['v=spf1 -all'],
      }),
      ...zone('ok.com', { auto: WW.auto, mx: `ok-com.${WW.mx}`, spf: [WW.spf] }),
      ...zone('msoid.com', {
        msoid: CN.msoid,
        auto: WW.auto,
        mx: `msoid-com.${WW.mx}`,
        spf: [WW.spf],
      }),
      // authoritative for .auth only, no upstream: Microsoft's own names (.us) are REFUSED if asked
      'local=/auth/',
      ...zone('right.auth', { auto: DOD.auto, mx: `tok.${DOD.mx}`, spf: [DOD.spf] }),
      ...zone('chain10.auth', { auto: 'h1.chain10.auth', mx: `tok.${DOD.mx}`, spf: [DOD.spf] }),
      ...Array.from(
        { length: 9 },
        (_, i) => `cname=h${i + 1}.chain10.auth,${i === 8 ? DOD.auto : `h${i + 2}.chain10.auth`}`,
      ),
      ...zone('typo.auth', {
        auto: 'autodiscover-dod.offlce365.us',
        mx: `tok.${DOD.mx}`,
        spf: [DOD.spf],
      }),
      ...zone('partial.auth', { auto: 'elsewhere.zz', mx: `tok.${DOD.mx}`, spf: [DOD.spf] }),
      ...zone('plusinc.auth', {
        auto: DOD.auto,
        mx: `tok.${DOD.mx}`,
        spf: ['v=spf1 +include:spf.protection.office365.us -all'],
      }),
      ...zone('plusall.auth', {
        auto: DOD.auto,
        mx: `tok.${DOD.mx}`,
        spf: ['v=spf1 +all include:spf.protection.office365.us'],
      }),
      ...zone('qall.auth', {
        auto: DOD.auto,
        mx: `tok.${DOD.mx}`,
        spf: ['v=spf1 include:spf.protection.office365.us ?all'],
      }),
      ...zone('softinc.auth', {
        auto: DOD.auto,
        mx: `tok.${DOD.mx}`,
        spf: ['v=spf1 ~include:spf.protection.office365.us -all'],
      }),
      ...zone('xmail.auth', { auto: DOD.auto, mx: `tok.x${DOD.mx}`, spf: [DOD.spf] }),
      ...zone('twospf.auth', {
        auto: DOD.auto,
        mx: `tok.${DOD.mx}`,
        spf: [DOD.spf, 'v=spf1 -all'],
      }),
      // DMARC: one of each verdict
      'txt-record=_dmarc.dmarc.test,"v=DMARC1; p=quarantine; rua=mailto:d@dmarc.test"',
      'txt-record=_dmarc.two.dmarc.test,"v=DMARC1; p=none"',
      'txt-record=_dmarc.two.dmarc.test,"v=DMARC1; p=reject"',
      'txt-record=_dmarc.nop.dmarc.test,"v=DMARC1; rua=mailto:d@dmarc.test"',
      'txt-record=_dmarc.badp.dmarc.test,"v=DMARC1; p=maybe"',
      'txt-record=_dmarc.order.dmarc.test,"p=reject; v=DMARC1"',
      ...zone('esc.auth', {
        auto: DOD.auto,
        mx: `tok.${DOD.mx}`,
        spf: ['v=spf1 \u001b[2J\u001b[32mok include:x -all'],
      }),
    ].join('\n') + '\n'
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

let dnsmasq: ChildProcess | undefined;
let resolver = '';
/**
 * The check both ways: through the CLI (exit code, stderr, JSON) and in-process through the library's
 * checkDomain (`lib`), so that the verdicts asserted below are asserted of each.
 */
async function check(
  domain: string,
  instance: string,
  extra: string[] = ['--services', 'mail,auth'],
) {
  const cli = await runCliAsync([
    'dns',
    'check',
    domain,
    '--instance',
    instance,
    '--resolver',
    resolver,
    '--json',
    ...extra,
  ]);
  const at = (flag: string) => (extra.includes(flag) ? extra[extra.indexOf(flag) + 1] : undefined);
  const policy = at('--dmarc-policy') as TenantValues['dmarcPolicy'];
  const lib = await checkDomain(
    domain,
    instance as DnsInstance,
    resolver,
    (at('--services') ?? '').split(',') as Service[],
    policy ? { dmarcPolicy: policy } : {},
  );
  return { ...cli, lib };
}
/** each result list of a check: the CLI's JSON and the library's */
const both = (r: { json?: any; lib: CheckResult[] }): CheckResult[][] => [r.json.results, r.lib];
const verdicts = (results: CheckResult[]) =>
  Object.fromEntries(results.map((r) => [r.record, r.verdict]));

describe.skipIf(!!why)('dns check against a real DNS server (dnsmasq on loopback)', () => {
  it.each([
    ['dmarc.test', [], 'ok', 0, undefined],
    ['dmarc.test', ['--dmarc-policy', 'quarantine'], 'ok', 0, undefined],
    [
      'dmarc.test',
      ['--dmarc-policy', 'reject'],
      'wrong',
      2,
      /p=quarantine, not the p=reject --dmarc-policy asks for/,
    ],
    ['dmarc.test', ['--dmarc-policy', 'none'], 'wrong', 2, /not the p=none/],
    ['two.dmarc.test', [], 'wrong', 2, /more than one DMARC record/],
    ['nop.dmarc.test', [], 'wrong', 2, /no p= policy tag/],
    ['badp.dmarc.test', [], 'wrong', 2, /p=maybe is not none, quarantine or reject/],
    ['order.dmarc.test', [], 'missing', 2, undefined],
    ['nothing.dmarc.test', [], 'missing', 2, undefined],
  ] as [string, string[], string, number, RegExp | undefined][])(
    'DMARC of %s %j: %s, exit %i',
    async (domain, extra, verdict, code, note) => {
      const r = await check(domain, 'Worldwide', ['--services', 'dmarc', ...extra]);
      expect(r.stderr).toBe('');
      for (const results of both(r)) {
        const row = results.find((x) => x.record === 'dmarc')!;
        expect(row.verdict).toBe(verdict);
        if (note) expect(row.note).toMatch(note);
        else expect(row.note).toBeUndefined();
      }
      expect(r.code).toBe(code);
    },
  );

  beforeAll(async () => {
    const port = await freePort();
    const dir = tmpDir('dns');
    writeFileSync(join(dir, 'dnsmasq.conf'), config(port));
    dnsmasq = spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        `--conf-file=${join(dir, 'dnsmasq.conf')}`,
        ...(process.getuid?.() === 0 ? [] : ['--user=']),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    resolver = `127.0.0.1:${port}`;
    // wait until it answers
    for (let i = 0; i < 50; i++) {
      const r = await check('ok.cn', 'China');
      if (r.code === 0) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('dnsmasq did not start');
  }, 20000);
  afterAll(() => {
    dnsmasq?.kill('SIGTERM');
  });

  it.each([
    ['ok.cn', 'China', 0, { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'ok' }],
    ['nomsoid.cn', 'China', 2, { msoid: 'missing', autodiscover: 'ok', mx: 'ok', spf: 'ok' }],
    ['typo.cn', 'China', 2, { msoid: 'wrong', autodiscover: 'ok', mx: 'ok', spf: 'ok' }],
    ['badspf.cn', 'China', 2, { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'wrong' }],
    ['chain.cn', 'China', 0, { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'ok' }],
    ['wrongauto.cn', 'China', 2, { msoid: 'ok', autodiscover: 'wrong', mx: 'wrong', spf: 'wrong' }],
    [
      'missing.cn',
      'China',
      2,
      { msoid: 'missing', autodiscover: 'missing', mx: 'missing', spf: 'missing' },
    ],
    ['ok.com', 'Worldwide', 0, { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'ok' }],
    ['msoid.com', 'Worldwide', 2, { msoid: 'unexpected', autodiscover: 'ok', mx: 'ok', spf: 'ok' }],
  ])('%s (%s): exit %i, %j', async (domain, instance, code, expected) => {
    const r = await check(domain, instance);
    expect(r.stderr).toBe('');
    for (const results of both(r)) expect(verdicts(results)).toEqual(expected);
    expect(r.code).toBe(code);
  });

  it('the MS= verification TXT: not checked without --verification (exit 0), checked exactly with it', async () => {
    const loose = await check('ok.cn', 'China', ['--services', 'verification,mail,auth']);
    expect(loose.stderr).toBe('');
    expect(loose.code).toBe(0);
    for (const results of both(loose)) expect(verdicts(results).verification).toBe('not-checked');
    const exact = await check('ok.cn', 'China', [
      '--services',
      'verification,mail,auth',
      '--verification',
      'MS=ms12345678',
    ]);
    expect(exact.code).toBe(2);
    // (the helper's library side is not given the value: the CLI's JSON is the one to read)
    expect(verdicts(exact.json.results).verification).toBe('missing');
  });

  it.each([
    [
      'right.auth',
      0,
      { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'ok' },
      'a right zone on an authoritative-only server: the check stops at the expected target',
    ],
    [
      'chain10.auth',
      0,
      { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'ok' },
      'a 10-hop chain ending at the target',
    ],
    [
      'typo.auth',
      2,
      { msoid: 'ok', autodiscover: 'wrong', mx: 'ok', spf: 'ok' },
      'a likely typo whose name cannot be resolved further is wrong, not an error',
    ],
    [
      'partial.auth',
      1,
      { msoid: 'ok', autodiscover: 'error', mx: 'ok', spf: 'ok' },
      'an error in one record: the others are still judged',
    ],
    [
      'plusinc.auth',
      0,
      { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'ok' },
      '+include: is a pass',
    ],
    [
      'plusall.auth',
      2,
      { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'wrong' },
      '+all lets anyone send',
    ],
    ['qall.auth', 2, { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'wrong' }, '?all too'],
    [
      'softinc.auth',
      2,
      { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'wrong' },
      '~include does not pass Microsoft 365',
    ],
    [
      'xmail.auth',
      2,
      { msoid: 'ok', autodiscover: 'ok', mx: 'wrong', spf: 'ok' },
      'the MX suffix on a label boundary',
    ],
    [
      'twospf.auth',
      2,
      { msoid: 'ok', autodiscover: 'ok', mx: 'ok', spf: 'wrong' },
      'two SPF records',
    ],
  ])('USGovDoD %s: exit %i, %j (%s)', async (domain, code, expected) => {
    const r = await check(domain, 'USGovDoD');
    for (const results of both(r)) expect(verdicts(results)).toEqual(expected);
    expect(r.code, r.stderr).toBe(code);
    for (const results of both(r)) {
      if (domain === 'typo.auth')
        expect(results.find((x) => x.record === 'autodiscover')!.note).toMatch(
          /^likely typo: autodiscover-dod\.offlce365\.us is 1 character/,
        );
      if (domain === 'plusall.auth')
        expect(results.find((x) => x.record === 'spf')!.note).toBe(
          '"+all" lets any host send for the domain',
        );
    }
  });

  it('answers are shown escaped in the text output: an ESC sequence cannot forge a line', async () => {
    const r = await new Promise<{ stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [
        CLI,
        'dns',
        'check',
        'esc.auth',
        '--instance',
        'USGovDoD',
        '--services',
        'mail',
        '--resolver',
        resolver,
      ]);
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.on('close', () => resolve({ stdout }));
    });
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('\\u001b[2J');
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0])
        .sort(),
    ).toEqual(['ok', 'ok', 'wrong']);
  });

  it('a name that changes under case folding (a Kelvin sign) is refused', () => {
    const r = runCli([
      'dns',
      'check',
      'o\u212a.auth',
      '--instance',
      'USGovDoD',
      '--resolver',
      resolver,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a valid domain name/);
  });

  it('a typo is called out as a likely typo, with the value found and the value expected', async () => {
    const r = await check('typo.cn', 'China');
    for (const results of both(r)) {
      const msoid = results.find((x) => x.record === 'msoid')!;
      expect(msoid).toMatchObject({
        expected: CN.msoid,
        found: ['clientconfig.partner.microsoftonl1ne-p.net.cn'],
      });
      expect(msoid.note).toMatch(
        /^likely typo: clientconfig\.partner\.microsoftonl1ne-p\.net\.cn is 1 character\(s\) from/,
      );
    }
    for (const results of both(await check('chain.cn', 'China'))) {
      const chain = results.find((x) => x.record === 'autodiscover')!;
      expect(chain.found).toEqual(['alias.chain.cn', CN.auto]);
    }
  });

  it('REFUSED (a name the server is not authoritative for, no upstream) is an error: exit 1', async () => {
    const r = await check('example.org', 'Worldwide');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: mx example\.org: MX example\.org: (REFUSED|SERVFAIL)/);
    expect(r.stderr).toMatch(
      /^error: msoid msoid\.example\.org: CNAME msoid\.example\.org: (REFUSED|SERVFAIL)/m,
    );
    // every record judged, each row labelled with its own record and expected value
    for (const results of both(r)) {
      expect(results.map((x) => [x.record, x.verdict]).sort()).toEqual([
        ['autodiscover', 'error'],
        ['msoid', 'error'],
        ['mx', 'error'],
        ['spf', 'error'],
      ]);
      expect(results.every((x) => x.expected && x.expected !== '-')).toBe(true);
    }
  });

  // every field of every row, from the library: the verdict, what was expected, what was found, why
  it.each([
    [
      'ok.cn',
      'China',
      ['verification', 'mail', 'auth'],
      [
        {
          record: 'verification',
          name: 'ok.cn',
          expected: 'MS=\u2026 (--verification not given)',
          // needed once, to verify the domain: without --verification not judged
          verdict: 'not-checked',
          note: 'needed once, to verify the domain in the admin center; pass --verification to check it',
          service: 'verification',
        },
        {
          record: 'mx',
          name: 'ok.cn',
          expected: '<token>.mail.protection.partner.outlook.cn',
          verdict: 'ok',
          found: ['ok-cn.mail.protection.partner.outlook.cn'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.ok.cn',
          expected: 'autodiscover.partner.outlook.cn',
          verdict: 'ok',
          found: ['autodiscover.partner.outlook.cn'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'ok.cn',
          expected: 'include:spf.protection.partner.outlook.cn',
          verdict: 'ok',
          found: ['v=spf1 include:spf.protection.partner.outlook.cn -all'],
          service: 'mail',
        },
        {
          record: 'msoid',
          name: 'msoid.ok.cn',
          expected: 'clientconfig.partner.microsoftonline-p.net.cn',
          verdict: 'ok',
          found: ['clientconfig.partner.microsoftonline-p.net.cn'],
          service: 'auth',
        },
      ],
    ],
    [
      'chain.cn',
      'China',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'chain.cn',
          expected: '<token>.mail.protection.partner.outlook.cn',
          verdict: 'ok',
          found: ['chain-cn.mail.protection.partner.outlook.cn'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.chain.cn',
          expected: 'autodiscover.partner.outlook.cn',
          verdict: 'ok',
          found: ['alias.chain.cn', 'autodiscover.partner.outlook.cn'],
          note: 'CNAME chain of 2',
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'chain.cn',
          expected: 'include:spf.protection.partner.outlook.cn',
          verdict: 'ok',
          found: ['v=spf1 include:spf.protection.partner.outlook.cn -all'],
          service: 'mail',
        },
      ],
    ],
    [
      'wrongauto.cn',
      'China',
      ['mail', 'auth'],
      [
        {
          record: 'mx',
          name: 'wrongauto.cn',
          expected: '<token>.mail.protection.partner.outlook.cn',
          verdict: 'wrong',
          found: ['mx.elsewhere.test'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.wrongauto.cn',
          expected: 'autodiscover.partner.outlook.cn',
          verdict: 'wrong',
          found: ['elsewhere.test'],
          note: 'points to elsewhere.test',
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'wrongauto.cn',
          expected: 'include:spf.protection.partner.outlook.cn',
          verdict: 'wrong',
          found: ['v=spf1 -all'],
          note: 'no include:spf.protection.partner.outlook.cn',
          service: 'mail',
        },
        {
          record: 'msoid',
          name: 'msoid.wrongauto.cn',
          expected: 'clientconfig.partner.microsoftonline-p.net.cn',
          verdict: 'ok',
          found: ['clientconfig.partner.microsoftonline-p.net.cn'],
          service: 'auth',
        },
      ],
    ],
    [
      'missing.cn',
      'China',
      ['mail', 'auth'],
      [
        {
          record: 'mx',
          name: 'missing.cn',
          expected: '<token>.mail.protection.partner.outlook.cn',
          verdict: 'missing',
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.missing.cn',
          expected: 'autodiscover.partner.outlook.cn',
          verdict: 'missing',
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'missing.cn',
          expected: 'v=spf1 include:spf.protection.partner.outlook.cn -all',
          verdict: 'missing',
          service: 'mail',
        },
        {
          record: 'msoid',
          name: 'msoid.missing.cn',
          expected: 'clientconfig.partner.microsoftonline-p.net.cn',
          verdict: 'missing',
          service: 'auth',
        },
      ],
    ],
    [
      'msoid.com',
      'Worldwide',
      ['auth'],
      [
        {
          service: 'auth',
          record: 'msoid',
          name: 'msoid.msoid.com',
          expected: 'no record',
          verdict: 'unexpected',
          found: ['clientconfig.partner.microsoftonline-p.net.cn'],
          note: 'no msoid record outside China: one pointing at the 21Vianet target makes sign-in fail ("custom domain isn\'t in our system")',
        },
      ],
    ],
    [
      'partial.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'partial.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'ok',
          found: ['tok.mail.protection.office365.us'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'partial.auth',
          expected: 'include:spf.protection.office365.us',
          verdict: 'ok',
          found: ['v=spf1 include:spf.protection.office365.us -all'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.partial.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'error',
          found: ['elsewhere.zz'],
          note: expect.stringMatching(/^CNAME elsewhere\.zz: (REFUSED|SERVFAIL)$/),
          service: 'mail',
        },
      ],
    ],
    [
      'xmail.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'xmail.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'wrong',
          found: ['tok.xmail.protection.office365.us'],
          note: 'likely typo: tok.xmail.protection.office365.us',
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'xmail.auth',
          expected: 'include:spf.protection.office365.us',
          verdict: 'ok',
          found: ['v=spf1 include:spf.protection.office365.us -all'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.xmail.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'ok',
          found: ['autodiscover-dod.office365.us'],
          service: 'mail',
        },
      ],
    ],
    [
      'twospf.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'twospf.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'ok',
          found: ['tok.mail.protection.office365.us'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'twospf.auth',
          expected: 'v=spf1 include:spf.protection.office365.us -all',
          verdict: 'wrong',
          found: ['v=spf1 -all', 'v=spf1 include:spf.protection.office365.us -all'],
          note: 'more than one v=spf1 record (RFC 7208: permerror)',
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.twospf.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'ok',
          found: ['autodiscover-dod.office365.us'],
          service: 'mail',
        },
      ],
    ],
    [
      'softinc.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'softinc.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'ok',
          found: ['tok.mail.protection.office365.us'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'softinc.auth',
          expected: 'include:spf.protection.office365.us',
          verdict: 'wrong',
          found: ['v=spf1 ~include:spf.protection.office365.us -all'],
          note: '"~include:spf.protection.office365.us": the qualifier ~ does not let Microsoft 365 pass',
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.softinc.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'ok',
          found: ['autodiscover-dod.office365.us'],
          service: 'mail',
        },
      ],
    ],
    [
      'typo.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'typo.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'ok',
          found: ['tok.mail.protection.office365.us'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'typo.auth',
          expected: 'include:spf.protection.office365.us',
          verdict: 'ok',
          found: ['v=spf1 include:spf.protection.office365.us -all'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.typo.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'wrong',
          found: ['autodiscover-dod.offlce365.us'],
          note: 'likely typo: autodiscover-dod.offlce365.us is 1 character(s) from autodiscover-dod.office365.us',
          service: 'mail',
        },
      ],
    ],
    [
      'chain10.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'chain10.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'ok',
          found: ['tok.mail.protection.office365.us'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'chain10.auth',
          expected: 'include:spf.protection.office365.us',
          verdict: 'ok',
          found: ['v=spf1 include:spf.protection.office365.us -all'],
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.chain10.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'ok',
          found: [
            'h1.chain10.auth',
            'h2.chain10.auth',
            'h3.chain10.auth',
            'h4.chain10.auth',
            'h5.chain10.auth',
            'h6.chain10.auth',
            'h7.chain10.auth',
            'h8.chain10.auth',
            'h9.chain10.auth',
            'autodiscover-dod.office365.us',
          ],
          note: 'CNAME chain of 10',
          service: 'mail',
        },
      ],
    ],
    [
      'typo.cn',
      'China',
      ['auth'],
      [
        {
          record: 'msoid',
          name: 'msoid.typo.cn',
          expected: 'clientconfig.partner.microsoftonline-p.net.cn',
          verdict: 'wrong',
          found: ['clientconfig.partner.microsoftonl1ne-p.net.cn'],
          note: 'likely typo: clientconfig.partner.microsoftonl1ne-p.net.cn is 1 character(s) from clientconfig.partner.microsoftonline-p.net.cn',
          service: 'auth',
        },
      ],
    ],
    [
      'example.org',
      'Worldwide',
      ['mail', 'auth'],
      [
        {
          record: 'mx',
          name: 'example.org',
          expected: '<token>.mail.protection.outlook.com',
          verdict: 'error',
          note: expect.stringMatching(/^MX example\.org: (REFUSED|SERVFAIL)$/),
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.example.org',
          expected: 'autodiscover.outlook.com',
          verdict: 'error',
          note: expect.stringMatching(/^CNAME autodiscover\.example\.org: (REFUSED|SERVFAIL)$/),
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'example.org',
          expected: 'v=spf1 include:spf.protection.outlook.com -all',
          verdict: 'error',
          note: expect.stringMatching(/^TXT example\.org: (REFUSED|SERVFAIL)$/),
          service: 'mail',
        },
        {
          service: 'auth',
          record: 'msoid',
          name: 'msoid.example.org',
          expected: 'no record',
          verdict: 'error',
          note: expect.stringMatching(/^CNAME msoid\.example\.org: (REFUSED|SERVFAIL)$/),
        },
      ],
    ],
    [
      'esc.auth',
      'USGovDoD',
      ['mail'],
      [
        {
          record: 'mx',
          name: 'esc.auth',
          expected: '<token>.mail.protection.office365.us',
          verdict: 'ok',
          found: ['tok.mail.protection.office365.us'],
          service: 'mail',
        },
        {
          record: 'spf',
          name: 'esc.auth',
          expected: 'include:spf.protection.office365.us',
          verdict: 'wrong',
          found: ['v=spf1 \u001b[2J\u001b[32mok include:x -all'],
          note: 'no include:spf.protection.office365.us',
          service: 'mail',
        },
        {
          record: 'autodiscover',
          name: 'autodiscover.esc.auth',
          expected: 'autodiscover-dod.office365.us',
          verdict: 'ok',
          found: ['autodiscover-dod.office365.us'],
          service: 'mail',
        },
      ],
    ],
    [
      'two.dmarc.test',
      'Worldwide',
      ['dmarc'],
      [
        {
          record: 'dmarc',
          name: '_dmarc.two.dmarc.test',
          expected: 'v=DMARC1; p=\u2026',
          verdict: 'wrong',
          found: ['v=DMARC1; p=none', 'v=DMARC1; p=reject'],
          note: 'more than one DMARC record',
          service: 'dmarc',
        },
      ],
    ],
    [
      'dmarc.test',
      'Worldwide',
      ['dmarc'],
      [
        {
          record: 'dmarc',
          name: '_dmarc.dmarc.test',
          expected: 'v=DMARC1; p=\u2026',
          verdict: 'ok',
          found: ['v=DMARC1; p=quarantine; rua=mailto:d@dmarc.test'],
          service: 'dmarc',
        },
      ],
    ],
  ] as [string, DnsInstance, Service[], CheckResult[]][])(
    '%s (%s, %j): every row in full',
    async (domain, instance, services, rows) => {
      expect(await checkDomain(domain, instance, resolver, services)).toEqual(rows);
    },
  );

  it('a resolver that does not answer is an error within the bounded timeout: exit 1', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const p = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [
        CLI,
        'dns',
        'check',
        'ok.cn',
        '--instance',
        'China',
        '--resolver',
        `127.0.0.1:${port}`,
      ]);
      let stderr = '';
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    });
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(
      /^error: (mx|autodiscover|msoid|spf|verification) [a-z.]*ok\.cn: [A-Z]+ [a-z.]*ok\.cn: (timed out|connection refused)/,
    );
    expect(Date.now() - t0).toBeLessThan(15000);
  }, 20000);
});

describe('dns: names are validated before any query', () => {
  it.each(['bad_domain.cn', 'x-.cn', 'a..cn', 'contoso', 'x'.repeat(64) + '.cn'])(
    '%s is refused with exit 1 and no query',
    (d) => {
      const r = runCli(['dns', 'check', d, '--instance', 'China', '--resolver', '127.0.0.1:9']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is not a valid domain name/);
    },
  );
  it("records prints the instance's records as zone-file lines and JSON", () => {
    const zone = runCli([
      'dns',
      'records',
      'contoso.cn',
      '--instance',
      'China',
      '--mx-token',
      'contoso-cn',
    ]);
    expect(zone.stdout).toMatch(
      /^msoid\.contoso\.cn\. +3600 IN CNAME clientconfig\.partner\.microsoftonline-p\.net\.cn\. /m,
    );
    expect(zone.stdout).toMatch(
      /^contoso\.cn\. +3600 IN MX +0 contoso-cn\.mail\.protection\.partner\.outlook\.cn\. /m,
    );
    const json = JSON.parse(runCli(['dns', 'records', 'contoso.com', '--json']).stdout);
    expect(json.records.map((r: any) => `${r.id} ${r.type}`)).toEqual([
      'verification TXT',
      'mx MX',
      'autodiscover CNAME',
      'spf TXT',
    ]);
    expect(json.notes).toEqual([expect.objectContaining({ id: 'msoid', kind: 'must-not-exist' })]);
    expect(runCli(['dns', 'records', 'contoso.us', '--instance', 'USGovGCCHigh']).stdout).toContain(
      'autodiscover.office365.us.',
    );
    expect(runCli(['dns', 'records', 'contoso.us', '--instance', 'USGovDoD']).stdout).toContain(
      'autodiscover-dod.office365.us.',
    );
  });

  it('edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
