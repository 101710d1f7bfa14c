/**
 * dns check in-process against a zone held in memory (checkDomain takes any object with the
 * resolver's four lookups; dns.test.ts asks a real dnsmasq): every verdict of every record kind at
 * its edge, lookup failures of each kind, CNAME chains at the hop limit, and the pure judges
 * (editDistance, parseResolver, judgeDmarc, judgeSpf, asciiLower) word for word.
 */
import { describe, expect, it } from 'vitest';
import {
  asciiLower,
  checkDomain,
  DNS_LIMITS,
  editDistance,
  judgeDmarc,
  judgeSpf,
  makeResolver,
  parseResolver,
  type CheckResult,
  type DnsLookups,
} from '../src/dns/check.js';
import {
  DNS_INSTANCES,
  INSTANCE_TABLES,
  octodnsZone,
  recordsFor,
  zoneLines,
  type Service,
} from '../src/dns/records.js';

type Zone = {
  cname?: Record<string, string>;
  txt?: Record<string, string[][]>;
  mx?: Record<string, { exchange: string; priority: number }[]>;
  srv?: Record<string, { name: string; port: number; priority: number; weight: number }[]>;
  /** "CNAME name" → an error code the lookup fails with */
  fail?: Record<string, string>;
};
const err = (code: string) => Object.assign(new Error(code), { code });
function fake(z: Zone): DnsLookups & { asked: string[] } {
  const asked: string[] = [];
  const get = <T>(kind: string, table: Record<string, T> | undefined, name: string): Promise<T> => {
    asked.push(`${kind} ${name}`);
    const f = z.fail?.[`${kind} ${name}`];
    // "NOCODE": a failure without an error code (the lookup names it EUNKNOWN)
    if (f) return Promise.reject(f === 'NOCODE' ? new Error('boom') : err(f));
    const v = table?.[name];
    return v === undefined ? Promise.reject(err('ENOTFOUND')) : Promise.resolve(v);
  };
  return {
    asked,
    resolveCname: (n: string) => get('CNAME', z.cname, n).then((t) => [t]),
    resolveTxt: (n: string) => get('TXT', z.txt, n),
    resolveMx: (n: string) => get('MX', z.mx, n),
    resolveSrv: (n: string) => get('SRV', z.srv, n),
  };
}
const D = 'contoso.example';
const check = (z: Zone, services: Service[], tenant = {}, instance = 'Worldwide' as const) =>
  checkDomain(D, instance, fake(z), services, tenant);
const row = (rows: CheckResult[], rec: string) => rows.find((r) => r.record === rec)!;

