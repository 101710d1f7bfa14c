/**
 * update reads back the service's versions, its state directory and out/: none of them may widen,
 * wedge later updates or skip a check. Against the loopback stand-in of the web service; change
 * records are built from the format in ../shared/o365-changes.md (no real /changes answer is stored).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, runCliAsync } from './helpers/env.js';
import { spawn } from 'node:child_process';
import { json, startService, updateArgv, type StandIn } from './helpers/service.js';
import { tmpDir } from './helpers/tmp.js';
import { compareVersions, versionProblem } from '../src/sources/versions.js';
import { crossCheck } from '../src/report/changes.js';
import { parseChanges } from '../src/sources/changes.js';
import type { Plan } from '../src/report/plan.js';

const FEED = readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8');
const cli = runCliAsync;

/** A version dated `days` after today (UTC), numbered NN. */
const dated = (days: number, nn = '00') =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '') + nn;
const V1 = dated(-10),
  V2 = dated(-5);

let svc: StandIn;
beforeAll(async () => {
  svc = await startService(V1, FEED);
});
afterAll(() => svc.close());
beforeEach(() => {
  svc.override = undefined;
  svc.version = V1;
  svc.feed = FEED;
  svc.changes = undefined;
  svc.log.length = 0;
});

const updateArgs = (state: string, out: string, ...more: string[]) =>
  updateArgv(svc.base, state, out, ...more);
const listing = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((n) => [n, readFileSync(join(dir, n), 'utf8')]);
const stateOf = (state: string) =>
  JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')) as {
    instances: Record<string, { version: string; unchanged?: { at: number } }>;
  };

/** The sample feed with one set's fields changed. */
function feedWith(id: number, change: Record<string, unknown>): string {
  const sets = JSON.parse(FEED) as Record<string, unknown>[];
  return JSON.stringify(sets.map((s) => (s.id === id ? { ...s, ...change } : s)));
}

