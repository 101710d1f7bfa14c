/** Plan: each kind of change alone is reported and exits 2. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';
import { runHere } from './helpers/here.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
type Rec = { id: number; urls?: string[]; ips?: string[] };
const SETS = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Rec[];
const file = (name: string, text: string) => {
  const p = join(tmpDir('pk'), name);
  writeFileSync(p, text);
  return p;
};
const plan = (args: string[]) => {
  const r = runHere(['plan', ...args, '--json']);
  return {
    code: r.code,
    stderr: r.stderr,
    plan: r.code === 2 || r.code === 0 ? JSON.parse(r.stdout) : undefined,
  };
};

describe('plan: each kind of change alone', () => {
  it('a changed prefix list (its sets list no prefixes): the rule change is reported, exit 2', () => {
    const prev = tmpDir('pk-prev');
    const a = file('list.txt', '20.190.128.0/18\n40.126.0.0/18\n');
    expect(
      runHere([
        'compile',
        '--input',
        a,
        '--input-format',
        'prefixes',
        '--tcp-ports',
        '443',
        '--out',
        prev,
      ]).code,
    ).toBe(0);
    const b = file('list.txt', '20.190.128.0/18\n40.126.0.0/19\n');
    const r = plan([
      '--input',
      b,
      '--input-format',
      'prefixes',
      '--tcp-ports',
      '443',
      '--previous',
      prev,
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.plan.sets).toEqual([]);
    expect(r.plan.rules).toEqual([
      {
        key: 'v4_tcp_443',
        change: 'modified',
        protocol: 'tcp',
        ports: '443',
        // by address space: the /18 narrowed to its lower /19 removes the upper half only
        addedPrefixes: [],
        removedPrefixes: ['40.126.32.0/19'],
      },
    ]);
    expect(r.plan.counts).toMatchObject({ prefixesAdded: 0, prefixesRemoved: 1 });
  });

  it("a rule change with no endpoint-set change (the previous report's rule differs): exit 2", () => {
    const prev = tmpDir('pk-prev');
    expect(runHere(['compile', '--input', SAMPLE, '--out', prev]).code).toBe(0);
    const rep = JSON.parse(readFileSync(join(prev, 'report.json'), 'utf8'));
    const rule = rep.rules.find((x: { key: string }) => x.key === 'v4_tcp_80_443');
    const dropped = rule.prefixes.pop();
    writeFileSync(join(prev, 'report.json'), JSON.stringify(rep, null, 2) + '\n');
    const r = plan(['--input', SAMPLE, '--previous', prev]);
    expect(r.code).toBe(2);
    expect(r.plan.sets).toEqual([]);
    expect(r.plan.rules).toEqual([
      expect.objectContaining({
        key: 'v4_tcp_80_443',
        change: 'modified',
        addedPrefixes: [dropped],
        removedPrefixes: [],
      }),
    ]);
  });

  it('a URL moved between sets of other categories (46 Default → 56 Allow: a PAC routes by it): moved, exit 2', () => {
    const prev = tmpDir('pk-prev');
    expect(
      runHere(['compile', '--input', SAMPLE, '--target', 'paloalto', '--out', prev]).code,
    ).toBe(0);
    const host = SETS.find((s) => s.id === 46)!.urls![0];
    // set 46's first URL goes to set 56: both TCP 80,443, so the same URL rule
    const moved = SETS.map((s) =>
      s.id === 46
        ? { ...s, urls: s.urls!.slice(1) }
        : s.id === 56
          ? { ...s, urls: [...(s.urls ?? []), host] }
          : s,
    );
    const r = plan([
      '--input',
      file('sample-feed.json', JSON.stringify(moved)),
      '--target',
      'paloalto',
      '--previous',
      prev,
    ]);
    expect(r.code).toBe(2);
    expect(r.plan.urls).toEqual([
      expect.objectContaining({ host, change: 'moved', setIds: ['56'], previousSetIds: ['46'] }),
    ]);
    expect(r.plan.rules).toEqual([]);
  });

  it('every set renumbered: exit 0, one line says which id became which', () => {
    const prev = tmpDir('pk-prev');
    const all = ['--target', 'all', '--pac-proxy', 'PROXY p.example:8080'];
    expect(runHere(['compile', '--input', SAMPLE, ...all, '--out', prev]).code).toBe(0);
    const next = SETS.map((s) => ({ ...s, id: s.id + 1000 }));
    const input = file('sample-feed.json', JSON.stringify(next));
    const r = plan(['--input', input, ...all, '--previous', prev]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.plan.changed).toBe(false);
    expect(r.plan.counts).toMatchObject({
      setsAdded: 0,
      setsRemoved: 0,
      setsRenumbered: SETS.length,
    });
    const md = runHere(['plan', '--input', input, ...all, '--previous', prev]);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('Nothing that any target enforces or reports has changed.');
    expect(md.stdout).toMatch(/\n- sets renumbered: 1 → 1001, 2 → 1002, 8 → 1008, /);
    expect(md.stdout.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(1);
  });

  it('a URL moved between two sets alike (attributes and ports): exit 0, the move on one line', () => {
    const prev = tmpDir('pk-prev');
    const all = ['--target', 'all', '--pac-proxy', 'PROXY p.example:8080'];
    // set 47: set 46's attributes and ports, another URL; then 46's first URL moves to it
    const s46 = SETS.find((s) => s.id === 46)!;
    const base = [...SETS, { ...s46, id: 47, urls: ['moved-to.example.com'] }];
    const host = s46.urls![0];
    const first = file('sample-feed.json', JSON.stringify(base));
    expect(runHere(['compile', '--input', first, ...all, '--out', prev]).code).toBe(0);
    const next = base.map((s) =>
      s.id === 46
        ? { ...s, urls: s.urls!.slice(1) }
        : s.id === 47
          ? { ...s, urls: [...s.urls!, host] }
          : s,
    );
    const input = file('sample-feed.json', JSON.stringify(next));
    const r = plan(['--input', input, ...all, '--previous', prev]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.plan.moves.entries).toEqual([{ entry: host, from: ['46'], to: ['47'] }]);
    expect(r.plan.counts).toMatchObject({ urlsAdded: 0, urlsRemoved: 0, entriesMoved: 1 });
    const md = runHere(['plan', '--input', input, ...all, '--previous', prev]).stdout;
    expect(md).toContain(`\n- sets 46 → 47: \`${host}\`\n`);
    expect(md).not.toContain('### Endpoint sets');
  });

  it('--previous alone: the options its report.json recorded, said on stderr; options given win', () => {
    const prev = tmpDir('pk-prev');
    const opts = [
      '--target',
      'nftables,pac',
      '--pac-proxy',
      'PROXY p.example:8080',
      '--nft-table',
      'corp',
      '--no-ipv6',
    ];
    expect(runHere(['compile', '--input', SAMPLE, ...opts, '--out', prev]).code).toBe(0);
    const r = plan(['--input', SAMPLE, '--previous', prev]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `plan: options recorded in ${join(prev, 'report.json')}: --target nftables,pac --no-ipv6 --nft-table corp --pac-proxy 'PROXY p.example:8080' (options given here win)\n`,
    );
    // an option given here is compared, not replaced: another table is a change of the nftables output
    const t = plan(['--input', SAMPLE, '--previous', prev, '--nft-table', 'other']);
    expect(t.code).toBe(2);
    expect(t.stderr).not.toContain('--nft-table corp');
    expect(t.plan.targets.nftables.contentChanged).toBe(true);
    // a target left out on purpose
    const n = plan(['--input', SAMPLE, '--previous', prev, '--target', 'nftables']);
    expect(n.code).toBe(2);
    expect(n.plan.targets.pac.removed).toBe(true);
  });

  it('--previous alone never takes an override from report.json: --allow-implausible is said, not used', () => {
    const prev = tmpDir('pk-prev');
    // documentation addresses are implausible in a feed: this run was allowed them
    const doc = file('doc.json', JSON.stringify([{ ...SETS[0], ips: ['192.0.2.0/24'] }]));
    expect(
      runHere(['compile', '--input', doc, '--allow-implausible', 'documentation', '--out', prev])
        .code,
    ).toBe(0);
    // and a report edited to carry an ingress section that is not a list
    const rep = JSON.parse(readFileSync(join(prev, 'report.json'), 'utf8'));
    rep.options.ingress = { local: '0.0.0.0/0', presets: 'eop-inbound-smtp' };
    writeFileSync(join(prev, 'report.json'), JSON.stringify(rep, null, 2) + '\n');
    const r = plan(['--input', doc, '--previous', prev]);
    // the guard stands: refused, and the plan says why
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'plan: the previous run was given --allow-implausible; this plan is not',
    );
    expect(r.stderr).toMatch(/implausible/);
    expect(r.stderr).not.toMatch(/--local|--preset/);
    // given here, the plan compiles; the edited options are a difference, and no ingress rule
    // comes from them (they were not lists)
    const g = plan(['--input', doc, '--previous', prev, '--allow-implausible', 'documentation']);
    expect(g.code, g.stderr).toBe(2);
    expect(g.plan.rules).toEqual([]);
    expect(g.plan.next.input).toMatchObject({ file: 'doc.json' });
  });

  it('no change at all: exit 0', () => {
    const prev = tmpDir('pk-prev');
    expect(runHere(['compile', '--input', SAMPLE, '--out', prev]).code).toBe(0);
    expect(plan(['--input', SAMPLE, '--previous', prev]).code).toBe(0);
  });
});
