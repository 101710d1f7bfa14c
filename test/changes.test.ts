/**
 * Microsoft's /changes records: parsed tolerantly (unknown fields and impacts, the case of
 * disposition) and strictly (types), kept in the state directory, shown per endpoint set in the
 * plan, and cross-checked against the feed diff (--require-explained-changes).
 *
 * No real /changes response exists in any stored source: every record here is built from the
 * documented format in ../shared/o365-changes.md (Microsoft's microsoft-365-ip-web-service.md).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, runCliAsync } from './helpers/env.js';
import { json, startService, type StandIn, updateArgv } from './helpers/service.js';
import { tmpDir } from './helpers/tmp.js';
import { parseChanges } from '../src/sources/changes.js';
import { crossCheck } from '../src/report/changes.js';
import type { Plan } from '../src/report/plan.js';

const SAMPLE = JSON.parse(readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8')) as any[];
const A = JSON.stringify(SAMPLE);
/** B: set 1 gains a prefix and a URL, set 2 loses 40.96.0.0/13 */
const B = JSON.stringify(
  SAMPLE.map((s) =>
    s.id === 1
      ? { ...s, ips: [...s.ips, '198.51.100.0/24'], urls: [...s.urls, 'added.example.com'] }
      : s.id === 2
        ? { ...s, ips: s.ips.filter((p: string) => p !== '40.96.0.0/13') }
        : s,
  ),
);
/** C: B, and set 11 loses 52.122.0.0/15, which no record mentions */
const C = JSON.stringify(
  (JSON.parse(B) as any[]).map((s) =>
    s.id === 11 ? { ...s, ips: s.ips.filter((p: string) => p !== '52.122.0.0/15') } : s,
  ),
);
/** Records in the documented shape (o365-changes.md): "Change" in the doc's own case, an unknown field. */
const RECORDS = [
  {
    id: 900,
    endpointSetId: 1,
    disposition: 'Change',
    version: '2026113000',
    add: { ips: ['192.0.2.0/24'] },
  },
  {
    id: 1001,
    endpointSetId: 1,
    disposition: 'Change',
    impact: 'AddedIpAndUrl',
    version: '2026120200',
    add: { effectiveDate: '20261231', ips: ['198.51.100.0/24'], urls: ['added.example.com'] },
    changeDescription: 'a field the list of fields does not name',
  },
  {
    id: 1002,
    endpointSetId: 2,
    disposition: 'change',
    impact: 'RemovedIpOrUrl',
    version: '2026120200',
    remove: { ips: ['40.96.0.0/13'] },
  },
  {
    id: 1003,
    endpointSetId: 31,
    disposition: 'add',
    impact: 'SomethingNew',
    version: '2026120200',
  },
];

describe('parsing /changes', () => {
  it('keeps what it reads, tolerates unknown fields, impacts and the case of disposition', () => {
    const r = parseChanges('c.json', JSON.stringify(RECORDS));
    expect(r.map((x) => x.disposition)).toEqual(['change', 'change', 'change', 'add']);
    expect(r[1]).toEqual({
      id: '1001',
      endpointSetId: '1',
      disposition: 'change',
      impact: 'AddedIpAndUrl',
      version: '2026120200',
      add: { effectiveDate: '20261231', ips: ['198.51.100.0/24'], urls: ['added.example.com'] },
    });
    expect(r[3].impact).toBe('SomethingNew');
    expect(parseChanges('c.json', '[]')).toEqual([]);
  });
  it.each([
    [
      { ...RECORDS[1], id: { x: 1 } },
      /change record #1: field id must be a number or a short name/,
    ],
    [
      { ...RECORDS[1], version: '2026-12-02' },
      /change record 1001: field version must be 10 digits/,
    ],
    [{ ...RECORDS[1], disposition: 'add\n## owned' }, /field disposition/],
    [
      { ...RECORDS[1], add: { ips: '198.51.100.0/24' } },
      /field add\.ips must be a list of strings/,
    ],
    [{ ...RECORDS[1], add: { effectiveDate: 'soon' } }, /field add\.effectiveDate must be a date/],
    [{ ...RECORDS[1], remove: [] }, /field remove must be an object/],
    [{ ...RECORDS[1], impact: 7 }, /field impact/],
  ])('strict on types: %j', (rec, msg) => {
    expect(() => parseChanges('c.json', JSON.stringify([rec]))).toThrow(msg);
  });
  it('an answer that is not an array of records is an error naming it', () => {
    expect(() => parseChanges('c.json', '{"id": 1}')).toThrow(/c\.json: expected a JSON array/);
    expect(() => parseChanges('c.json', '[1]')).toThrow(/change record 1 is not an object/);
  });
});