describe('versions: ten digits YYYYMMDDNN, numbers, never from the future', () => {
  it.each([
    ['3', /is not a version of the service \(ten digits, YYYYMMDDNN\)/],
    ['20261207001', /ten digits/],
    [' 2026120700', /ten digits/],
    ['2026130100', /YYYYMMDD is not a date/],
    ['2026023000', /YYYYMMDD is not a date/],
    ['1999123100', /YYYYMMDD is not a date/],
    [dated(3), /more than 2 days after this machine's clock/],
    ['9999123199', /more than 2 days after this machine's clock/],
  ])('%s is refused', (v, why) => {
    expect(versionProblem(v)).toMatch(why);
  });

  it('today, two days ahead and the past are versions; they compare as numbers', () => {
    for (const v of [dated(0), dated(2, '99'), '2018062700', '2024022900'])
      expect(versionProblem(v), v).toBeUndefined();
    expect(compareVersions('2026120100', '2026113099')).toBe(1);
    expect(compareVersions('2026120100', '2026120100')).toBe(0);
    expect(compareVersions('2026113099', '2026120100')).toBe(-1);
  });

  it.each<[string, (res: import('node:http').ServerResponse) => void, RegExp]>([
    [
      'a far-future latest',
      (res) => json(res, { instance: 'Worldwide', latest: '9999123100' }),
      /"latest" "9999123100" is dated 9999-12-31, more than 2 days after this machine's clock .*; nothing recorded/,
    ],
    [
      'a latest of one digit',
      (res) => json(res, { instance: 'Worldwide', latest: '3' }),
      /"latest" "3" is not a version of the service/,
    ],
    [
      'duplicate latest keys',
      (res) => json(res, `{"instance":"Worldwide","latest":"${V1}","latest":"9999123100"}`),
      /duplicate key "latest"/,
    ],
    [
      'another instance',
      (res) => json(res, { instance: 'China', latest: V1 }),
      /the answer is for another instance \("China"\)/,
    ],
  ])(
    '/version with %s: exit 1, nothing recorded, the next good answer goes through',
    async (_w, answer, why) => {
      const state = tmpDir('state'),
        out = tmpDir('out');
      svc.override = (req, res, url) => {
        if (url.pathname.startsWith('/version/')) return answer(res);
        json(res, FEED);
      };
      const r = await cli(updateArgs(state, out));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(why);
      expect(existsSync(join(out, 'report.json'))).toBe(false);
      expect(stateOf(state).instances.Worldwide).toBeUndefined();
      svc.override = undefined;
      expect((await cli(updateArgs(state, out))).code).toBe(2);
      expect(stateOf(state).instances.Worldwide.version).toBe(V1);
    },
  );

  it.each([
    ['an instance', { instance: 'China' }, /the answer's instance "China" is not Worldwide/],
    ['a version', { version: V2 }, new RegExp(`the answer's version "${V2}" is not ${V1}`)],
  ])(
    'a wrapped /endpoints answer naming another %s: exit 1, nothing written',
    async (_w, meta, why) => {
      const state = tmpDir('state'),
        out = tmpDir('out');
      svc.feed = JSON.stringify({ ...meta, endpoints: JSON.parse(FEED) });
      const r = await cli(updateArgs(state, out));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(why);
      expect(readdirSync(out)).toEqual([]);
    },
  );

  it('a far-future version planted in the state is an error naming it, never "older"', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const s = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    s.instances.Worldwide.version = '9999123100';
    writeFileSync(join(state, 'state.json'), JSON.stringify(s));
    const r = await cli(updateArgs(state, out));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the version recorded in the state directory is not one to compare against: "9999123100" is dated 9999-12-31/,
    );
    expect(r.stderr).not.toMatch(/older than/);
  });
});

describe('the state directory is a cache, not an authority', () => {
  it('a feed planted in the state with a matching record is not compiled: update downloads', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    // a new version is announced; someone planted a widened feed and its record for it
    svc.version = V2;
    const planted = feedWith(1, { tcpPorts: '1-65535' });
    const { createHash } = await import('node:crypto');
    writeFileSync(join(state, 'endpoints-Worldwide.json'), planted);
    const s = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    s.instances.Worldwide = {
      version: V2,
      sha256: createHash('sha256').update(planted).digest('hex'),
      query: '',
    };
    writeFileSync(join(state, 'state.json'), JSON.stringify(s));
    svc.log.length = 0;
    const r = await cli(updateArgs(state, out));
    expect(svc.log).toContain('/endpoints/Worldwide');
    expect(r.code, r.stderr).toBe(0); // the service's feed is the one already compiled
    expect(readFileSync(join(out, 'm365fw.nft'), 'utf8')).not.toMatch(/1-65535/);
  });

  it('a version a guard refuses is never recorded as the state version', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    svc.version = V2;
    svc.feed = JSON.stringify(JSON.parse(FEED).slice(0, 1));
    const r = await cli(updateArgs(state, out, '--max-removal', '10%'));
    expect(r.code).toBe(1);
    expect(stateOf(state).instances.Worldwide.version).toBe(V1);
  });

  it('an "unchanged" marker older than a day, or from the future, is checked again', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    svc.version = V2;
    expect((await cli(updateArgs(state, out))).code).toBe(0);
    svc.log.length = 0;
    expect((await cli(updateArgs(state, out))).code).toBe(0);
    expect(svc.log).toEqual(['/version/Worldwide']); // believed: made just now
    for (const at of [Date.now() - 25 * 3600_000, Date.now() + 3600_000]) {
      const s = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
      s.instances.Worldwide.unchanged.at = at;
      writeFileSync(join(state, 'state.json'), JSON.stringify(s));
      svc.log.length = 0;
      expect((await cli(updateArgs(state, out))).code).toBe(0);
      expect(svc.log).toEqual(['/version/Worldwide', '/endpoints/Worldwide']);
    }
  });

  it('a state of 0.3.0 (a marker without its time) is read, not refused, and the marker not believed', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    svc.version = V2;
    expect((await cli(updateArgs(state, out))).code).toBe(0);
    const s = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    delete s.instances.Worldwide.unchanged.at;
    writeFileSync(join(state, 'state.json'), JSON.stringify(s));
    svc.log.length = 0;
    const r = await cli(updateArgs(state, out));
    expect(r.code, r.stderr).toBe(0);
    expect(svc.log).toEqual(['/version/Worldwide', '/endpoints/Worldwide']);
  });

  it('--force on the same input is "unchanged", exit 0, out/ byte-identical', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const before = listing(out);
    const r = await cli(updateArgs(state, out, '--force'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/unchanged: version \d+ compiles to what .* enforces and reports/);
    expect(listing(out)).toEqual(before);
  });
});

describe('order and hand edits', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s while the download stalls releases both locks and leaves nothing behind',
    async (sig, code) => {
      const state = tmpDir('state'),
        out = tmpDir('out');
      expect((await cli(updateArgs(state, out))).code).toBe(2);
      svc.version = V2;
      let stalled!: () => void;
      const asked = new Promise<void>((r) => (stalled = r));
      svc.override = (req, res, url) => {
        if (url.pathname.startsWith('/version/'))
          return json(res, { instance: 'Worldwide', latest: V2 });
        stalled(); // never answered: the run waits here holding --out's and --state's locks
      };
      const p = spawn(process.execPath, [CLI, ...updateArgs(state, out)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((r) => p.on('close', r));
      await asked;
      expect(existsSync(join(out, '.m365fw.lock'))).toBe(true);
      expect(existsSync(join(state, '.m365fw.lock'))).toBe(true);
      p.kill(sig);
      expect(await closed).toBe(code);
      expect(stderr).toMatch(
        new RegExp(`interrupted \\(${sig}\\); locks released, staging removed`),
      );
      for (const d of [out, state])
        expect(readdirSync(d).filter((n) => n.startsWith('.'))).toEqual([]);
    },
  );

  it('a --plan-out that cannot be written (a file in its way) is exit 1 with out/ untouched', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out'),
      dir = tmpDir('plan');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const before = listing(out);
    const plan = join(dir, 'plan');
    writeFileSync(plan, 'a file, not a directory');
    svc.version = V2;
    svc.feed = feedWith(1, { tcpPorts: '443' });
    const r = await cli(updateArgs(state, out, '--plan-out', plan));
    expect(r.code).toBe(1);
    expect(listing(out)).toEqual(before);
    // the change is not forgotten: the next run with a plan directory writes it
    mkdirSync(join(dir, 'ok'));
    expect((await cli(updateArgs(state, out, '--plan-out', join(dir, 'ok')))).code).toBe(2);
  });

  it('an artifact edited by hand is rewritten, and update says so (not "current")', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const nft = readFileSync(join(out, 'm365fw.nft'), 'utf8');
    writeFileSync(join(out, 'm365fw.nft'), nft.replace(/443/g, '1-65535'));
    const r = await cli(updateArgs(state, out));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /m365fw\.nft differs from the sha256 report\.json records; rewriting it/,
    );
    expect(readFileSync(join(out, 'm365fw.nft'), 'utf8')).toBe(nft);
  });
});

