/**
 * Every `sh` block of README.md and docs/*.md runs here, so no documented command rots. Each file's
 * blocks run in order in one temporary directory holding the names the docs use (feed.json,
 * new.json, policy.yaml, big.txt, the example plugin), with `m365fw` on PATH and M365FW_BASE_URL
 * pointing at a loopback stand-in of the web service. Under `bash -e -o pipefail` a block must exit
 * 0, or what `<!-- doc-test: exit N -->` before it says; `stdout below` compares its stdout with the
 * next fenced block, word for word. A block that cannot run here says why: `<!-- not run: … -->`.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, NO_SHARED, ROOT, sharedFeeds } from './helpers/env.js';
import { startService, type StandIn } from './helpers/service.js';
import { tmpDir } from './helpers/tmp.js';

interface Block {
  file: string;
  line: number;
  code: string;
  notRun?: string;
  exit: number;
  stdout?: string;
}

/** The sh blocks of a Markdown file with the annotation just before each. */
export function shBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```sh\s*$/.test(lines[i])) {
      if (/^```/.test(lines[i])) while (++i < lines.length && !/^```\s*$/.test(lines[i]));
      continue;
    }
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const note = /^<!-- (doc-test|not run): (.*) -->$/.exec(lines[j] ?? '');
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !/^```\s*$/.test(lines[i])) body.push(lines[i]);
    const b: Block = { file, line: start + 1, code: body.join('\n') + '\n', exit: 0 };
    if (note?.[1] === 'not run') b.notRun = note[2];
    if (note?.[1] === 'doc-test') {
      const exit = /exit (\d+)/.exec(note[2]);
      if (exit) b.exit = Number(exit[1]);
      if (/stdout below/.test(note[2])) {
        // the next fenced block is what the commands print
        let k = i + 1;
        while (k < lines.length && !/^```/.test(lines[k])) k++;
        const shown: string[] = [];
        while (++k < lines.length && !/^```\s*$/.test(lines[k])) shown.push(lines[k]);
        b.stdout = shown.join('\n') + '\n';
      }
    }
    out.push(b);
  }
  return out;
}

const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const blocks = DOCS.map((f) => ({
  file: f,
  blocks: shBlocks(f, readFileSync(join(ROOT, f), 'utf8')),
}));

let svc: StandIn;
let bin: string;
beforeAll(async () => {
  svc = await startService('2026120100', readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8'));
  bin = tmpDir('docs-bin');
  writeFileSync(join(bin, 'm365fw'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'm365fw'), 0o755);
});
afterAll(() => svc.close());

/** A working directory with the names the docs use. */
function workdir(): string {
  const d = tmpDir('docs');
  copyFileSync(join(FIXTURES, 'sample-feed.json'), join(d, 'feed.json'));
  copyFileSync(join(FIXTURES, 'sample-feed-next.json'), join(d, 'new.json'));
  copyFileSync(join(FIXTURES, 'corp-policy.yaml'), join(d, 'policy.yaml'));
  copyFileSync(join(FIXTURES, 'prefix-list.txt'), join(d, 'big.txt'));
  copyFileSync(join(ROOT, 'examples/plugin-target/pf-table.mjs'), join(d, 'pf-table.mjs'));
  // a real Worldwide feed (the ingress presets name its set ids), from ../shared
  const ww = sharedFeeds()
    .filter((f) => /worldwide-endpoints-\d/.test(f))
    .pop();
  if (ww) copyFileSync(ww, join(d, 'worldwide.json'));
  // the plugin imports "m365fw": as installed beside it
  mkdirSync(join(d, 'node_modules'));
  symlinkSync(ROOT, join(d, 'node_modules/m365fw'));
  return d;
}

/** bash -e -o pipefail on a block, asynchronously: the stand-in answers from this process. */
function bash(
  code: string,
  cwd: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-e', '-o', 'pipefail', '-c', code], {
      cwd,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, M365FW_BASE_URL: svc.base },
    });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

describe('the documentation runs', () => {
  it('every block that is not run says why, and most blocks run', () => {
    const all = blocks.flatMap((f) => f.blocks);
    for (const b of all.filter((x) => x.notRun !== undefined))
      expect(b.notRun!.length, `${b.file}:${b.line}`).toBeGreaterThan(10);
    expect(all.filter((b) => b.notRun === undefined).length).toBeGreaterThan(
      all.filter((b) => b.notRun !== undefined).length,
    );
  });

  for (const { file, blocks: bs } of blocks.filter((f) => f.blocks.some((b) => !b.notRun))) {
    it(`${file}: every sh block runs as documented`, async () => {
      const dir = workdir();
      for (const b of bs) {
        if (b.notRun !== undefined) continue;
        if (b.code.includes('worldwide.json') && !sharedFeeds().length) {
          console.warn(`SKIP ${file}:${b.line} (worldwide.json): ${NO_SHARED}`);
          continue;
        }
        const r = await bash(b.code, dir);
        expect(r.status, `${file}:${b.line}\n${b.code}\n${r.stderr}`).toBe(b.exit);
        if (b.stdout !== undefined) expect(r.stdout, `${file}:${b.line}`).toBe(b.stdout);
      }
    });
  }
});
