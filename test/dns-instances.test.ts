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
  octodnsZone,
  recordsFor,
  SERVICES,
  zoneLines,
  type DnsInstance,
  type DnsRecord,
} from '../src/dns/records.js';
import { checkDomain, type CheckResult } from '../src/dns/check.js';

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

  /** The zone as named-checkzone reads it back (-D: canonical dump), as "name type rdata" lines. */
  function readBack(instance: DnsInstance, text: string) {
    const f = join(tmpDir('zone'), `${instance}.zone`);
    writeFileSync(f, SOA('contoso.com') + text);
    const r = spawnSync('named-checkzone', ['-D', '-o', '-', 'contoso.com', f], {
      encoding: 'utf8',
    });
    const rrs = r.stdout
      .split('\n')
      .map((l) => l.split(/\s+/))
      .filter((w) => w[2] === 'IN' && !['SOA', 'NS', 'A'].includes(w[3]))
      .map(([name, ttl, , type, ...rdata]) => `${name} ${ttl} ${type} ${rdata.join(' ')}`)
      .sort();
    return { status: r.status, out: r.stdout + r.stderr, rrs };
  }
  /** What the records say the zone holds, in named-checkzone's canonical form. */
  const expectedRrs = (records: DnsRecord[]) =>
    records
      .map((x) => {
        const name = `${x.name === '@' ? '' : `${x.name}.`}contoso.com.`;
        const rdata =
          x.type === 'TXT'
            ? `"${x.value}"`
            : x.type === 'MX'
              ? `${x.priority} ${x.value}.`
              : x.type === 'SRV'
                ? `${x.priority} ${x.weight} ${x.port} ${x.value}.`
                : `${x.value}.`;
        return `${name} 3600 ${x.type} ${rdata}`;
      })
      .sort();

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s, in-process: zoneLines read back by named-checkzone hold exactly the records; placeholders refused',
    (instance) => {
      const all = recordsFor(instance, [...SERVICES], tenant);
      const text = zoneLines('contoso.com', instance, all);
      const good = readBack(instance, text);
      expect(good.status, good.out).toBe(0);
      expect(good.rrs).toEqual(expectedRrs(all.records));
      expect(good.rrs.length).toBeGreaterThan(3);
      expect(text.split('\n')[0]).toBe(
        `; ${INSTANCE_TABLES[instance].label}: DNS records for contoso.com`,
      );
      // each note is a comment: what must not exist and what Microsoft does not document
      for (const n of all.notes)
        expect(text).toContain(
          n.kind === 'must-not-exist'
            ? `; no ${n.name} record: ${n.detail}`
            : `; ${n.service}: not known for ${instance}: ${n.detail}`,
        );
      // every record line names its service, purpose and source in its comment
      for (const x of all.records)
        expect(text).toContain(`    ; ${x.service}: ${x.purpose} [${x.source}]`);
      // without tenant values: each placeholder makes the zone unloadable, and says which flag
      const bare = recordsFor(instance, [...SERVICES]);
      const ph = bare.records.filter((x) => x.placeholder);
      expect(ph.length).toBeGreaterThan(0);
      for (const x of ph) {
        const one = zoneLines('contoso.com', instance, { records: [x], notes: [] });
        expect(one).toContain(`; ^ replace the placeholder: pass ${x.placeholder} (`);
        expect(readBack(instance, one).status, one).not.toBe(0);
      }
      // only the services asked for, and their notes
      const mail = recordsFor(instance, ['mail'], tenant);
      expect(mail.records.every((x) => x.service === 'mail')).toBe(true);
      expect(mail.records.length).toBe(all.records.filter((x) => x.service === 'mail').length);
      expect(mail.notes).toEqual(all.notes.filter((n) => n.service === 'mail'));
    },
  );

  /** octoDNS YAML records back to "name ttl type rdata" lines, names made absolute. */
  function fromOcto(zone: Record<string, unknown>): string[] {
    const out: string[] = [];
    for (const [name, v] of Object.entries(zone))
      for (const rec of Array.isArray(v) ? v : [v]) {
        const abs = `${name ? `${name}.` : ''}contoso.com.`;
        const line = (rdata: string) => out.push(`${abs} ${rec.ttl} ${rec.type} ${rdata}`);
        if (rec.type === 'CNAME') line(rec.value);
        else if (rec.type === 'MX')
          for (const x of rec.values) line(`${x.preference} ${x.exchange}`);
        else if (rec.type === 'SRV')
          for (const x of rec.values) line(`${x.priority} ${x.weight} ${x.port} ${x.target}`);
        else for (const x of rec.values) line(`"${String(x).replace(/\\;/g, ';')}"`);
      }
    return out.sort();
  }

  it.each(DNS_INSTANCES)(
    '%s, in-process: octodnsZone holds exactly the records, sorted by name, semicolons escaped',
    (instance) => {
      const all = recordsFor(instance, [...SERVICES], tenant);
      const zone = octodnsZone(all);
      expect(fromOcto(zone)).toEqual(expectedRrs(all.records));
      const names = Object.keys(zone);
      expect(names).toEqual([...names].sort());
      expect(JSON.stringify(zone)).not.toMatch(/[^\\];/);
      // a name with more than one type is a list, one type alone an object
      for (const [name, v] of Object.entries(zone)) {
        const types = new Set(
          all.records.filter((x) => (x.name === '@' ? '' : x.name) === name).map((x) => x.type),
        );
        expect(Array.isArray(v), name).toBe(types.size > 1);
      }
      // a placeholder stays bare: no tool takes it for a name
      const bare = octodnsZone(recordsFor(instance, ['mail']));
      const apex = Array.isArray(bare['']) ? bare[''] : [bare['']];
      expect(apex.find((x) => x.type === 'MX').values[0].exchange).toBe(
        `((REPLACE-ME;--mx-token)).${INSTANCE_TABLES[instance].records.find((x) => x.id === 'mx')!.suffix}`,
      );
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

  /** through the CLI, and in-process (`lib`: the library's checkDomain with the same values) */
  async function check(domain: string, instance: DnsInstance, services = servicesOf(instance)) {
    const lib = await checkDomain(domain, instance, resolver, services, tenant);
    const cli = await runCliAsync([
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
    return { ...cli, lib };
  }
  const both = (r: { json?: any; lib: CheckResult[] }): CheckResult[][] => [r.json.results, r.lib];

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: the right zone, authoritative-only, no upstream: every record ok, exit 0',
    async (i) => {
      const r = await check(`right-${short[i]}.auth`, i);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const { records, notes } = recordsFor(i, servicesOf(i), tenant);
      for (const results of both(r)) {
        const bad = results.filter((x) => x.verdict !== 'ok' && x.verdict !== 'not-known');
        expect(bad).toEqual([]);
        expect(results.filter((x) => x.verdict === 'ok').length).toBe(
          records.length + notes.filter((n) => n.kind === 'must-not-exist').length,
        );
        // each record found as it is: its own value, SRV fields and all
        for (const x of records) {
          const row = results.find((y) => y.record === x.id)!;
          expect(row.service).toBe(x.service);
          expect(row.name).toBe(`${x.name === '@' ? '' : `${x.name}.`}right-${short[i]}.auth`);
          if (x.type === 'SRV') {
            expect(row.expected).toBe(`${x.priority} ${x.weight} ${x.port} ${x.value}`);
            expect(row.found).toEqual([row.expected]);
          } else if (x.type === 'MX' || x.type === 'CNAME' || x.id === 'verification') {
            expect(row.expected).toBe(x.value);
            expect(row.found).toEqual([x.value]);
          }
          if (x.type !== 'CNAME') expect(row.note).toBeUndefined();
        }
        for (const n of notes)
          expect(results.find((y) => y.record === n.id)).toMatchObject(
            n.kind === 'not-known'
              ? { verdict: 'not-known', expected: 'not known', note: n.detail }
              : { verdict: 'ok', expected: 'no record' },
          );
      }
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
      const typos = new Map(withTypos(records).map((x) => [x.id, x]));
      for (const results of both(r)) {
        for (const x of results) {
          if (x.verdict === 'not-known') continue;
          expect(x.verdict, `${x.record}: ${x.note}`).toBe(typoed.has(x.record) ? 'wrong' : 'ok');
          const rec = records.find((y) => y.id === x.record);
          if (!typoed.has(x.record) || !rec) continue;
          // the typo found, named as such where it is a name or a verification value
          const t = typos.get(x.record)!;
          if (rec.type === 'CNAME' || rec.type === 'MX') {
            expect(x.found).toEqual([t.value]);
            expect(x.note).toMatch(
              rec.type === 'CNAME'
                ? `likely typo: ${t.value} is 1 character(s) from ${rec.value}`
                : `likely typo: ${t.value}`,
            );
          }
          if (rec.id === 'verification') expect(x.note).toBe(`likely typo: ${t.value}`);
          if (rec.id === 'spf')
            expect(x.note).toBe(
              `likely typo: include:spff${rec.value.split('include:spf')[1].split(' ')[0]}`,
            );
        }
        const srvRow = results.find(
          (x) => records.find((y) => y.id === x.record)?.type === 'SRV' && x.verdict === 'wrong',
        )!;
        expect(srvRow.note).toMatch(/^port (444|5062) \(expected (443|5061)\)$/);
        const dmarcRow = results.find((x) => x.record === 'dmarc')!;
        expect(dmarcRow.note).toBe('p=maybe is not none, quarantine or reject');
      }
    },
  );

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: a missing service (no Skype for Business records): each of them missing, exit 2',
    async (i) => {
      const r = await check(`nosfb-${short[i]}.auth`, i);
      expect(r.code).toBe(2);
      for (const results of both(r)) {
        for (const x of results)
          expect(x.verdict, x.record).toBe(
            x.service === 'sfb' ? 'missing' : x.verdict === 'not-known' ? 'not-known' : 'ok',
          );
        expect(results.filter((x) => x.service === 'sfb').length).toBe(3);
      }
    },
  );

  it.skipIf(!!why)(
    'a stale msoid on GCC High is unexpected (must be removed), exit 2',
    async () => {
      const r = await check('stale-gcch.auth', 'USGovGCCHigh');
      expect(r.code).toBe(2);
      for (const results of both(r)) {
        const msoid = results.find((x) => x.record === 'msoid')!;
        expect(msoid).toMatchObject({
          verdict: 'unexpected',
          expected: 'no record',
          found: ['clientconfig.microsoftonline-p.net'],
        });
        expect(msoid.note).toMatch(/must be removed/);
        expect(
          results
            .filter((x) => x.verdict !== 'ok' && x.verdict !== 'not-known')
            .map((x) => x.record),
        ).toEqual(['msoid']);
      }
    },
  );
});
