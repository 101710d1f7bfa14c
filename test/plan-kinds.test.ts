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
        addedPrefixes: ['40.126.0.0/19'],
        removedPrefixes: ['40.126.0.0/18'],
      },
    ]);
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

  it('a URL moved between sets (same rule, same names): reported as moved, exit 2', () => {
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

  it('no change at all: exit 0', () => {
    const prev = tmpDir('pk-prev');
    expect(runHere(['compile', '--input', SAMPLE, '--out', prev]).code).toBe(0);
    expect(plan(['--input', SAMPLE, '--previous', prev]).code).toBe(0);
  });
});