describe('pure judges', () => {
  it('editDistance', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('outlook', 'outlok')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(2);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('parseResolver: IPv4, [IPv6]:port and a bare IPv6 address; 53 by default; ports 1-65535', () => {
    expect(parseResolver('127.0.0.1')).toBe('127.0.0.1:53');
    expect(parseResolver('127.0.0.1:5353')).toBe('127.0.0.1:5353');
    expect(parseResolver('[::1]:53')).toBe('[::1]:53');
    expect(parseResolver('[2001:DB8::1]')).toBe('[2001:DB8::1]:53');
    expect(parseResolver('2001:db8::53')).toBe('[2001:db8::53]:53');
    expect(parseResolver('127.0.0.1:1')).toBe('127.0.0.1:1');
    expect(parseResolver('127.0.0.1:65535')).toBe('127.0.0.1:65535');
    expect(() => parseResolver('127.0.0.1:0')).toThrow('--resolver: port 0 is out of range');
    expect(() => parseResolver('127.0.0.1:65536')).toThrow(
      '--resolver: port 65536 is out of range',
    );
    for (const bad of [
      'localhost',
      'x127.0.0.1',
      '127.0.0.1:53x',
      '1.2.3',
      '1.2.3.4.5',
      '[::1',
      '::1]:53',
      '',
      'abc',
      '1.2.3.4:123456',
      '[g::1]:53',
    ])
      expect(() => parseResolver(bad), bad).toThrow(
        `--resolver ${JSON.stringify(bad)}: give host:port, e.g. 127.0.0.1:5353 or [::1]:53`,
      );
  });

  it('asciiLower folds A-Z only', () => {
    expect(asciiLower('AbC.Example')).toBe('abc.example');
    expect(asciiLower('\u212a')).toBe('\u212a'); // the Kelvin sign is not "k"
    expect(asciiLower('ÄB')).toBe('Äb');
  });

  it('judgeDmarc, each refusal', () => {
    expect(judgeDmarc('v=DMARC1; p=none')).toEqual({ ok: true });
    expect(judgeDmarc('v=DMARC1;p=reject;rua=mailto:a@contoso.example;')).toEqual({ ok: true });
    expect(judgeDmarc('v=DMARC1; P = Quarantine')).toEqual({ ok: true });
    expect(judgeDmarc('p=none; v=DMARC1')).toEqual({
      ok: false,
      note: 'the record must start with v=DMARC1',
    });
    expect(judgeDmarc(' v=DMARC1 ; p=none')).toEqual({ ok: true });
    expect(judgeDmarc('v=dmarc1; p=none')).toEqual({
      ok: false,
      note: 'the record must start with v=DMARC1',
    });
    expect(judgeDmarc('v=DMARC1; p=none; junk')).toEqual({
      ok: false,
      note: '"junk" is not a tag=value pair',
    });
    expect(judgeDmarc('v=DMARC1; x p=none')).toEqual({
      ok: false,
      note: '"x p=none" is not a tag=value pair',
    });
    expect(judgeDmarc('v=DMARC1; rua=mailto:a@b')).toEqual({
      ok: false,
      note: 'no p= policy tag (RFC 7489: required)',
    });
    expect(judgeDmarc('v=DMARC1; p=all')).toEqual({
      ok: false,
      note: 'p=all is not none, quarantine or reject',
    });
    expect(judgeDmarc('v=DMARC1; p=none', 'reject')).toEqual({
      ok: false,
      note: 'p=none, not the p=reject --dmarc-policy asks for',
    });
    expect(judgeDmarc('v=DMARC1; p=REJECT', 'reject')).toEqual({ ok: true });
  });

  it('judgeSpf, each refusal', () => {
    const inc = 'include:spf.protection.outlook.com';
    expect(judgeSpf('v=spf1 include:spf.protection.outlook.com -all', inc)).toEqual({ ok: true });
    expect(judgeSpf('v=spf1 +include:SPF.protection.outlook.com ~all', inc)).toEqual({ ok: true });
    expect(judgeSpf('v=spf1 include:spf.protection.outlook.com +all', inc)).toEqual({
      ok: false,
      note: '"+all" lets any host send for the domain',
    });
    expect(judgeSpf('v=spf1 include:spf.protection.outlook.com all', inc)).toEqual({
      ok: false,
      note: '"all" lets any host send for the domain',
    });
    expect(judgeSpf('v=spf1 include:spf.protection.outlook.com ?all', inc)).toEqual({
      ok: false,
      note: '"?all" lets any host send for the domain',
    });
    for (const q of ['-', '~', '?'])
      expect(judgeSpf(`v=spf1 ${q}${inc} -all`, inc)).toEqual({
        ok: false,
        note: `"${q}${inc}": the qualifier ${q} does not let Microsoft 365 pass`,
      });
    expect(judgeSpf('v=spf1 include:spf.protection.outlok.com -all', inc)).toEqual({
      ok: false,
      note: 'likely typo: include:spf.protection.outlok.com',
    });
    expect(judgeSpf('v=spf1 ~include:spf.protection.outlok.com -all', inc)).toEqual({
      ok: false,
      note: 'likely typo: ~include:spf.protection.outlok.com',
    });
    expect(judgeSpf('v=spf1 include:other.example -all', inc)).toEqual({
      ok: false,
      note: `no ${inc}`,
    });
    expect(judgeSpf('v=spf1 a:spf.protection.outlook.co -all', inc)).toEqual({
      ok: false,
      note: `no ${inc}`,
    });
  });
});

const AUTO = `autodiscover.${D}`;
describe('CNAME records', () => {
  it('ok directly, ok through a chain (with its length), a trailing dot and case ignored', async () => {
    expect(
      row(await check({ cname: { [AUTO]: 'autodiscover.outlook.com' } }, ['mail']), 'autodiscover'),
    ).toEqual({
      record: 'autodiscover',
      service: 'mail',
      name: AUTO,
      verdict: 'ok',
      expected: 'autodiscover.outlook.com',
      found: ['autodiscover.outlook.com'],
    });
    const chain = row(
      await check(
        { cname: { [AUTO]: 'Hop.Example.', 'hop.example': 'AUTODISCOVER.outlook.com.' } },
        ['mail'],
      ),
      'autodiscover',
    );
    expect(chain).toMatchObject({
      verdict: 'ok',
      found: ['hop.example', 'autodiscover.outlook.com'],
      note: 'CNAME chain of 2',
    });
  });

  it('a chain stops at the expected target and at the hop limit', async () => {
    const z = fake({
      cname: {
        [AUTO]: 'autodiscover.outlook.com',
        'autodiscover.outlook.com': 'elsewhere.example',
      },
    });
    const rows = await checkDomain(D, 'Worldwide', z, ['mail']);
    expect(row(rows, 'autodiscover').found).toEqual(['autodiscover.outlook.com']);
    expect(z.asked.filter((a) => a.startsWith('CNAME autodiscover.outlook.com'))).toEqual([]);
    // a loop: followed exactly maxCnameHops times, then judged on what was seen
    const loop = fake({
      cname: { [AUTO]: 'a.example', 'a.example': 'b.example', 'b.example': 'a.example' },
    });
    const r = row(await checkDomain(D, 'Worldwide', loop, ['mail']), 'autodiscover');
    expect(r.found).toHaveLength(DNS_LIMITS.maxCnameHops);
    expect(loop.asked.filter((a) => a.startsWith('CNAME'))).toHaveLength(
      DNS_LIMITS.maxCnameHops + 0,
    );
    expect(r).toMatchObject({ verdict: 'wrong', note: 'points to b.example' });
    // 16 hops reaching the target on the last one is still ok
    const hops: Record<string, string> = {};
    let cur = AUTO;
    for (let i = 1; i < DNS_LIMITS.maxCnameHops; i++) cur = hops[cur] = `h${i}.example`;
    hops[cur] = 'autodiscover.outlook.com';
    expect(row(await check({ cname: hops }, ['mail']), 'autodiscover')).toMatchObject({
      verdict: 'ok',
      note: 'CNAME chain of 16',
    });
  });

  it('missing, wrong with where it points, a likely typo (even one that does not resolve on)', async () => {
    expect(row(await check({}, ['mail']), 'autodiscover')).toEqual({
      record: 'autodiscover',
      service: 'mail',
      name: AUTO,
      verdict: 'missing',
      expected: 'autodiscover.outlook.com',
    });
    expect(
      row(await check({ cname: { [AUTO]: 'mail.example' } }, ['mail']), 'autodiscover'),
    ).toMatchObject({
      verdict: 'wrong',
      found: ['mail.example'],
      note: 'points to mail.example',
    });
    expect(
      row(
        await check(
          {
            cname: { [AUTO]: 'autodiscover.outlok.com' },
            fail: { 'CNAME autodiscover.outlok.com': 'EREFUSED' },
          },
          ['mail'],
        ),
        'autodiscover',
      ),
    ).toMatchObject({
      verdict: 'wrong',
      found: ['autodiscover.outlok.com'],
      note: 'likely typo: autodiscover.outlok.com is 1 character(s) from autodiscover.outlook.com',
    });
    // 2 edits is still a typo of a short name; 3 is not
    expect(
      row(await check({ cname: { [AUTO]: 'autodiscover.outlo.com' } }, ['mail']), 'autodiscover')
        .note,
    ).toMatch(/^likely typo: .* is 2 character/);
    expect(
      row(await check({ cname: { [AUTO]: 'autodiscover.outl.com' } }, ['mail']), 'autodiscover')
        .note,
    ).toBe('points to autodiscover.outl.com');
  });

  it('a lookup failure is the record`s own error verdict, after a hop too', async () => {
    for (const [code, text] of [
      ['ESERVFAIL', 'SERVFAIL'],
      ['EREFUSED', 'REFUSED'],
      ['ETIMEOUT', 'timed out'],
      ['ECONNREFUSED', 'connection refused'],
      ['EODD', 'EODD'],
    ])
      expect(
        row(await check({ fail: { [`CNAME ${AUTO}`]: code } }, ['mail']), 'autodiscover'),
        code,
      ).toEqual({
        record: 'autodiscover',
        service: 'mail',
        name: AUTO,
        verdict: 'error',
        expected: 'autodiscover.outlook.com',
        note: `CNAME ${AUTO}: ${text}`,
      });
    expect(
      row(
        await check(
          { cname: { [AUTO]: 'hop.example' }, fail: { 'CNAME hop.example': 'ETIMEOUT' } },
          ['mail'],
        ),
        'autodiscover',
      ),
    ).toMatchObject({
      verdict: 'error',
      found: ['hop.example'],
      note: 'CNAME hop.example: timed out',
    });
    // ENODATA is no record, like ENOTFOUND
    expect(
      row(await check({ fail: { [`CNAME ${AUTO}`]: 'ENODATA' } }, ['mail']), 'autodiscover')
        .verdict,
    ).toBe('missing');
  });

  it('a tenant value not given (DKIM): present is ok without comparing, absent missing, a failure an error', async () => {
    const sel = `selector1._domainkey.${D}`;
    expect(
      row(await check({ cname: { [sel]: 'anything.example' } }, ['dkim']), 'dkim1'),
    ).toMatchObject({
      verdict: 'ok',
      found: ['anything.example'],
      note: 'target not compared (the tenant value was not given)',
    });
    expect(row(await check({}, ['dkim']), 'dkim1').verdict).toBe('missing');
    expect(
      row(await check({ fail: { [`CNAME ${sel}`]: 'ESERVFAIL' } }, ['dkim']), 'dkim1'),
    ).toMatchObject({
      verdict: 'error',
      note: `CNAME ${sel}: SERVFAIL`,
    });
    // given: compared
    const given = await check({ cname: { [sel]: 'other.example' } }, ['dkim'], {
      dkimSelector1: 'sel1.contoso.onmicrosoft.example',
    });
    expect(row(given, 'dkim1')).toMatchObject({
      verdict: 'wrong',
      expected: 'sel1.contoso.onmicrosoft.example',
    });
  });
});

describe('TXT, MX and SRV records', () => {
  const SPF = 'v=spf1 include:spf.protection.outlook.com -all';
  it('SPF: one record ok, two wrong, judged, found sorted, a near miss of the prefix a typo', async () => {
    expect(
      row(
        await check({ txt: { [D]: [['v=spf1 include:spf.protection.outlook.com', ' -all']] } }, [
          'mail',
        ]),
        'spf',
      ),
    ).toEqual({
      record: 'spf',
      service: 'mail',
      name: D,
      verdict: 'ok',
      expected: 'include:spf.protection.outlook.com',
      found: [SPF],
    });
    expect(
      row(await check({ txt: { [D]: [[SPF], ['v=spf1 -all']] } }, ['mail']), 'spf'),
    ).toMatchObject({
      verdict: 'wrong',
      found: ['v=spf1 -all', SPF],
      note: 'more than one v=spf1 record (RFC 7208: permerror)',
    });
    expect(row(await check({ txt: { [D]: [['v=spf1 +all']] } }, ['mail']), 'spf')).toMatchObject({
      verdict: 'wrong',
      note: '"+all" lets any host send for the domain',
    });
    expect(
      row(
        await check({ txt: { [D]: [['V=SPF1 include:spf.protection.outlook.com -all']] } }, [
          'mail',
        ]),
        'spf',
      ).verdict,
    ).toBe('ok');
    // "v=spf10" is not an SPF record; "v=spf2" near the prefix is a likely typo
    expect(
      row(await check({ txt: { [D]: [['v=spf10 include:x']] } }, ['mail']), 'spf'),
    ).toMatchObject({ verdict: 'wrong', note: 'likely typo: v=spf10 include:x' });
    expect(
      row(
        await check({ txt: { [D]: [['MS=ms123'], ['google-site-verification=x']] } }, ['mail']),
        'spf',
      ),
    ).toEqual({
      record: 'spf',
      service: 'mail',
      name: D,
      verdict: 'missing',
      expected: SPF,
    });
    expect(
      row(await check({ fail: { [`TXT ${D}`]: 'ESERVFAIL' } }, ['mail']), 'spf'),
    ).toMatchObject({ verdict: 'error', note: `TXT ${D}: SERVFAIL`, expected: SPF });
  });

  it('DMARC: checked against --dmarc-policy; two records wrong', async () => {
    const name = `_dmarc.${D}`;
    expect(
      row(
        await check({ txt: { [name]: [['v=DMARC1; p=reject']] } }, ['dmarc'], {
          dmarcPolicy: 'reject',
        }),
        'dmarc',
      ),
    ).toEqual({
      record: 'dmarc',
      service: 'dmarc',
      name,
      verdict: 'ok',
      expected: 'v=DMARC1; p=reject',
      found: ['v=DMARC1; p=reject'],
    });
    expect(
      row(await check({ txt: { [name]: [['v=DMARC1; p=none']] } }, ['dmarc']), 'dmarc'),
    ).toMatchObject({ verdict: 'ok', expected: 'v=DMARC1; p=…' });
    expect(
      row(
        await check({ txt: { [name]: [['v=DMARC1; p=none']] } }, ['dmarc'], {
          dmarcPolicy: 'reject',
        }),
        'dmarc',
      ),
    ).toMatchObject({
      verdict: 'wrong',
      note: 'p=none, not the p=reject --dmarc-policy asks for',
    });
    expect(
      row(
        await check({ txt: { [name]: [['v=DMARC1; p=none'], ['v=DMARC1; p=reject']] } }, ['dmarc']),
        'dmarc',
      ),
    ).toEqual({
      record: 'dmarc',
      service: 'dmarc',
      name,
      verdict: 'wrong',
      expected: 'v=DMARC1; p=…',
      found: ['v=DMARC1; p=none', 'v=DMARC1; p=reject'],
      note: 'more than one DMARC record',
    });
  });

  it('verification: needed once; without --verification its absence is not checked, with it missing', async () => {
    const none = row(
      await check({ txt: { [D]: [['v=spf1 -all']] } }, ['verification']),
      'verification',
    );
    expect(none).toMatchObject({
      verdict: 'not-checked',
      note: 'needed once, to verify the domain in the admin center; pass --verification to check it',
    });
    expect(
      row(
        await check({ txt: { [D]: [['v=spf1 -all']] } }, ['verification'], {
          verification: 'ms5678',
        }),
        'verification',
      ),
    ).toMatchObject({ verdict: 'missing' });
  });

  it('verification: any MS= without the value; the exact value with it; a near miss a typo', async () => {
    expect(
      row(await check({ txt: { [D]: [['MS=ms1234']] } }, ['verification']), 'verification'),
    ).toMatchObject({
      verdict: 'ok',
      found: ['MS=ms1234'],
      note: 'value not compared (pass --verification)',
    });
    const v = { verification: 'ms5678' };
    expect(
      row(
        await check({ txt: { [D]: [['MS=ms5678'], ['MS=old']] } }, ['verification'], v),
        'verification',
      ),
    ).toEqual({
      record: 'verification',
      service: 'verification',
      name: D,
      verdict: 'ok',
      expected: 'MS=ms5678',
      found: ['MS=ms5678', 'MS=old'],
    });
    expect(
      row(await check({ txt: { [D]: [['MS=ms5679']] } }, ['verification'], v), 'verification'),
    ).toMatchObject({ verdict: 'wrong', note: 'likely typo: MS=ms5679' });
    expect(
      row(await check({ txt: { [D]: [['MS=zzzzzzzz']] } }, ['verification'], v), 'verification'),
    ).toMatchObject({ verdict: 'wrong', note: 'no MS=ms5678' });
    expect(
      row(await check({ txt: { [D]: [['MX=ms5678']] } }, ['verification'], v), 'verification'),
    ).toMatchObject({ verdict: 'wrong', note: 'likely typo: MX=ms5678' });
  });

  it('MX: the suffix on a label boundary without a token, the exact host with one, lowest priority first', async () => {
    const mx = (exchange: string, priority = 0) => ({ exchange, priority });
    expect(
      row(
        await check({ mx: { [D]: [mx('contoso-example.mail.protection.outlook.com.')] } }, [
          'mail',
        ]),
        'mx',
      ),
    ).toEqual({
      record: 'mx',
      service: 'mail',
      name: D,
      verdict: 'ok',
      expected: '<token>.mail.protection.outlook.com',
      found: ['contoso-example.mail.protection.outlook.com'],
    });
    expect(
      row(await check({ mx: { [D]: [mx('x.xmail.protection.outlook.com')] } }, ['mail']), 'mx'),
    ).toMatchObject({ verdict: 'wrong' });
    expect(
      row(await check({ mx: { [D]: [mx('.mail.protection.outlook.com')] } }, ['mail']), 'mx')
        .verdict,
    ).toBe('wrong');
    expect(
      row(await check({ mx: { [D]: [mx('mail.protection.outlook.com')] } }, ['mail']), 'mx')
        .verdict,
    ).toBe('wrong');
    expect(
      row(await check({ mx: { [D]: [mx('t.mail.protection.outlok.com')] } }, ['mail']), 'mx'),
    ).toMatchObject({ verdict: 'wrong', note: 'likely typo: t.mail.protection.outlok.com' });
    expect(
      row(await check({ mx: { [D]: [mx('b.example', 20), mx('a.example', 10)] } }, ['mail']), 'mx'),
    ).toMatchObject({ verdict: 'wrong', found: ['a.example', 'b.example'] });
    const token = { mxToken: 'contoso-example' };
    expect(
      row(
        await check(
          { mx: { [D]: [mx('contoso-example.mail.protection.outlook.com')] } },
          ['mail'],
          token,
        ),
        'mx',
      ),
    ).toMatchObject({
      verdict: 'ok',
      expected: 'contoso-example.mail.protection.outlook.com',
    });
    expect(
      row(
        await check({ mx: { [D]: [mx('fabrikam.mail.protection.outlook.com')] } }, ['mail'], token),
        'mx',
      ).verdict,
    ).toBe('wrong');
    expect(row(await check({}, ['mail']), 'mx').verdict).toBe('missing');
    expect(row(await check({ fail: { [`MX ${D}`]: 'ETIMEOUT' } }, ['mail']), 'mx')).toMatchObject({
      verdict: 'error',
      note: `MX ${D}: timed out`,
    });
  });

  it('SRV: ok, each field that differs named, the closest answer first', async () => {
    const name = `_sip._tls.${D}`;
    const srv = (
      o: Partial<{ name: string; port: number; priority: number; weight: number }> = {},
    ) => ({
      name: 'sipdir.online.lync.com',
      port: 443,
      priority: 100,
      weight: 1,
      ...o,
    });
    const got = async (answers: ReturnType<typeof srv>[]) =>
      row(await check({ srv: { [name]: answers } }, ['sfb']), 'sip-srv');
    expect(await got([srv({ name: 'SIPDIR.online.lync.com.' })])).toEqual({
      record: 'sip-srv',
      service: 'sfb',
      name,
      verdict: 'ok',
      expected: '100 1 443 sipdir.online.lync.com',
      found: ['100 1 443 sipdir.online.lync.com'],
    });
    expect((await got([srv({ port: 5061 })])).note).toBe('port 5061 (expected 443)');
    expect((await got([srv({ priority: 10 })])).note).toBe('priority 10 (expected 100)');
    expect((await got([srv({ weight: 0 })])).note).toBe('weight 0 (expected 1)');
    expect((await got([srv({ name: 'sipdir.online.lyn.com' })])).note).toBe(
      'likely typo: sipdir.online.lyn.com',
    );
    expect((await got([srv({ name: 'sip.example' })])).note).toBe('target sip.example');
    expect(await got([srv({ name: 'sip.example', port: 1 }), srv({ weight: 5 })])).toMatchObject({
      verdict: 'wrong',
      found: ['100 1 1 sip.example', '100 5 443 sipdir.online.lync.com'],
      note: 'weight 5 (expected 1)',
    });
    expect(row(await check({}, ['sfb']), 'sip-srv').verdict).toBe('missing');
  });
});

describe('notes', () => {
  it('msoid must not exist outside China: absent ok, present unexpected, a failure an error', async () => {
    const name = `msoid.${D}`;
    const ok = row(await check({}, ['auth']), 'msoid');
    expect(ok).toEqual({
      service: 'auth',
      record: 'msoid',
      name,
      expected: 'no record',
      verdict: 'ok',
    });
    const there = row(
      await check({ cname: { [name]: 'clientconfig.microsoftonline-p.net' } }, ['auth']),
      'msoid',
    );
    expect(there).toMatchObject({
      verdict: 'unexpected',
      found: ['clientconfig.microsoftonline-p.net'],
    });
    expect(there.note).toMatch(/msoid/i);
    expect(
      row(await check({ fail: { [`CNAME ${name}`]: 'EREFUSED' } }, ['auth']), 'msoid'),
    ).toMatchObject({ verdict: 'error', note: `CNAME ${name}: REFUSED` });
  });

  it('a value Microsoft does not document for the instance is not known, and nothing is asked', async () => {
    const z = fake({});
    const rows = await checkDomain(D, 'China', z, ['mdm']);
    expect(rows).toEqual([
      {
        record: 'enterpriseregistration',
        service: 'mdm',
        name: `enterpriseregistration.${D}`,
        verdict: 'not-known',
        expected: 'not known',
        note: 'no Microsoft source gives the MDM CNAMEs for 21Vianet',
      },
    ]);
    expect(z.asked).toEqual([]);
  });

  it('the domain is read case-blind and without its trailing dot', async () => {
    const rows = await checkDomain(
      'Contoso.Example.',
      'Worldwide',
      fake({ cname: { [AUTO]: 'autodiscover.outlook.com' } }),
      ['mail'],
    );
    expect(row(rows, 'autodiscover')).toMatchObject({ name: AUTO, verdict: 'ok' });
  });
});

describe('zone files in-process', () => {
  it("zoneLines: header, notes, aligned names, quoted TXT, each record's service, purpose and sources", () => {
    const r = recordsFor('Worldwide', ['verification', 'mail', 'auth', 'sfb', 'dmarc'], {
      mxToken: 'contoso-example',
      verification: 'ms1"2\\3',
    });
    expect(zoneLines('contoso.example', 'Worldwide', r).split('\n')).toEqual([
      '; Microsoft 365 worldwide (commercial, GCC): DNS records for contoso.example',
      '$TTL 3600',
      '; no msoid record: no msoid record outside China: one pointing at the 21Vianet target makes sign-in fail ("custom domain isn\'t in our system") (EXT)',
      'contoso.example.              3600 IN TXT   "MS=ms1\\"2\\\\3"    ; verification: domain verification (the value from the admin center) [EXT, ANY]',
      'contoso.example.              3600 IN MX    0 contoso-example.mail.protection.outlook.com.    ; mail: inbound mail (Exchange Online) [EXT, ANY]',
      'autodiscover.contoso.example. 3600 IN CNAME autodiscover.outlook.com.    ; mail: Outlook finds its mailbox settings [EXT]',
      'contoso.example.              3600 IN TXT   "v=spf1 include:spf.protection.outlook.com -all"    ; mail: SPF: Microsoft 365 may send for the domain (one SPF record only) [EXT]',
      '_sip._tls.contoso.example.    3600 IN SRV   100 1 443 sipdir.online.lync.com.    ; sfb: Skype for Business (legacy) [EXT (2022), ANY]',
      'sip.contoso.example.          3600 IN CNAME sipdir.online.lync.com.    ; sfb: Skype for Business (legacy) [ANY]',
      'lyncdiscover.contoso.example. 3600 IN CNAME webdir.online.lync.com.    ; sfb: Skype for Business / Teams PowerShell [EXT (2022), ANY]',
      '_dmarc.contoso.example.       3600 IN TXT   "v=DMARC1; p=none"    ; dmarc: DMARC policy (rua/ruf optional) [DMARC]',
      '',
    ]);
  });
  it('zoneLines: a placeholder line has no comment after it and a line saying what to pass', () => {
    const r = recordsFor('China', ['mail', 'mdm'], {});
    expect(zoneLines('contoso.example', 'China', r).split('\n')).toEqual([
      '; Office 365 operated by 21Vianet: DNS records for contoso.example',
      '$TTL 3600',
      '; mdm: not known for China: no Microsoft source gives the MDM CNAMEs for 21Vianet',
      'contoso.example.              3600 IN MX    0 ((REPLACE-ME;--mx-token)).mail.protection.partner.outlook.cn',
      '; ^ replace the placeholder: pass --mx-token (the line is made so that no zone tool loads it)',
      'autodiscover.contoso.example. 3600 IN CNAME autodiscover.partner.outlook.cn.    ; mail: Outlook finds its mailbox settings [ANY, EASTNET]',
      'contoso.example.              3600 IN TXT   "v=spf1 include:spf.protection.partner.outlook.cn -all"    ; mail: SPF: Microsoft 365 may send for the domain (one SPF record only) [ANY, EASTNET]',
      '',
    ]);
  });
  it('octodnsZone: records by name, several of a type as one, sorted, ";" escaped in TXT', () => {
    const r = recordsFor('Worldwide', ['verification', 'mail', 'auth', 'sfb', 'dmarc'], {
      mxToken: 'contoso-example',
      verification: 'ms1"2\\3',
    });
    expect(JSON.stringify(octodnsZone(r), null, 2)).toBe(
      '{\n  "": [\n    {\n      "type": "MX",\n      "ttl": 3600,\n      "values": [\n        {\n          "exchange": "contoso-example.mail.protection.outlook.com.",\n          "preference": 0\n        }\n      ]\n    },\n    {\n      "type": "TXT",\n      "ttl": 3600,\n      "values": [\n        "MS=ms1\\"2\\\\3",\n        "v=spf1 include:spf.protection.outlook.com -all"\n      ]\n    }\n  ],\n  "_dmarc": {\n    "type": "TXT",\n    "ttl": 3600,\n    "values": [\n      "v=DMARC1\\\\; p=none"\n    ]\n  },\n  "_sip._tls": {\n    "type": "SRV",\n    "ttl": 3600,\n    "values": [\n      {\n        "port": 443,\n        "priority": 100,\n        "target": "sipdir.online.lync.com.",\n        "weight": 1\n      }\n    ]\n  },\n  "autodiscover": {\n    "type": "CNAME",\n    "ttl": 3600,\n    "value": "autodiscover.outlook.com."\n  },\n  "lyncdiscover": {\n    "type": "CNAME",\n    "ttl": 3600,\n    "value": "webdir.online.lync.com."\n  },\n  "sip": {\n    "type": "CNAME",\n    "ttl": 3600,\n    "value": "sipdir.online.lync.com."\n  }\n}',
    );
  });
});

describe('edges', () => {
  it('parseResolver: IPv4 with octets of one to three digits; makeResolver asks the given server or the system', () => {
    expect(parseResolver('192.0.2.53')).toBe('192.0.2.53:53');
    expect(parseResolver('198.51.100.254:5353')).toBe('198.51.100.254:5353');
    expect(makeResolver('192.0.2.53:5353').getServers()).toEqual(['192.0.2.53:5353']);
    expect(makeResolver('[2001:db8::53]:53').getServers()).toEqual(['2001:db8::53']);
    // without --resolver: the system's servers, whatever they are, and no parse of nothing
    expect(() => makeResolver().getServers()).not.toThrow();
  });

  it('SPF: only a TXT that starts with v=spf1 (alone or before a space) is an SPF record', async () => {
    expect(
      row(
        await check({ txt: { [D]: [['x v=spf1 include:spf.protection.outlook.com -all']] } }, [
          'mail',
        ]),
        'spf',
      ).verdict,
    ).toBe('missing');
    expect(row(await check({ txt: { [D]: [['v=spf1']] } }, ['mail']), 'spf')).toMatchObject({
      verdict: 'wrong',
      found: ['v=spf1'],
      note: 'no include:spf.protection.outlook.com',
    });
  });

  it('MX without a token: one host of ours among others is ok', async () => {
    const mx = (exchange: string, priority: number) => ({ exchange, priority });
    expect(
      row(
        await check(
          {
            mx: {
              [D]: [
                mx('backup.example', 20),
                mx('contoso-example.mail.protection.outlook.com', 10),
              ],
            },
          },
          ['mail'],
        ),
        'mx',
      ),
    ).toMatchObject({
      verdict: 'ok',
      found: ['contoso-example.mail.protection.outlook.com', 'backup.example'],
    });
  });

  it('SRV: answers sorted, every differing field named, a failure named by its lookup', async () => {
    const name = `_sip._tls.${D}`;
    const srv = (o: Partial<{ name: string; port: number; priority: number; weight: number }>) => ({
      name: 'sipdir.online.lync.com',
      port: 443,
      priority: 100,
      weight: 1,
      ...o,
    });
    const got = async (answers: ReturnType<typeof srv>[]) =>
      row(await check({ srv: { [name]: answers } }, ['sfb']), 'sip-srv');
    expect(
      await got([srv({ weight: 5, port: 5061 }), srv({ priority: 1, name: 'a.example' })]),
    ).toMatchObject({
      verdict: 'wrong',
      found: ['1 1 443 a.example', '100 5 5061 sipdir.online.lync.com'],
      note: 'priority 1 (expected 100), target a.example',
    });
    expect(
      row(await check({ fail: { [`SRV ${name}`]: 'EREFUSED' } }, ['sfb']), 'sip-srv'),
    ).toMatchObject({
      verdict: 'error',
      note: `SRV ${name}: REFUSED`,
    });
  });

  it('a failure without an error code is EUNKNOWN', async () => {
    expect(row(await check({ fail: { [`MX ${D}`]: 'NOCODE' } }, ['mail']), 'mx')).toMatchObject({
      verdict: 'error',
      note: `MX ${D}: EUNKNOWN`,
    });
  });
});

describe('the tables', () => {
  it('each instance: its own label and MX help, its defaults; every record a purpose, every note a detail', () => {
    const labels = DNS_INSTANCES.map((i) => INSTANCE_TABLES[i].label);
    expect(new Set(labels).size).toBe(4);
    expect(labels).toEqual([
      'Microsoft 365 worldwide (commercial, GCC)',
      'Office 365 operated by 21Vianet',
      'Microsoft 365 GCC High',
      'Microsoft 365 DoD',
    ]);
    // what `records` and `check` use without --services: verification (where Microsoft gives it),
    // mail, and auth (msoid: required in China, must not exist elsewhere)
    expect(DNS_INSTANCES.map((i) => INSTANCE_TABLES[i].defaults)).toEqual([
      ['verification', 'mail', 'auth'],
      ['verification', 'mail', 'auth'],
      ['mail', 'auth'],
      ['mail', 'auth'],
    ]);
    for (const i of DNS_INSTANCES) {
      const t = INSTANCE_TABLES[i];
      expect(t.mxHelp, i).toMatch(/\w{5}/);
      for (const r of t.records) expect(r.purpose, `${i} ${r.id}`).toMatch(/\w{5}/);
      for (const n of t.notes) {
        expect(n.detail, `${i} ${n.id}`).toMatch(/\w{5}/);
        expect(n.id, i).toMatch(/^[a-z]/);
        // a must-not-exist note cites its source; a not-known one has none to cite
        expect(n.source === '', `${i} ${n.id}`).toBe(n.kind === 'not-known');
      }
      // every default service has something to check
      for (const s of t.defaults)
        expect(
          [...t.records, ...t.notes].some((x) => x.service === s),
          `${i} ${s}`,
        ).toBe(true);
    }
    // the notes of each instance: what must not exist and what Microsoft does not document
    expect(
      DNS_INSTANCES.map((i) =>
        INSTANCE_TABLES[i].notes.map((n) => `${n.kind} ${n.service} ${n.id} ${n.name}`),
      ),
    ).toEqual([
      ['must-not-exist auth msoid msoid'],
      [
        'not-known mdm enterpriseregistration enterpriseregistration',
        'not-known dkim dkim selector1._domainkey',
      ],
      ...['GCCH', 'DOD'].map(() => [
        'must-not-exist auth msoid msoid',
        'not-known verification verification @',
        'not-known dkim dkim selector1._domainkey',
      ]),
    ]);
    expect(Object.keys(INSTANCE_TABLES)).toEqual(DNS_INSTANCES);
    expect(INSTANCE_TABLES.USGovGCCHigh.mxHelp).toMatch(/first part of your default tenant name/);
    expect(INSTANCE_TABLES.China.mxHelp).toMatch(/domain key/);
  });

  it('each tenant value missing is its own placeholder, naming its own flag', () => {
    const { records } = recordsFor('Worldwide', ['verification', 'mail', 'dkim', 'dmarc']);
    expect(records.map((r) => [r.id, r.placeholder ?? null, r.value])).toEqual([
      ['verification', '--verification', 'MS=((REPLACE-ME;--verification))'],
      ['mx', '--mx-token', '((REPLACE-ME;--mx-token)).mail.protection.outlook.com'],
      ['autodiscover', null, 'autodiscover.outlook.com'],
      ['spf', null, 'v=spf1 include:spf.protection.outlook.com -all'],
      ['dkim1', '--dkim-selector1', '((REPLACE-ME;--dkim-selector1))'],
      ['dkim2', '--dkim-selector2', '((REPLACE-ME;--dkim-selector2))'],
      ['dmarc', null, 'v=DMARC1; p=none'],
    ]);
  });

  it('octodnsZone: types in order under a name, whatever order the records come in', () => {
    const z = octodnsZone(recordsFor('Worldwide', ['mail'], { mxToken: 't' })) as Record<
      string,
      { type: string }[]
    >;
    expect(Object.keys(z)).toEqual(['', 'autodiscover']);
    expect(z[''].map((e) => e.type)).toEqual(['MX', 'TXT']);
  });
});
