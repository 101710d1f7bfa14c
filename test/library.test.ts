/**
 * The library: the example of docs/library.md run as it stands (with Node's permission model forbidding
 * every file write), the public API on values in memory, and each compile pass on its own.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';
import {
  compile,
  defineTarget,
  option,
  parseReport,
  plan,
  PrefixSet,
  readFeed,
  readPolicy,
  render,
  writeArtifacts,
  type Target,
} from '../src/index.js';
import { PASSES, runPasses, initialState } from '../src/compile/index.js';
import { renderTarget, unenforcedPass, fitPass } from '../src/run/render.js';
import { withProvenance } from '../src/io/provenance.js';

const LIB = pathToFileURL(join(ROOT, 'dist/lib/index.js')).href;
const sample = () => readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8');

describe('docs/library.md "Use as a library"', () => {
  it('runs as written: a feed object in, nftables text out, no file touched', () => {
    const readme = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use as a library'));
    const code = /```js\n([\s\S]*?)```/.exec(section)![1];
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ ([^\s:]+)/g)].map((m) => m[1]);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    const dir = tmpDir('lib-example');
    const r = spawnSync(
      process.execPath,
      [
        '--permission',
        `--allow-fs-read=*`,
        '--input-type=module',
        '-e',
        code.replace("'m365fw'", `'${LIB}'`),
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = r.stdout.trim().split('\n');
    expect(got.map((l, i) => (expected[i] === '##' ? l.split(' ')[0] : l))).toEqual(expected);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the permission model really forbids writes here (the proof above is not hollow)', () => {
    const r = spawnSync(
      process.execPath,
      ['--permission', '--allow-fs-read=*', '-e', `require('fs').writeFileSync('x', 'y')`],
      { cwd: tmpDir('lib-perm'), encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_ACCESS_DENIED/);
  });
});

describe('the public API on values in memory', () => {
  it('readFeed takes text, bytes or a parsed value and gives the same sets and hash', () => {
    const text = sample();
    const a = readFeed(text, { name: 's.json' });
    const b = readFeed(Buffer.from(text), { name: 's.json' });
    expect(b.input.sha256).toBe(a.input.sha256);
    const c = readFeed(JSON.parse(text) as unknown);
    expect(c.sets.map((s) => s.id)).toEqual(a.sets.map((s) => s.id));
    expect(() =>
      readFeed([{ id: 1, serviceArea: 'X', category: 'Bogus' }], { name: 'bad.json' }),
    ).toThrow(/bad\.json.*category/);
  });

  it('compile, render, plan, writeArtifacts and parseReport round-trip; a refused run writes nothing', () => {
    const model = compile(readFeed(sample(), { name: 's.json' }));
    const run = render(model, { targets: ['nftables', 'azure-nsg'] });
    expect(run.artifacts.map((a) => a.path)).toEqual([
      'm365fw.nft',
      'azure-nsg.json',
      'report.json',
    ]);
    const dir = tmpDir('lib-write');
    writeArtifacts(dir, run);
    const prev = parseReport(readFileSync(join(dir, 'report.json'), 'utf8'));
    const again = render(model, { targets: ['nftables', 'azure-nsg'], previous: prev });
    expect(plan(prev, again).changed).toBe(false);
    // everything gone is refused by --max-removal, and writeArtifacts refuses it too
    const empty = compile(readFeed(sample(), { name: 's.json' }), { noIpv4: true, noIpv6: true });
    const refused = render(empty, {
      targets: ['nftables'],
      previous: prev,
      allowEmpty: true,
      maxRemoval: '10%',
    });
    expect(refused.refusal).toBeDefined();
    const before = readFileSync(join(dir, 'report.json'), 'utf8');
    expect(() => writeArtifacts(dir, refused)).toThrow(/refus|remov/i);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['azure-nsg.json', 'm365fw.nft', 'report.json']);
    expect(parseReport(readFileSync(join(dir, 'report.json'), 'utf8')).summary.rules).toBe(8);
  });

  it('readPolicy reads YAML in memory and compile applies it', () => {
    const policy = readPolicy('exclude:\n  - prefix: 13.107.6.152/31\n    reason: lab\n', {
      name: 'p.yaml',
    });
    const model = compile(readFeed(sample(), { name: 's.json' }), { policy });
    expect(model.input.policy?.file).toBe('p.yaml');
    expect(model.rules.flatMap((r) => [...r.prefixes])).not.toContain('13.107.6.152/31');
    expect(model.findings.some((f) => f.kind === 'excluded')).toBe(true);
  });

  it('options use the flag key and are validated like on the CLI', () => {
    const model = compile(readFeed(sample(), { name: 's.json' }));
    const nft = render(model, { targets: ['nftables'], options: { nftTable: 'fw42' } });
    expect(nft.artifacts[0].content).toMatch(/^table inet fw42$/m);
    expect(() => render(model, { targets: ['nftables'], options: { nftTable: 'filter' } })).toThrow(
      /--nft-table "filter": an nft keyword/,
    );
    expect(() =>
      render(model, { targets: ['azure-nsg'], options: { nsgPriorityStart: '1e3' } }),
    ).toThrow(/--nsg-priority-start "1e3": a whole number from 100 to 4096/);
  });
});

describe('compile passes, one at a time', () => {
  const feed = () => readFeed(sample(), { name: 's.json' });
  const state = (o = {}) => initialState(feed(), o);
  it('are validate, policy, plausibility, filter, bucket, merge, in that order', () => {
    expect(PASSES.map((p) => p.name)).toEqual([
      'validate',
      'policy',
      'plausibility',
      'filter',
      'bucket',
      'merge',
    ]);
  });
  it.each([
    ['a duplicate id', (s: any) => ({ ...s, sets: [s.sets[0], s.sets[0]] }), /duplicate/],
    [
      'a bad category',
      (s: any) => ({ ...s, sets: [{ ...s.sets[0], category: 'Nope' }] }),
      /category/,
    ],
    [
      'prefixes that are not a PrefixSet',
      (s: any) => ({
        ...s,
        sets: [{ ...s.sets[0], prefixes: { v4: ['192.0.2.0/24'], v6: PrefixSet.empty(6) } }],
      }),
      /prefixes\.v4/,
    ],
    [
      'a port out of range',
      (s: any) => ({ ...s, sets: [{ ...s.sets[0], tcpPorts: [{ from: 0, to: 80 }] }] }),
      /ports/,
    ],
  ])('validate refuses %s (sets a library caller builds)', (_n, change, msg) => {
    const validate = PASSES.find((p) => p.name === 'validate')!;
    expect(() => validate.run(change(state()))).toThrow(msg);
    expect(() => validate.run(state())).not.toThrow();
  });
  it.each([
    [{}, 10],
    [{ serviceAreas: ['Exchange'] }, 3],
    [{ categories: ['Optimize'] }, 3],
    [{ requiredOnly: true }, 6],
  ])('filter %j keeps %i sets, in id order', (o, n) => {
    const filter = PASSES.find((p) => p.name === 'filter')!;
    const out = filter.run(state(o));
    expect(out.sets.length).toBe(n);
    expect(out.setsIn).toBe(10);
    const ids = out.sets.map((s) => Number(s.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
  it('bucket groups by (family, port bucket); merge makes one rule per bucket, covers merged', () => {
    const s = ['validate', 'policy', 'plausibility', 'filter', 'bucket']
      .map((n) => PASSES.find((p) => p.name === n)!)
      .reduce((st, p) => p.run(st), state());
    const keys = [...s.buckets!.ip.keys()].sort();
    expect(keys).toContain('v4_tcp_80_443');
    const merged = PASSES.find((p) => p.name === 'merge')!.run(s);
    expect(merged.rules!.map((r) => r.key).sort()).toEqual(keys);
    for (const r of merged.rules!) {
      expect(r.bucket).toBe(s.buckets!.ip.get(r.key)!.bucket); // identity by value, kept
      expect(r.prefixes.count).toBeLessThanOrEqual(
        s.buckets!.ip.get(r.key)!.lists.reduce((n, l) => n + l.count, 0),
      );
    }
    expect(runPasses(state()).rules.map((r) => r.key)).toEqual(merged.rules!.map((r) => r.key));
  });
});

describe('target passes (src/render.ts): the same for every target', () => {
  const model = () => compile(readFeed(sample(), { name: 's.json' }));
  const mk = (render: any, extra: Partial<Parameters<typeof defineTarget>[0]> = {}): Target =>
    defineTarget({
      name: 'probe',
      summary: 'test target',
      capabilities: { fqdn: false, wildcard: false, mixedFamilies: true, portRanges: true },
      limits: {},
      options: { level: option.integer('--probe-level <n>', 'a level', 3, 1, 5) },
      render,
      ...extra,
    } as any);
  const run = (t: Target, options = {}) =>
    renderTarget(t, model(), { options, provenance: ['p1', 'p2 --> x'] });

  it('options arrive typed and validated (default, given, refused at and past the bounds)', () => {
    let seen: unknown;
    const t = mk((_m: any, o: any) => ((seen = o.level), { files: [] }));
    run(t);
    expect(seen).toBe(3);
    run(t, { probeLevel: '5' });
    expect(seen).toBe(5);
    expect(() => run(t, { probeLevel: '6' })).toThrow(
      /probe: --probe-level "6": a whole number from 1 to 5/,
    );
    expect(() => run(t, { probeLevel: '0' })).toThrow(/from 1 to 5/);
  });

  it('the writer adds the provenance in each comment style, and hashes the body alone', () => {
    const body = (comment: any, b = '{"a":1,"meta":{"p":null}}\n') => ({
      path: 'f',
      body: b,
      comment,
    });
    const hash = withProvenance(body({ line: '#' }, 'x\n'), ['l1', 'l2']);
    expect(hash.content).toBe('# l1\n# l2\nx\n');
    expect(withProvenance(body({ line: '#' }, '#!/bin/sh\nx\n'), ['l1']).content).toBe(
      '#!/bin/sh\n# l1\nx\n',
    );
    expect(
      withProvenance(body({ xml: true }, '<?xml version="1.0"?>\n<a/>\n'), ['l1 -- l2']).content,
    ).toBe('<?xml version="1.0"?>\n<!-- l1 __ l2 -->\n<a/>\n');
    expect(
      JSON.parse(withProvenance(body({ json: ['meta', 'p'] }), ['l1']).content).meta.p,
    ).toEqual(['l1']);
    expect(
      JSON.parse(withProvenance(body({ json: ['//'], join: ' | ' }), ['a', 'b']).content)['//'],
    ).toBe('a | b');
    expect(withProvenance(body({ none: true }, 'x\n'), ['l1']).content).toBe('x\n');
    // a newline in a provenance line (a hostile file name) never starts a live line
    expect(withProvenance(body({ line: '#' }, 'x\n'), ['a\nflush ruleset']).content).toBe(
      '# a_flush ruleset\nx\n',
    );
    const h1 = withProvenance(body({ line: '#' }, 'x\n'), ['one']).bodySha256;
    expect(withProvenance(body({ line: '#' }, 'x\n'), ['two']).bodySha256).toBe(h1);
    expect(withProvenance(body({ line: '#' }, 'y\n'), ['one']).bodySha256).not.toBe(h1);
  });

  it.each([
    ['../x', /file name "..\/x"/],
    ['a/b', /file name "a\/b"/],
    ['report.json', /not report\.json/],
    ['.m365fw-commit', /file name/],
  ])('a file named %j is refused', (path, msg) => {
    expect(() =>
      run(mk(() => ({ files: [{ path, body: 'x\n', comment: { none: true } }] }))),
    ).toThrow(msg);
  });

  it('two files of one name, no files list, or a body that is not text are refused', () => {
    const f = { path: 'probe-a.txt', body: 'x\n', comment: { none: true } };
    expect(() => run(mk(() => ({ files: [f, f] })))).toThrow(/two files named probe-a\.txt/);
    // a name outside the ones it declares (default: probe… or m365fw-probe…)
    expect(() => run(mk(() => ({ files: [{ ...f, path: 'a.txt' }] })))).toThrow(
      'probe: file name "a.txt" is not one of the names it declares (files: /^(?:m365fw-)?probe[._-][A-Za-z0-9._-]*$/)',
    );
    expect(() => run(mk(() => ({ files: [{ ...f, path: 'm365fw-probe.conf' }] })))).not.toThrow();
    expect(() => run(mk(() => ({})))).toThrow(/no files list/);
    expect(() => run(mk(() => ({ files: [{ ...f, body: 7 }] })))).toThrow(/body is not text/);
  });

  it('URL entries an IP-only target cannot enforce are reported by the common pass, once each', () => {
    const m = model();
    const t = mk(() => ({ files: [] }));
    const entries = m.urlRules.reduce((n, u) => n + u.entries.length, 0);
    const f = unenforcedPass(t, m, []);
    expect(f.length).toBe(entries);
    expect(f[0].detail).toMatch(/probe matches IP prefixes only/);
    // what the target reported itself is not reported twice
    expect(unenforcedPass(t, m, [f[0]]).length).toBe(entries - 1);
    const withNames = mk(() => ({ files: [] }), {
      capabilities: { fqdn: true, wildcard: false, mixedFamilies: true, portRanges: true },
    });
    const onlyWild = unenforcedPass(withNames, m, []);
    expect(onlyWild.length).toBe(
      m.urlRules.reduce((n, u) => n + u.entries.filter((e) => e.kind !== 'fqdn').length, 0),
    );
  });

  it('generic limits: at the limit it renders, one past it is refused', () => {
    const m = model();
    const rules = m.rules.length;
    const prefixes = m.rules.reduce((n, r) => n + r.prefixes.count, 0);
    expect(() =>
      fitPass(
        mk(() => ({ files: [] }), { limits: { rules } } as any),
        m,
      ),
    ).not.toThrow();
    expect(() =>
      fitPass(
        mk(() => ({ files: [] }), { limits: { rules: rules - 1 } } as any),
        m,
      ),
    ).toThrow(new RegExp(`${rules} rules exceed the ${rules - 1} it holds by 1`));
    expect(() =>
      fitPass(
        mk(() => ({ files: [] }), { limits: { prefixes } } as any),
        m,
      ),
    ).not.toThrow();
    expect(() =>
      fitPass(
        mk(() => ({ files: [] }), { limits: { prefixes: prefixes - 1 } } as any),
        m,
      ),
    ).toThrow(/exceed the .* it holds by 1/);
  });

  it('defineTarget refuses a bad name, a bad flag, an unknown required option', () => {
    expect(() => mk(() => ({ files: [] }), { name: 'Bad Name' } as any)).toThrow(/target name/);
    expect(() =>
      mk(() => ({ files: [] }), {
        options: { x: { ...option.flag('--x', 'x'), flag: '-x' } },
      } as any),
    ).toThrow(/flag "-x"/);
    expect(() => mk(() => ({ files: [] }), { requires: ['nope'] } as any)).toThrow(
      /requires unknown option nope/,
    );
  });
});
