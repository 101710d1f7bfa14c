/**
 * Every record of every instance, proven: `dns records` zones loaded by named-checkzone (and the
 * placeholders refused by it), octoDNS YAML checked against octoDNS's record format, and `dns check`
 * against dnsmasq (srv-host, txt-record, cname, mx-host) serving zones written from the table,
 * authoritative-only with no upstream: a right zone, a typo in each record kind, a missing service,
 * a stale msoid on GCC High.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { have, runCli, skipNote, runCliAsync } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';
import {
  DNS_INSTANCES,
  INSTANCE_TABLES,
  recordsFor,
  SERVICES,
  type DnsInstance,
  type DnsRecord,
} from '../src/dns/records.js';

const ALL = SERVICES.join(',');
const tenant = {
  mxToken: 'contoso-com',
  verification: 'ms12345678',
  dkimSelector1: 'selector1-contoso-com._domainkey.contoso.onmicrosoft.com',
  dkimSelector2: 'selector2-contoso-com._domainkey.contoso.onmicrosoft.com',
};
const tenantArgs = [
  '--mx-token',
  'contoso-com',
  '--verification',
  'MS=ms12345678',
  '--dkim-selector1',
  tenant.dkimSelector1,
  '--dkim-selector2',
  tenant.dkimSelector2,
];
const SOA = (d: string) =>
  `$ORIGIN ${d}.\n@ 3600 IN SOA ns.${d}. hostmaster.${d}. 1 3600 600 86400 3600\n@ 3600 IN NS ns.${d}.\nns 3600 IN A 192.0.2.53\n`;

describe('dns records: loaded by the zone tools', () => {
  const why = have('named-checkzone')
    ? undefined
    : 'needs named-checkzone (apt-get install bind9-utils)';
  skipNote('named-checkzone', why);
  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: every record with the tenant values loads; with placeholders it is refused',
    (instance) => {
      const dir = tmpDir('zone');
      const zone = (args: string[]) => {
        const r = runCli([
          'dns',
          'records',
          'contoso.com',
          '--instance',
          instance,
          '--services',
          ALL,
          ...args,
        ]);
        expect(r.code, r.stderr).toBe(0);
        const f = join(dir, `${instance}-${args.length}.zone`);
        writeFileSync(f, SOA('contoso.com') + r.stdout);
        return {
          ...spawnSync('named-checkzone', ['contoso.com', f], { encoding: 'utf8' }),
          text: r.stdout,
          stderr: r.stderr,
        };
      };
      const good = zone(tenantArgs);
      expect(good.status, good.stdout).toBe(0);
      expect(good.stdout).toMatch(/\nOK\n$/);
      const bad = zone([]);
      expect(bad.status).not.toBe(0);
      expect(bad.stdout).toMatch(/unbalanced parentheses|extra input text/);
      expect(bad.stderr).toMatch(/placeholders left for .*--mx-token/);
      // what Microsoft does not document is said, not guessed
      for (const n of INSTANCE_TABLES[instance].notes.filter((x) => x.kind === 'not-known'))
        expect(good.text).toContain(`; ${n.service}: not known for ${instance}`);
    },
  );

  it('MDM CNAMEs for 21Vianet are not known, and none is invented', () => {
    const r = runCli([
      'dns',
      'records',
      'contoso.cn',
      '--instance',
      'China',
      '--services',
      'mdm',
      '--json',
    ]);
    const j = JSON.parse(r.stdout);
    expect(j.records).toEqual([]);
    expect(j.notes).toEqual([
      expect.objectContaining({
        service: 'mdm',
        kind: 'not-known',
        detail: 'no Microsoft source gives the MDM CNAMEs for 21Vianet',
      }),
    ]);
  });

  it.each(DNS_INSTANCES)(
    '%s as octoDNS YAML: names relative to the zone, FQDN values ending in ".", escaped semicolons; placeholders invalid',
    (instance) => {
      const r = runCli([
        'dns',
        'records',
        'contoso.com',
        '--instance',
        instance,
        '--services',
        ALL,
        '--format',
        'octodns',
        ...tenantArgs,
      ]);
      const zone = parse(r.stdout) as Record<string, unknown>;
      const fqdnRe = /^([a-z0-9_]([a-z0-9_-]*[a-z0-9])?\.)+$/;
      const { records } = recordsFor(instance, [...SERVICES], tenant);
      let n = 0;
      for (const [name, v] of Object.entries(zone)) {
        for (const rec of (Array.isArray(v) ? v : [v]) as {
          type: string;
          ttl: number;
          value?: string;
          values?: unknown[];
        }[]) {
          expect(rec.ttl).toBe(3600);
          if (rec.type === 'CNAME') {
            expect(rec.value).toMatch(fqdnRe);
            n++;
          } else if (rec.type === 'MX')
            for (const x of rec.values as { exchange: string; preference: number }[]) {
              expect(x.exchange).toMatch(fqdnRe);
              expect(x.preference).toBe(0);
              n++;
            }
          else if (rec.type === 'SRV')
            for (const x of rec.values as {
              target: string;
              port: number;
              priority: number;
              weight: number;
            }[]) {
              expect(x.target).toMatch(fqdnRe);
              expect([443, 5061]).toContain(x.port);
              n++;
            }
          else if (rec.type === 'TXT')
            for (const x of rec.values as string[]) {
              expect(x).not.toMatch(/(^|[^\\]);/);
              n++;
            }
          else throw new Error(`unexpected type ${rec.type}`);
          expect(name).not.toMatch(/contoso\.com/);
        }
      }
      expect(n).toBe(records.length);
      const ph = parse(
        runCli(['dns', 'records', 'contoso.com', '--instance', instance, '--format', 'octodns'])
          .stdout,
      ) as Record<string, any>;
      const mx = (Array.isArray(ph['']) ? ph[''] : [ph['']]).find((x: any) => x.type === 'MX');
      expect(mx.values[0].exchange).not.toMatch(fqdnRe);
    },
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** dnsmasq lines serving `records` for `domain` (record names relative to it). */
function serve(domain: string, records: DnsRecord[]): string[] {
  const abs = (n: string) => (n === '@' ? domain : `${n}.${domain}`);
  return records.map((x) => {
    if (x.type === 'CNAME') return `cname=${abs(x.name)},${x.value}`;
    if (x.type === 'MX') return `mx-host=${abs(x.name)},${x.value},${x.priority}`;
    if (x.type === 'SRV')
      return `srv-host=${abs(x.name)},${x.value},${x.port},${x.priority},${x.weight}`;
    return `txt-record=${abs(x.name)},"${x.value}"`;
  });
}
const short: Record<DnsInstance, string> = {
  Worldwide: 'ww',
  China: 'cn',
  USGovGCCHigh: 'gcch',
  USGovDoD: 'dod',
};
const servicesOf = (i: DnsInstance) =>
  SERVICES.filter(
    (s) =>
      INSTANCE_TABLES[i].records.some((r) => r.service === s) ||
      INSTANCE_TABLES[i].notes.some((n) => n.kind === 'must-not-exist' && n.service === s),
  );

