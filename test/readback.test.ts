/**
 * What m365fw reads back from --out is input, not truth (issue: nothing read back can widen,
 * delete outside m365fw's own, or wedge updates). Each test plants a hostile value where a real
 * run reads it (a commit marker, report.json's artifact lists, a missing report, a PAN-OS
 * inventory) and checks that it is refused with one line naming the file, the JSON path and the
 * value, exit 1, and that nothing in the directory changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeArtifactsAtomically } from '../src/io/write.js';
import { FIXTURES } from './helpers/env.js';
import { runHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Every file's name and sha256: the directory as a value. */
const snapshot = (dir: string): Record<string, unknown> =>
  Object.fromEntries(
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((e) => [
        e.name,
        e.isDirectory() ? snapshot(join(dir, e.name)) : sha(readFileSync(join(dir, e.name))),
      ]),
  );

/** The next run writes another target (pac): every earlier file would be stale. */
const compilePac = (out: string) =>
  runHere([
    'compile',
    '--input',
    SAMPLE,
    '--target',
    'pac',
    '--pac-proxy',
    'PROXY p.example:8080',
    '--out',
    out,
  ]);

const compile = (out: string, ...extra: string[]) =>
  runHere(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out, ...extra]);

/** An output directory with one run in it and a file of the operator's beside it. */
function outWithRun(...extra: string[]): string {
  const out = tmpDir('readback');
  const r = compile(out, ...extra);
  expect(r.code, r.stderr).toBe(0);
  writeFileSync(join(out, 'README.md'), 'the operator keeps notes here\n');
  return out;
}

/** Plant a commit marker with these files and this manifest. */
function plantCommit(out: string, files: Record<string, string>, manifest: unknown): void {
  const c = join(out, '.m365fw-commit');
  mkdirSync(c);
  for (const [n, body] of Object.entries(files)) writeFileSync(join(c, n), body);
  writeFileSync(join(c, '.manifest.json'), JSON.stringify(manifest));
}