describe('every change that affects enforcement is cross-checked against /changes', () => {
  const record = (over: Record<string, unknown>) => ({
    id: 900,
    endpointSetId: 2,
    disposition: 'change',
    version: V2,
    ...over,
  });
  it.each<[string, Record<string, unknown>, string]>([
    ['TCP ports widened', { tcpPorts: '1-65535' }, 'tcpPorts: 587 → 1-65535'],
    ['UDP ports added', { udpPorts: '3478-3481' }, 'udpPorts:  → 3478-3481'],
    ['Allow turned into Optimize', { category: 'Optimize' }, 'category: Allow → Optimize'],
    ['required flipped', { required: true }, 'required: false → true'],
    ['expressRoute flipped', { expressRoute: false }, 'expressRoute: true → false'],
  ])(
    '%s: unexplained without a record, refused under --require-explained-changes',
    async (_w, change, entry) => {
      const state = tmpDir('state'),
        out = tmpDir('out');
      expect((await cli(updateArgs(state, out))).code).toBe(2);
      svc.version = V2;
      svc.feed = feedWith(2, change);
      svc.changes = JSON.stringify([]);
      const before = listing(out);
      const r = await cli(updateArgs(state, out, '--require-explained-changes'));
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toContain(`set 2 changed ${entry}`);
      expect(listing(out)).toEqual(before);
      // a record whose `current` says exactly this explains it
      svc.changes = JSON.stringify([record({ current: change })]);
      const ok = await cli(updateArgs(state, out, '--require-explained-changes'));
      expect(ok.code, ok.stderr).toBe(2);
    },
  );

  it('kept records that do not explain the diff are asked for again', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    svc.version = V2;
    svc.feed = feedWith(2, { tcpPorts: '443' });
    svc.changes = JSON.stringify([]);
    expect((await cli(updateArgs(state, out, '--require-explained-changes'))).code).toBe(1);
    // Microsoft publishes the record later; the cached empty answer must not stand
    svc.changes = JSON.stringify([record({ current: { tcpPorts: '443' } })]);
    svc.log.length = 0;
    const r = await cli(updateArgs(state, out, '--require-explained-changes'));
    expect(r.code, r.stderr).toBe(2);
    expect(svc.log.filter((l) => l.startsWith('/changes/'))).toHaveLength(1);
  });

  it('--force with new content for the same version, and a report without a version, are still checked', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    svc.feed = feedWith(1, { tcpPorts: '1-65535' });
    const r = await cli(updateArgs(state, out, '--force', '--require-explained-changes'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /set 1 changed tcpPorts: .* → 1-65535\); compared against no change records: the feed changed within version/,
    );
    // a report written by compile names no version
    const out2 = tmpDir('out');
    const c = await cli([
      'compile',
      '--input',
      join(FIXTURES, 'sample-feed.json'),
      '--target',
      'nftables',
      '--out',
      out2,
    ]);
    expect(c.code).toBe(0);
    const r2 = await cli(updateArgs(tmpDir('state'), out2, '--require-explained-changes'));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/names no version of the service/);
  });

  it('the cross-check is linear: 60k records for one set against a large diff', () => {
    const ips = Array.from({ length: 60_000 }, (_, i) => `198.51.${i >> 8}.${i & 255}/32`);
    const records = parseChanges(
      'fixture',
      JSON.stringify(
        ips.map((ip, i) => ({
          id: i,
          endpointSetId: 1,
          disposition: 'add',
          version: '2026120100',
          add: { ips: [ip] },
        })),
      ),
    );
    const plan = {
      sets: [
        {
          id: '1',
          change: 'modified',
          serviceArea: 'Common',
          category: 'Allow',
          added: { ips, urls: [] },
          removed: { ips: [], urls: [] },
        },
      ],
    } as unknown as Plan;
    const c = crossCheck(plan, '2026110100', '2026120100', records);
    expect(c.unexplained).toEqual([]);
    expect(c.sets[0].records).toHaveLength(60_000);
  });
});
