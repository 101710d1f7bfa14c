/**
 * The DNS tables against the facts collected from Microsoft's documentation
 * (../shared/dns-records.md): every record of every instance has its row there (name, type, value,
 * priority, weight, port, the sources cited), every row with a value has its record, a row that says
 * "must not exist" is a must-not-exist note and a row that says "not found" is a not-known note.
 * Read row by row from the Markdown, so a value typed wrong in the table fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED, skipNote } from './helpers/env.js';
import {
  DNS_INSTANCES,
  recordsFor,
  SERVICES,
  type DnsInstance,
  type DnsRecord,
} from '../src/dns/records.js';

const DOC = join(SHARED, 'dns-records.md');
const why = existsSync(DOC) ? undefined : `${DOC} not found beside the checkout`;

interface Row {
  type: string;
  names: string[];
  value: string;
  source: string;
}

/** The table rows under each "## " heading, keyed by the instance the heading names. */
function rows(): Record<DnsInstance, Row[]> {
  const text = readFileSync(DOC, 'utf8');
  const out: Partial<Record<DnsInstance, Row[]>> = {};
  let instance: DnsInstance | undefined;
  let header: string[] = [];
  for (const line of text.split('\n')) {
    const h = /^## (.*)$/.exec(line);
    if (h) {
      instance = h[1].startsWith('Worldwide')
        ? 'Worldwide'
        : h[1].includes('(instance China)')
          ? 'China'
          : (h[1] as DnsInstance);
      expect(DNS_INSTANCES).toContain(instance);
      header = [];
      continue;
    }
    if (!instance || !line.startsWith('|') || line.startsWith('|---')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    if (cells[0] === 'record') {
      header = cells;
      continue;
    }
    const cell = (k: string) => cells[header.indexOf(k)] ?? '';
    (out[instance] ??= []).push({
      type: cell('record'),
      names: [...cell('name').matchAll(/`([^`]+)`/g)].map((m) => m[1]),
      value: cell('value'),
      source: cell('source'),
    });
  }
  // "USGovDoD: same as GCC High except" the rows it lists
  const dod = out.USGovDoD ?? [];
  const key = (r: Row) => `${r.type} ${r.names.join(',')}`;
  out.USGovDoD = [
    ...(out.USGovGCCHigh ?? []).filter((g) => !dod.some((d) => key(d) === key(g))),
    ...dod,
  ];
  return out as Record<DnsInstance, Row[]>;
}

const SHORT = /\b(EXT(?: \(2022\))?|ANY|CNAME-CN|EASTNET|GCCH|DOD|INTUNE|DKIM|DMARC)(?![\w-])/g;
const sources = (s: string) => [...s.matchAll(SHORT)].map((m) => m[1]).sort();
const ticks = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** Tenant values, so that every record is whole (the placeholders are dns-model's) */
const T = {
  mxToken: 'contoso-com',
  verification: 'ms12345678',
  dkimSelector1: 'selector1-contoso-com._domainkey.contoso.onmicrosoft.com',
  dkimSelector2: 'selector2-contoso-com._domainkey.contoso.onmicrosoft.com',
  dmarcPolicy: 'reject',
} as const;

/** What the row says the record must be, in the record's own fields. */
function expected(row: Row, r: DnsRecord): Partial<DnsRecord> {
  const v = row.value;
  if (r.type === 'SRV') {
    const m = /^priority (\d+), weight (\d+), port (\d+), target `([^`]+)`$/.exec(v);
    expect(m, `${row.names[0]}: ${v}`).not.toBeNull();
    return { priority: Number(m![1]), weight: Number(m![2]), port: Number(m![3]), value: m![4] };
  }
  if (r.type === 'MX') {
    const m = /^`<[^>]+>\.([^`]+)`, priority (\d+)/.exec(v);
    expect(m, v).not.toBeNull();
    return { suffix: m![1], value: `${T.mxToken}.${m![1]}`, priority: Number(m![2]) };
  }
  const first = ticks(v)[0];
  if (r.id === 'verification') {
    expect(first).toMatch(/^MS=ms#+$/);
    return { value: `MS=${T.verification}`, prefix: 'MS=' };
  }
  if (r.id === 'dmarc') {
    expect(first).toBe('v=DMARC1; p=<reject\\|quarantine\\|none>; …');
    return { value: `v=DMARC1; p=${T.dmarcPolicy}`, prefix: 'v=DMARC1' };
  }
  if (r.service === 'dkim') {
    expect(v).toMatch(/^tenant-specific/);
    return { value: r.id === 'dkim1' ? T.dkimSelector1 : T.dkimSelector2 };
  }
  if (r.id === 'spf') return { value: first, prefix: 'v=spf1' };
  return { value: first };
}

describe('the DNS tables say what Microsoft documents (../shared/dns-records.md)', () => {
  skipNote('DNS tables against dns-records.md', why);
  const table = why ? undefined : rows();

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: every record has its row, value for value, with the sources the row cites',
    (instance) => {
      const { records } = recordsFor(instance, [...SERVICES], T);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        // DMARC's record is the same on every cloud (its page is cloud-independent): Worldwide's row
        const rowsOf = r.id === 'dmarc' ? table!.Worldwide : table![instance];
        // two TXT records at @: each row is known by the text it starts with
        const starts = { verification: 'MS=', spf: 'v=spf1', dmarc: 'v=DMARC1' }[r.id] ?? '';
        const row = rowsOf.find(
          (x) =>
            x.type === r.type &&
            x.names.includes(r.name) &&
            (ticks(x.value)[0] ?? '').startsWith(starts),
        );
        expect(row, `${instance} ${r.type} ${r.name}: no row`).toBeDefined();
        expect(r, `${instance} ${r.id}`).toMatchObject(expected(row!, r));
        // the row's source column names the sources the record cites
        expect(sources(r.source), `${instance} ${r.id}: ${r.source}`).toEqual(sources(row!.source));
      }
    },
  );

  it.skipIf(!!why).each(DNS_INSTANCES)(
    '%s: every row with a value is a record; "must NOT exist" is a note, "not found" a not-known note',
    (instance) => {
      const { records, notes } = recordsFor(instance, [...SERVICES]);
      for (const row of table![instance]) {
        const v = row.value;
        if (/must NOT exist|you must \*\*remove\*\*/.test(v)) {
          for (const n of row.names)
            expect(notes, `${instance} ${n}`).toContainEqual(
              expect.objectContaining({ name: n, kind: 'must-not-exist' }),
            );
          expect(records.some((r) => row.names.includes(r.name) && r.type === row.type)).toBe(
            false,
          );
          continue;
        }
        if (/not found/.test(v)) {
          // a name the row gives, or (DKIM, DMARC without names) the DKIM selectors: not known
          const names = row.names.length ? row.names : ['selector1._domainkey'];
          const matched = notes.filter((n) => n.kind === 'not-known' && names.includes(n.name));
          expect(matched.length, `${instance} ${row.type} ${names.join(',')}`).toBeGreaterThan(0);
          for (const n of names) expect(records.some((r) => r.name === n)).toBe(false);
          continue;
        }
        // as many records of the name and type as rows (TXT @: verification and SPF)
        for (const n of row.names)
          expect(
            records.filter((r) => r.name === n && r.type === row.type).length,
            `${instance} ${row.type} ${n}`,
          ).toBe(table![instance].filter((x) => x.type === row.type && x.names.includes(n)).length);
      }
      // and nothing the rows do not list
      const listed = new Set(table![instance].flatMap((r) => r.names.map((n) => `${r.type} ${n}`)));
      for (const r of records)
        if (r.id !== 'dmarc' || instance === 'Worldwide')
          expect(listed, `${instance} ${r.type} ${r.name}`).toContain(`${r.type} ${r.name}`);
    },
  );
});