describe('cross-check against a plan', () => {
  const plan = (sets: Plan['sets']) => ({ sets }) as unknown as Plan;
  const records = parseChanges('c.json', JSON.stringify(RECORDS));
  const set = (id: string, added: string[], removed: string[]) => ({
    id,
    change: 'modified' as const,
    serviceArea: 'X',
    category: 'Allow',
    added: {
      ips: added.filter((x) => /^[0-9]/.test(x)),
      urls: added.filter((x) => !/^[0-9]/.test(x)),
    },
    removed: { ips: removed, urls: [] },
  });
  it('explains by set, marks an addition not in effect on the version date, ignores older records', () => {
    const c = crossCheck(
      plan([
        set('1', ['198.51.100.0/24', 'added.example.com'], []),
        set('2', [], ['40.96.0.0/13']),
      ]),
      '2026120100',
      '2026120200',
      records,
    );
    expect(c.unexplained).toEqual([]);
    expect(c.sets.map((s) => [s.id, s.records.map((r) => r.id)])).toEqual([
      ['1', ['1001']],
      ['2', ['1002']],
      ['31', ['1003']],
    ]);
    expect(c.sets[0].records[0]).toMatchObject({
      future: true,
      effectiveDate: '20261231',
      added: 2,
    });
    // on the effective date itself it is in effect
    expect(
      crossCheck(plan([]), '2026120100', '2026123100', records).sets[0].records[0].future,
    ).toBeUndefined();
  });
  it('lists what no record explains: another set, another address, a removal recorded as an addition', () => {
    const c = crossCheck(
      plan([
        set('1', ['198.51.100.0/24', '203.0.113.0/24'], []),
        set('11', [], ['52.122.0.0/15']),
        set('2', ['40.96.0.0/13'], []),
      ]),
      '2026120100',
      '2026120200',
      records,
    );
    expect(c.unexplained).toEqual([
      { setId: '1', change: 'added', entry: '203.0.113.0/24' },
      { setId: '11', change: 'removed', entry: '52.122.0.0/15' },
      { setId: '2', change: 'added', entry: '40.96.0.0/13' },
    ]);
  });
});

