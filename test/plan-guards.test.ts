import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, NO_SHARED, O365_DATA, sharedFeeds } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';
import { runHere } from './helpers/here.js';

const tmp = () => tmpDir('plan');
const snap = (f: string) => join(O365_DATA, f);
const snapshot = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );

function compiled(feed: string, extra: string[] = []): string {
  const out = tmp();
  const r = runHere(['compile', '--input', feed, '--target', 'all', '--out', out, ...extra]);
  expect(r.stderr).toBe('');
  return out;
}
function plan(feed: string, previous: string, extra: string[] = []) {
  const r = runHere([
    'plan',
    '--input',
    feed,
    '--previous',
    previous,
    '--target',
    'all',
    '--json',
    ...extra,
  ]);
  return { ...r, plan: r.code === 0 || r.code === 2 ? JSON.parse(r.stdout) : undefined };
}

describe.skipIf(sharedFeeds().length === 0)('plan on real changes between dated snapshots', () => {
  if (sharedFeeds().length === 0) console.warn(`SKIP plan snapshot tests: ${NO_SHARED}`);

  it('worldwide 07-31 → 08-14: set 193 added, URLs moving from set 184 to 193 change nothing enforced (exit 0, the move on one line)', () => {
    const prev = compiled(snap('worldwide-endpoints-2026-07-31.wrapped.json'));
    const before = snapshot(prev);
    const r = plan(snap('worldwide-endpoints-2026-08-14.wrapped.json'), prev);
    expect(r.code).toBe(0);
    expect(r.plan.changed).toBe(false);
    expect(r.plan.moves.entries).toEqual([
      { entry: '*.static.microsoft', from: ['184'], to: ['193'] },
      { entry: '*.usercontent.microsoft', from: ['184'], to: ['193'] },
    ]);
    expect(r.plan.counts).toMatchObject({
      urlsAdded: 0,
      urlsRemoved: 0,
      prefixesAdded: 0,
      entriesMoved: 2,
    });
    const md = runHere([
      'plan',
      '--input',
      snap('worldwide-endpoints-2026-08-14.wrapped.json'),
      '--previous',
      prev,
      '--target',
      'all',
    ]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('Nothing that any target enforces or reports has changed.');
    expect(md.stdout).toContain(
      '- sets 184 → 193: `*.static.microsoft`, `*.usercontent.microsoft`',
    );
    expect(r.plan.sets.map((s: any) => [s.id, s.change])).toEqual([
      ['184', 'modified'],
      ['193', 'added'],
    ]);
    expect(r.plan.sets[0].removed.urls).toEqual(['*.static.microsoft', '*.usercontent.microsoft']);
    expect(r.plan.urls.filter((u: any) => u.change === 'moved').map((u: any) => u.host)).toContain(
      '*.static.microsoft',
    );
    expect(r.plan.rules).toEqual([]); // no address changed
    expect(snapshot(prev)).toEqual(before); // plan writes nothing to --previous
  });

  it('china 2025-11-14 → 2025-12-01: set 2 prefixes and TCP ports changed, set 27 added', () => {
    const r = plan(
      snap('china-endpoints-2025-12-01.json'),
      compiled(snap('china-endpoints-2025-11-14.json')),
    );
    expect(r.code).toBe(2);
    const s2 = r.plan.sets.find((s: any) => s.id === '2');
    expect(s2.ports.tcp).toEqual(['25,53,80,443', '443']);
    expect(s2.added.ips.length).toBe(8);
    expect(s2.removed.ips.length).toBe(7);
    expect(r.plan.sets.find((s: any) => s.id === '27').change).toBe('added');
    expect(r.plan.counts.prefixesRemoved).toBeGreaterThan(0);
  });

  it('usgovdod 06-11 → 06-30: one prefix added to set 11, shown per rule and in Markdown', () => {
    const prev = compiled(snap('usgovdod-endpoints-2026-06-11.wrapped.json'));
    const r = plan(snap('usgovdod-endpoints-2026-06-30.wrapped.json'), prev);
    expect(r.code).toBe(2);
    expect(r.plan.sets.find((s: any) => s.id === '11').added.ips).toEqual(['20.35.4.0/22']);
    expect(r.plan.rules.some((x: any) => x.addedPrefixes.includes('20.35.4.0/22'))).toBe(true);
    const md = runHere([
      'plan',
      '--input',
      snap('usgovdod-endpoints-2026-06-30.wrapped.json'),
      '--previous',
      prev,
      '--target',
      'all',
    ]);
    expect(md.code).toBe(2);
    expect(md.stdout).toMatch(/^## m365fw plan: changes/);
    expect(md.stdout).toMatch(/\| 11 \(Common, Allow\) \| ~ \| `20\.35\.4\.0\/22` \|/);
  });

  it('the same content under another hash (bare array instead of wrapped) is no change: exit 0', () => {
    const wrapped = snap('worldwide-endpoints-2026-08-14.wrapped.json');
    const prev = compiled(wrapped);
    const bare = join(tmp(), 'bare.json');
    writeFileSync(bare, JSON.stringify(JSON.parse(readFileSync(wrapped, 'utf8')).endpoints));
    const r = plan(bare, prev, ['--instance', 'Worldwide']);
    expect(r.code).toBe(0);
    expect(r.plan.changed).toBe(false);
    expect(r.plan.previous.input.sha256).not.toBe(r.plan.next.input.sha256);
  });

  it('--plan-out writes plan.json and plan.md', () => {
    const dir = tmp();
    const r = runHere([
      'plan',
      '--input',
      snap('china-endpoints-2026-07-31.wrapped.json'),
      '--previous',
      compiled(snap('china-endpoints-2026-06-11.wrapped.json')),
      '--plan-out',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['plan.json', 'plan.md']);
    expect(
      JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')).sets.map((s: any) => s.id),
    ).toEqual(['19', '28']);
  });
});

describe('guards: refuse to write, previous output untouched', () => {
  const SAMPLE = join(FIXTURES, 'sample-feed.json');

  it('an empty result is refused unless --allow-empty', () => {
    const out = tmp();
    const empty = ['--service-areas', 'Exchange', '--no-ipv4', '--no-ipv6'];
    const r = runHere(['compile', '--input', SAMPLE, '--out', out, ...empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: refusing to write: target nftables would enforce nothing \(of 0 IP rules and [0-9]+ URL entries, it enforces none\); pass --allow-empty/,
    );
    expect(readdirSync(out)).toEqual([]);
    expect(
      runHere(['compile', '--input', SAMPLE, '--out', out, ...empty, '--allow-empty']).code,
    ).toBe(0);
  });

  it.skipIf(sharedFeeds().length === 0)(
    '--max-removal refuses a change that removes more previous prefixes than allowed',
    () => {
      const out = compiled(snap('china-endpoints-2025-11-14.json'));
      const before = snapshot(out);
      const next = snap('china-endpoints-2025-12-01.json');
      const r = runHere([
        'compile',
        '--input',
        next,
        '--target',
        'all',
        '--out',
        out,
        '--max-removal',
        '1',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^error: refusing to write: azure-nsg: [0-9]+ of [0-9]+ previous prefixes and URL entries \([0-9.]+%\); .*would disappear, more than --max-removal 1/,
      );
      expect(snapshot(out)).toEqual(before);
      expect(runHere(['plan', '--input', next, '--previous', out, '--max-removal', '1']).code).toBe(
        1,
      );
      expect(
        runHere([
          'compile',
          '--input',
          next,
          '--target',
          'all',
          '--out',
          out,
          '--max-removal',
          '50%',
        ]).code,
      ).toBe(0);
    },
  );

  it.skipIf(sharedFeeds().length === 0)(
    'a re-aggregation is not a removal (china 12-01 → 06-11 re-aggregates /48s into /44s)',
    () => {
      const ipOnly = ['--target', 'nftables,iptables,azure-nsg'];
      const out = tmp();
      expect(
        runHere([
          'compile',
          '--input',
          snap('china-endpoints-2025-12-01.json'),
          ...ipOnly,
          '--out',
          out,
          '--no-ipv4',
        ]).code,
      ).toBe(0);
      const r = runHere([
        'compile',
        '--input',
        snap('china-endpoints-2026-06-11.wrapped.json'),
        ...ipOnly,
        '--out',
        out,
        '--no-ipv4',
        '--max-removal',
        '0',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    },
  );

  it('implausible feed entries are refused by class, and each class can be let through explicitly', () => {
    const feed = join(FIXTURES, 'doc-ranges-feed.json');
    const r = runHere(['compile', '--input', feed, '--out', tmp()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /refusing implausible feed entries: set 1 198\.51\.100\.0\/25 \(documentation\).*--allow-implausible documentation/,
    );
    expect(
      runHere(['compile', '--input', feed, '--out', tmp(), '--allow-implausible', 'private']).code,
    ).toBe(1);
    expect(
      runHere(['compile', '--input', feed, '--out', tmp(), '--allow-implausible', 'documentation'])
        .code,
    ).toBe(0);
    const edge = runHere(['compile', '--input', join(FIXTURES, 'edge-feed.json'), '--out', tmp()]);
    expect(edge.stderr).toMatch(
      /0\.0\.0\.0\/0 \(documentation, link-local, loopback, multicast, private, reserved, short\)/,
    );
  });

  it.each([join(FIXTURES, 'sample-feed.json'), ...sharedFeeds()])(
    '%s passes every guard with the defaults, for every target',
    (feed) => {
      const r = runHere(['compile', '--input', feed, '--target', 'all', '--out', tmp()]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    },
  );
});