describe('a planted commit marker in --out', () => {
  const body = '# planted\n';
  it.each<[string, (out: string) => void, RegExp]>([
    [
      'a remove list naming a file m365fw never writes',
      (out) =>
        plantCommit(
          out,
          { 'm365fw.nft': body },
          { install: ['m365fw.nft'], sha256: { 'm365fw.nft': sha(body) }, remove: ['README.md'] },
        ),
      /\.manifest\.json: \/remove\/0: "README\.md" is not a file m365fw writes here; refusing to complete the commit/,
    ],
    [
      'an install list naming a path outside --out',
      (out) =>
        plantCommit(
          out,
          {},
          { install: ['../escape'], sha256: { '../escape': sha('') }, remove: [] },
        ),
      /is not an m365fw manifest/,
    ],
    [
      'a removal outside --out',
      (out) => plantCommit(out, {}, { install: [], sha256: {}, remove: ['../../etc/passwd'] }),
      /is not an m365fw manifest/,
    ],
    [
      'a staged file whose bytes are not the ones its manifest records',
      (out) =>
        plantCommit(
          out,
          { 'm365fw.nft': body },
          { install: ['m365fw.nft'], sha256: { 'm365fw.nft': sha('other') }, remove: [] },
        ),
      /m365fw\.nft does not match the sha256 its manifest records; refusing to complete the commit/,
    ],
    [
      'a manifest of the old shape, without sums',
      (out) => plantCommit(out, { 'm365fw.nft': body }, { install: ['m365fw.nft'], remove: [] }),
      /\/sha256 is missing; refusing to complete a commit whose files cannot be checked/,
    ],
  ])('%s: refused by the writing run, nothing changes', (_what, plant, message) => {
    const out = outWithRun();
    plant(out);
    const before = snapshot(out);
    const r = compile(out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshot(out)).toEqual(before);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('the operator keeps notes here\n');
  });

  it('one of its own, complete and consistent, is carried out by the next writing run', () => {
    const out = outWithRun();
    const nft = readFileSync(join(out, 'm365fw.nft'), 'utf8');
    rmSync(join(out, 'm365fw.nft'));
    plantCommit(
      out,
      { 'm365fw.nft': nft },
      { install: ['m365fw.nft'], sha256: { 'm365fw.nft': sha(nft) }, remove: [] },
    );
    expect(compile(out).code).toBe(0);
    expect(readFileSync(join(out, 'm365fw.nft'), 'utf8')).toBe(nft);
    expect(existsSync(join(out, '.m365fw-commit'))).toBe(false);
  });

  it('plan never carries one out: exit 1, the directory unchanged', () => {
    const out = outWithRun();
    plantCommit(
      out,
      { 'm365fw.nft': body },
      { install: ['m365fw.nft'], sha256: { 'm365fw.nft': sha(body) }, remove: ['report.json'] },
    );
    const before = snapshot(out);
    const r = runHere(['plan', '--input', SAMPLE, '--target', 'nftables', '--previous', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds an unfinished m365fw write \(\.m365fw-commit\)/);
    expect(snapshot(out)).toEqual(before);
  });
});

describe('the writer (a public export) keeps to its own names', () => {
  it('a remove list naming a file being written: the file is written, not removed', () => {
    const out = tmpDir('readback');
    writeArtifactsAtomically(out, [{ path: 'report.json', content: '{}\n' }], {
      remove: ['report.json'],
    });
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{}\n');
  });

  it('a remove list naming a file that is not its own: refused before anything is written', () => {
    const out = tmpDir('readback');
    writeFileSync(join(out, 'notes.txt'), 'x');
    expect(() =>
      writeArtifactsAtomically(out, [{ path: 'report.json', content: '{}\n' }], {
        remove: ['notes.txt'],
      }),
    ).toThrow(/refusing to remove "notes\.txt" from .*: not a file m365fw writes there/);
    expect(readdirSync(out).sort()).toEqual(['notes.txt']);
    expect(() =>
      writeArtifactsAtomically(out, [{ path: 'report.json', content: '{}\n' }], {
        remove: ['../x'],
      }),
    ).toThrow(/refusing to remove "\.\.\/x"/);
  });

  it('an artifact whose name is not one it writes there is refused', () => {
    const out = tmpDir('readback');
    expect(() => writeArtifactsAtomically(out, [{ path: 'notes.txt', content: 'x\n' }])).toThrow(
      /refusing artifact path "notes\.txt": not a name m365fw writes/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("report.json's artifact lists name only what its targets write", () => {
  it.each([
    ['README.md', 'nftables', 0],
    ['../outside', 'nftables', 0],
    ['panos-set.txt', 'nftables', 0],
    ['m365fw.nft\u202e', 'nftables', 0],
  ])('%s listed under %s: refused, naming the path and the value; nothing removed', (name, t) => {
    const out = outWithRun();
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    rep.targets[t].artifacts.push({ ...rep.targets[t].artifacts[0], path: name });
    writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
    const before = snapshot(out);
    // the next run writes another target: every earlier file would be stale
    const r = compilePac(out);
    expect(r.code).toBe(1);
    if (name.includes('/') || name.includes('\u202e'))
      expect(r.stderr).toMatch(/report\.json is not an m365fw report/);
    else {
      expect(r.stderr).toContain(
        `report.json: /targets/${t}/artifacts/1/path: ${JSON.stringify(name).replace('\u202e', '\\u202e')} is not a file the ${t} target writes; refusing to delete it`,
      );
      expect(r.stderr).not.toContain('\u202e');
    }
    expect(snapshot(out)).toEqual(before);
  });

  it('its own stale files still go (a target dropped from --target)', () => {
    const out = outWithRun();
    expect(compilePac(out).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'm365fw.pac', 'report.json']);
  });
});

describe('a missing report.json does not switch --max-removal off', () => {
  it('refused while m365fw files are there; --first-run says it is expected', () => {
    const out = outWithRun();
    rmSync(join(out, 'report.json'));
    const before = snapshot(out);
    const r = compile(out, '--max-removal', '10%');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /--max-removal: .* holds m365fw files \(m365fw\.nft\) but no report\.json to judge the removal against; restore it, or pass --first-run/,
    );
    expect(snapshot(out)).toEqual(before);
    const p = runHere([
      'plan',
      '--input',
      SAMPLE,
      '--target',
      'nftables',
      '--previous',
      out,
      '--max-removal',
      '10%',
    ]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/but no report\.json to judge the removal against/);
    expect(compile(out, '--max-removal', '10%', '--first-run').code).toBe(0);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  });

  it('an empty directory, or one with only files of others, is a first run as it is', () => {
    const out = tmpDir('readback');
    writeFileSync(join(out, 'README.md'), 'x');
    expect(compile(out, '--max-removal', '10%').code).toBe(0);
  });
});

describe('no internal messages: special places and sizes are one clear line', () => {
  it.each([
    [
      '/proc/self/m365fw-out',
      /is on a proc filesystem \("\/proc\/self"\); m365fw writes only to a real filesystem/,
    ],
    ['/sys/kernel/m365fw-out', /is on a sysfs filesystem/],
    ['/dev/null', /output directory "\/dev\/null" is not a directory/],
    [
      join(FIXTURES, 'sample-feed.json', 'x'),
      /cannot create it: a part of the path is not a directory/,
    ],
  ])('--out %s', (out, why) => {
    const r = compile(out);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(why);
  });

  it('a previous PAN-OS run of 200k objects becomes 200k deletes, not a stack overflow', () => {
    const out = tmpDir('readback');
    const pa = (o: string) =>
      runHere(['compile', '--input', SAMPLE, '--target', 'paloalto', '--out', o]);
    expect(pa(out).code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const inv = rep.targets.paloalto.inventory;
    for (let i = 0; i < 200_000; i++) inv.addresses.push(`m365-10_${i}-32`);
    inv.groups['m365-grp-big'] = inv.addresses.slice(0, 150_000);
    writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
    const r = pa(out);
    expect(r.code, r.stderr).toBe(0);
    const set = readFileSync(join(out, 'panos-set.txt'), 'utf8');
    expect(set.split('\n').filter((l) => l.startsWith('delete ')).length).toBe(200_001);
  });

  it.each([
    ['flow', `endpointSets: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`],
    ['block', `endpointSets:\n  ${'- '.repeat(100_000)}x\n`],
    ['just past the bound', `endpointSets:\n  ${'- '.repeat(32)}x\n`],
  ])('a policy nested too deep (%s) is refused with its place', (_w, text) => {
    const dir = tmpDir('readback');
    const p = join(dir, 'deep.yaml');
    writeFileSync(p, text);
    const r = runHere(['compile', '--input', SAMPLE, '--policy', p, '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /deep\.yaml:[0-9]+:[0-9]+: YAML nested deeper than 32 levels; refusing it/,
    );
  });

  it('at the bound the policy is read (and judged on its content)', () => {
    const dir = tmpDir('readback');
    const p = join(dir, 'deep.yaml');
    // the top mapping and 31 sequences: 32 levels
    writeFileSync(p, `endpointSets:\n  ${'- '.repeat(31)}x\n`);
    const r = runHere(['compile', '--input', SAMPLE, '--policy', p, '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/endpointSets\[0\]: must be object/);
  });
});

describe('an output that was a default deny does not quietly become one that is not', () => {
  const nft = (out: string, ...extra: string[]) =>
    runHere([
      'compile',
      '--input',
      SAMPLE,
      '--target',
      'nftables',
      '--nft-hook',
      'output',
      '--out',
      out,
      ...extra,
    ]);
  it('nftables: policy drop, then the same run without it, is refused; --allow-weaker-enforcement lets it', () => {
    const out = tmpDir('readback');
    expect(nft(out, '--nft-policy', 'drop').code).toBe(0);
    const before = snapshot(out);
    const r = nft(out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /nftables: the previous output was an allowlist with a default deny; this one is "allow rules only: .*" — it would let more through/,
    );
    expect(snapshot(out)).toEqual(before);
    expect(nft(out, '--nft-policy', 'drop').code).toBe(0); // the same again is fine
    expect(nft(out, '--allow-weaker-enforcement').code).toBe(0);
  });

  it('a report of 0.3.0 (no enforcement recorded) is judged by its options', () => {
    const out = tmpDir('readback');
    expect(nft(out, '--nft-policy', 'drop').code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    delete rep.targets.nftables.enforcement;
    rep.options.nftPolicy = 'drop';
    writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
    expect(nft(out).code).toBe(1);
    // without a hook it was never a default deny
    delete rep.options.nftHook;
    writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
    expect(nft(out).code).toBe(0);
  });

  it('azure-nsg: --nsg-deny dropped is refused the same way', () => {
    const out = tmpDir('readback');
    const nsg = (...extra: string[]) =>
      runHere(['compile', '--input', SAMPLE, '--target', 'azure-nsg', '--out', out, ...extra]);
    expect(nsg('--nsg-deny', 'internet').code).toBe(0);
    const r = nsg();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/azure-nsg: the previous output was an allowlist with a default deny/);
  });
});

describe('compile says which of its files were edited by hand', () => {
  it('an edited file is named and rewritten; a file of a target this run drops is not claimed', () => {
    const out = outWithRun('--target', 'nftables,pac', '--pac-proxy', 'PROXY p.example:8080');
    const nft = readFileSync(join(out, 'm365fw.nft'), 'utf8');
    writeFileSync(join(out, 'm365fw.nft'), nft.replace('accept', 'drop'));
    writeFileSync(join(out, 'm365fw.pac'), '// edited\n');
    const r = compile(out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /m365fw\.nft differs from the sha256 report\.json records \(edited or removed by hand\); rewriting it/,
    );
    expect(r.stderr).not.toMatch(/m365fw\.pac/);
    // the file is what this run writes, as in a directory of its own
    const fresh = tmpDir('readback');
    expect(compile(fresh).code).toBe(0);
    expect(readFileSync(join(out, 'm365fw.nft'), 'utf8')).toBe(
      readFileSync(join(fresh, 'm365fw.nft'), 'utf8'),
    );
    expect(existsSync(join(out, 'm365fw.pac'))).toBe(false);
  });
});