describe('update with /changes from a loopback stand-in', () => {
  let svc: StandIn;
  beforeAll(async () => {
    svc = await startService('2026120100', A);
  });
  afterAll(() => svc.close());
  beforeEach(() => {
    svc.override = undefined;
    svc.changes = undefined;
    svc.log.length = 0;
  });
  const update = (state: string, out: string, plan: string, ...more: string[]) =>
    runCliAsync(
      updateArgv(
        svc.base,
        state,
        out,
        '--plan-out',
        plan,
        '--allow-implausible',
        'documentation',
        '--no-progress',
        ...more,
      ),
    );
  const fresh = async () => {
    const dir = tmpDir('changes');
    const [state, out, plan] = ['state', 'out', 'plan'].map((d) => join(dir, d));
    svc.version = '2026120100';
    svc.feed = A;
    expect((await update(state, out, plan)).code).toBe(2);
    expect(svc.log.some((p) => p.startsWith('/changes/'))).toBe(false); // nothing to compare with
    return { state, out, plan };
  };
  const planOf = (dir: string) => ({
    json: JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')),
    md: readFileSync(join(dir, 'plan.md'), 'utf8'),
  });

  it('a new version: the records since the old one, per set, in plan.json and plan.md, kept in the state', async () => {
    const { state, out, plan } = await fresh();
    svc.version = '2026120200';
    svc.feed = B;
    svc.changes = JSON.stringify(RECORDS);
    const r = await update(state, out, plan, '--require-explained-changes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(svc.log).toContain('/changes/Worldwide/2026120100');
    const p = planOf(plan);
    expect(p.json.microsoftChanges.unexplained).toEqual([]);
    expect(p.json.microsoftChanges.sets.map((s: any) => s.id)).toEqual(['1', '2', '31']);
    expect(p.md).toMatch(/### Microsoft's change records \(2026120100 → 2026120200\)/);
    expect(p.md).toMatch(
      /\| 1 \| 1001 \| change \| AddedIpAndUrl \| 2026120200 \| 20261231 \*\*\(not yet in effect\)\*\* \| 2 \| 0 \|/,
    );
    expect(p.md).toMatch(
      /Every added and removed address and URL, and every port and flag change, is explained by a record/,
    );
    const kept = JSON.parse(readFileSync(join(state, 'changes-Worldwide.json'), 'utf8'));
    expect(kept).toMatchObject({
      instance: 'Worldwide',
      since: '2026120100',
      latest: '2026120200',
    });
  });

  it('a change no record explains: listed in the plan; with --require-explained-changes refused, nothing written', async () => {
    const { state, out, plan } = await fresh();
    svc.version = '2026120200';
    svc.feed = C;
    svc.changes = JSON.stringify(RECORDS);
    const before = readFileSync(join(out, 'report.json'), 'utf8');
    const refused = await update(state, out, plan, '--require-explained-changes');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /1 changes are explained by no change record \(first: set 11 removed 52\.122\.0\.0\/15\)/,
    );
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(before);
    expect(planOf(plan).md).toMatch(/^## m365fw plan: refused/);
    expect(planOf(plan).md).toMatch(/- set 11 removed `52\.122\.0\.0\/15`/);
    // without the flag the same run is written, and the plan still says it
    const ok = await update(state, out, plan);
    expect(ok.code).toBe(2);
    expect(planOf(plan).json.microsoftChanges.unexplained).toHaveLength(1);
  });

  it('/changes failing degrades to a plan without records (reported); --require-explained-changes refuses', async () => {
    const { state, out, plan } = await fresh();
    svc.version = '2026120200';
    svc.feed = B;
    svc.override = (req, res, url) => {
      if (url.pathname.startsWith('/changes/')) return json(res, { error: 'busy' }, 500);
      if (url.pathname.startsWith('/version/'))
        return json(res, { instance: 'Worldwide', latest: svc.version });
      return json(res, svc.feed);
    };
    const strict = await update(state, out, plan, '--require-explained-changes', '--timeout', '1');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/change records are not available/);
    const r = await update(state, out, plan, '--timeout', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/change records not available: \/changes\/Worldwide\/2026120100/);
    expect(planOf(plan).md).toMatch(/Not available: .*the diff was not cross-checked/);
  }, 60000);

  it('a hostile answer never reaches the plan as markup: it is refused as a whole and reported escaped', async () => {
    const { state, out, plan } = await fresh();
    svc.version = '2026120200';
    svc.feed = B;
    svc.changes = JSON.stringify([{ ...RECORDS[1], impact: '<img src=x>|## owned' }]);
    const r = await update(state, out, plan);
    expect(r.code).toBe(2);
    const md = planOf(plan).md;
    expect(md).not.toMatch(/(^|[^\\])<img/); // only as escaped text
    expect(md).not.toMatch(/^## owned/m);
    expect(md).toMatch(/Not available: .*field impact/);
    expect(existsSync(join(state, 'changes-Worldwide.json'))).toBe(false);
    expect(readdirSync(out)).toContain('report.json');
  });
});
