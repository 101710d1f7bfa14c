/**
 * crossCheck in-process, at its edges: the version range (a record at `since` is old, one at
 * `version` is in), entries compared canonically (an IPv6 prefix in another spelling, a URL in
 * upper case or with a trailing dot), sets in numeric order and then by name, records by version
 * then id, the counts, and "not yet in effect" on the day before and the day itself.
 * (Records are built from the documented format in ../shared/o365-changes.md: no real /changes
 * response exists in any stored source.)
 */
import { describe, expect, it } from 'vitest';
import { crossCheck } from '../src/report/changes.js';
import type { Plan, SetChange } from '../src/report/plan.js';
import type { ChangeRecord } from '../src/sources/changes.js';

const set = (id: string, added: string[], removed: string[] = []): SetChange => ({
  id,
  change: 'modified',
  serviceArea: 'Exchange',
  category: 'Allow',
  added: {
    ips: added.filter((x) => x.includes('/')),
    urls: added.filter((x) => !x.includes('/')),
  },
  removed: {
    ips: removed.filter((x) => x.includes('/')),
    urls: removed.filter((x) => !x.includes('/')),
  },
});
const plan = (sets: SetChange[]): Plan => ({ sets }) as unknown as Plan;
const rec = (
  id: string,
  endpointSetId: string,
  version: string,
  o: Partial<ChangeRecord> = {},
): ChangeRecord => ({ id, endpointSetId, disposition: 'add', version, ...o });

describe('crossCheck', () => {
  it('takes the records after `since` up to and including `version`', () => {
    const records = [
      rec('1', '5', '2026010100'),
      rec('2', '5', '2026010101'),
      rec('3', '5', '2026020100'),
      rec('4', '5', '2026020101'),
    ];
    const c = crossCheck(plan([]), '2026010100', '2026020100', records);
    expect(c.sets).toEqual([
      {
        id: '5',
        records: [
          { id: '2', disposition: 'add', version: '2026010101', added: 0, removed: 0 },
          { id: '3', disposition: 'add', version: '2026020100', added: 0, removed: 0 },
        ],
      },
    ]);
    expect(c).toMatchObject({ since: '2026010100', version: '2026020100', unexplained: [] });
    expect('unavailable' in c).toBe(false);
  });

  it('compares entries canonically: IPv6 spelling, host case and a trailing dot', () => {
    const records = [
      rec('1', '7', '2026010200', {
        add: { ips: ['2001:DB8:0:0::/48', '198.51.100.0/24'], urls: ['Added.Example.COM.'] },
        remove: { ips: ['2001:db8:ffff::/48'], urls: ['old.example.com'] },
      }),
    ];
    const c = crossCheck(
      plan([
        set(
          '7',
          ['2001:db8::/48', '198.51.100.0/24', 'added.example.com'],
          ['2001:db8:ffff:0::/48', 'OLD.example.com'],
        ),
      ]),
      '2026010100',
      '2026020100',
      records,
    );
    expect(c.unexplained).toEqual([]);
    expect(c.sets[0].records[0]).toMatchObject({ added: 3, removed: 2 });
    // what a record does not name is unexplained, in both directions, with the entry as the diff has it
    const d = crossCheck(
      plan([
        set('7', ['203.0.113.0/24', 'other.example.com'], ['192.0.2.0/24', 'Gone.example.com']),
      ]),
      '2026010100',
      '2026020100',
      records,
    );
    expect(d.unexplained).toEqual([
      { setId: '7', change: 'added', entry: '203.0.113.0/24' },
      { setId: '7', change: 'added', entry: 'other.example.com' },
      { setId: '7', change: 'removed', entry: '192.0.2.0/24' },
      { setId: '7', change: 'removed', entry: 'Gone.example.com' },
    ]);
    // a removal recorded as an addition does not explain it
    const e = crossCheck(
      plan([set('7', [], ['198.51.100.0/24'])]),
      '2026010100',
      '2026020100',
      records,
    );
    expect(e.unexplained).toEqual([{ setId: '7', change: 'removed', entry: '198.51.100.0/24' }]);
    // a record of another set explains nothing here
    const f = crossCheck(
      plan([set('8', ['198.51.100.0/24'])]),
      '2026010100',
      '2026020100',
      records,
    );
    expect(f.unexplained).toEqual([{ setId: '8', change: 'added', entry: '198.51.100.0/24' }]);
  });

  it('without records nothing is cross-checked, and the reason is kept', () => {
    const c = crossCheck(plan([set('1', ['198.51.100.0/24'])]), 'a', 'b', undefined, 'HTTP 503');
    expect(c).toEqual({
      since: 'a',
      version: 'b',
      unavailable: 'HTTP 503',
      sets: [],
      unexplained: [],
    });
    // an empty answer is records: everything is unexplained
    expect(
      crossCheck(plan([set('1', ['198.51.100.0/24'])]), 'a', 'b', []).unexplained,
    ).toHaveLength(1);
  });

  it('sets in numeric order (9 before 10), names after in text order; records by version, then id', () => {
    const records = [
      rec('b', '10', '2026010300'),
      rec('a', '10', '2026010300'),
      rec('c', '10', '2026010200'),
      rec('d', '9', '2026010200'),
      rec('e', 'x2', '2026010200'),
      rec('f', '100', '2026010200'),
      rec('g', 'x10', '2026010200'),
    ];
    const c = crossCheck(plan([]), '2026010100', '2026020100', records);
    expect(c.sets.map((s) => s.id)).toEqual(['9', '10', '100', 'x10', 'x2']);
    expect(c.sets[1].records.map((r) => r.id)).toEqual(['c', 'a', 'b']);
    const rev = crossCheck(plan([]), '2026010100', '2026020100', [...records].reverse());
    expect(rev.sets).toEqual(c.sets);
  });

  it('an addition not in effect on the version`s day is marked; on the day itself it is in effect', () => {
    const r = (effectiveDate: string) =>
      rec('1', '1', '2026020100', {
        impact: 'AddedIp',
        add: { effectiveDate, ips: ['198.51.100.0/24'], urls: [] },
      });
    const one = (d: string) =>
      crossCheck(plan([]), '2026010100', '2026020100', [r(d)]).sets[0].records[0];
    expect(one('20260202')).toEqual({
      id: '1',
      disposition: 'add',
      impact: 'AddedIp',
      version: '2026020100',
      effectiveDate: '20260202',
      future: true,
      added: 1,
      removed: 0,
    });
    expect(one('20260201').future).toBeUndefined();
    expect(one('20260201').effectiveDate).toBe('20260201');
    expect(one('20260131').future).toBeUndefined();
  });
});