/** A typo in each record kind, one record per kind. */
function withTypos(records: DnsRecord[]): DnsRecord[] {
  const seen = new Set<string>();
  return records.map((x) => {
    const kind = x.type === 'TXT' ? `TXT ${x.id}` : x.type;
    if (seen.has(kind)) return x;
    seen.add(kind);
    if (x.type === 'CNAME') return { ...x, value: x.value.replace(/o/, '0') };
    if (x.type === 'MX') return { ...x, value: x.value.replace('protection', 'protectlon') };
    if (x.type === 'SRV') return { ...x, port: x.port === 443 ? 444 : 5062 };
    if (x.id === 'spf') return { ...x, value: x.value.replace('include:spf', 'include:spff') };
    if (x.id === 'dmarc') return { ...x, value: 'v=DMARC1; p=maybe' };
    return { ...x, value: x.value.replace('12345678', '12345679') };
  });
}

describe('dns check against dnsmasq, every instance', () => {
  const why = have('dnsmasq') ? undefined : 'needs dnsmasq (apt-get install dnsmasq-base)';
  skipNote('DNS check per instance against dnsmasq', why);
  let dnsmasq: ChildProcess | undefined;
  let resolver = '';
  beforeAll(async () => {
    if (why) return;
    const port = await freePort();
    const lines = [
      `port=${port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'pid-file=',
      'local=/auth/',
    ];
    for (const i of DNS_INSTANCES) {
      const { records } = recordsFor(i, servicesOf(i), tenant);
      lines.push(...serve(`right-${short[i]}.auth`, records));
      lines.push(...serve(`typo-${short[i]}.auth`, withTypos(records)));
      lines.push(
        ...serve(
          `nosfb-${short[i]}.auth`,
          records.filter((x) => x.service !== 'sfb'),
        ),
      );
    }
    const gcch = recordsFor('USGovGCCHigh', servicesOf('USGovGCCHigh'), tenant).records;
    lines.push(
      ...serve('stale-gcch.auth', gcch),
      'cname=msoid.stale-gcch.auth,clientconfig.microsoftonline-p.net',
    );
    const dir = tmpDir('dnsi');
    writeFileSync(join(dir, 'dnsmasq.conf'), lines.join('\n') + '\n');
    dnsmasq = spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        `--conf-file=${join(dir, 'dnsmasq.conf')}`,
        ...(process.getuid?.() === 0 ? [] : ['--user=']),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    dnsmasq.stderr!.on('data', (d) => (err += d));
    resolver = `127.0.0.1:${port}`;
    for (let k = 0; k < 50; k++) {
      if ((await check('right-ww.auth', 'Worldwide')).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dnsmasq did not start: ${err}`);
  }, 20000);
  afterAll(() => {
    dnsmasq?.kill('SIGTERM');
  });

  function check(domain: string, instance: DnsInstance, services = servicesOf(instance)) {
    return runCliAsync([
      'dns',
      'check',
      domain,
      '--instance',
      instance,
      '--resolver',
      resolver,
      '--json',
      '--services',
      services.join(','),
      ...tenantArgs,
    ]);
  }

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: the right zone, authoritative-only, no upstream: every record ok, exit 0',
    async (i) => {
      const r = await check(`right-${short[i]}.auth`, i);
      expect(r.stderr).toBe('');
      const bad = r.json.results.filter(
        (x: any) => x.verdict !== 'ok' && x.verdict !== 'not-known',
      );
      expect(bad).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.json.results.filter((x: any) => x.verdict === 'ok').length).toBe(
        recordsFor(i, servicesOf(i), tenant).records.length +
          INSTANCE_TABLES[i].notes.filter(
            (n) => n.kind === 'must-not-exist' && servicesOf(i).includes(n.service),
          ).length,
      );
    },
  );

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: a typo in each record kind is wrong (likely typo named where it is a name); the rest ok; exit 2',
    async (i) => {
      const r = await check(`typo-${short[i]}.auth`, i);
      expect(r.code, r.stderr).toBe(2);
      const records = recordsFor(i, servicesOf(i), tenant).records;
      const typoed = new Set<string>();
      const seen = new Set<string>();
      for (const x of records) {
        const k = x.type === 'TXT' ? `TXT ${x.id}` : x.type;
        if (!seen.has(k)) {
          seen.add(k);
          typoed.add(x.id);
        }
      }
      for (const x of r.json.results) {
        if (x.verdict === 'not-known') continue;
        expect(x.verdict, `${x.record}: ${x.note}`).toBe(typoed.has(x.record) ? 'wrong' : 'ok');
        if (
          typoed.has(x.record) &&
          ['CNAME', 'MX'].includes(records.find((y) => y.id === x.record)!.type)
        )
          expect(x.note).toMatch(/^likely typo/);
      }
      const srvRow = r.json.results.find(
        (x: any) => records.find((y) => y.id === x.record)?.type === 'SRV' && x.verdict === 'wrong',
      );
      expect(srvRow.note).toMatch(/^port (444|5062) \(expected (443|5061)\)$/);
      const dmarcRow = r.json.results.find((x: any) => x.record === 'dmarc');
      expect(dmarcRow.note).toBe('p=maybe is not none, quarantine or reject');
    },
  );

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: a missing service (no Skype for Business records): each of them missing, exit 2',
    async (i) => {
      const r = await check(`nosfb-${short[i]}.auth`, i);
      expect(r.code).toBe(2);
      for (const x of r.json.results)
        expect(x.verdict, x.record).toBe(
          x.service === 'sfb' ? 'missing' : x.verdict === 'not-known' ? 'not-known' : 'ok',
        );
      expect(r.json.results.filter((x: any) => x.service === 'sfb').length).toBe(3);
    },
  );

  it.skipIf(!!why)(
    'a stale msoid on GCC High is unexpected (must be removed), exit 2',
    async () => {
      const r = await check('stale-gcch.auth', 'USGovGCCHigh');
      expect(r.code).toBe(2);
      const msoid = r.json.results.find((x: any) => x.record === 'msoid');
      expect(msoid).toMatchObject({
        verdict: 'unexpected',
        found: ['clientconfig.microsoftonline-p.net'],
      });
      expect(msoid.note).toMatch(/must be removed/);
      expect(
        r.json.results
          .filter((x: any) => x.verdict !== 'ok' && x.verdict !== 'not-known')
          .map((x: any) => x.record),
      ).toEqual(['msoid']);
    },
  );
});
