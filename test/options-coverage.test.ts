/**
 * Every option of every command is exercised by some test: a flag that no test passes cannot be
 * shown to change anything (issue #16). Each flag must appear, quoted, in another test file; the
 * tests that use it then assert what it changes. Only --help and --version are exempt.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/env.js';

const COMMANDS = [
  ['compile'],
  ['plan'],
  ['fetch'],
  ['update'],
  ['dns', 'records'],
  ['dns', 'check'],
  ['presets'],
  ['targets'],
];
const EXEMPT = new Set(['--help', '--version']);
const testDir = join(ROOT, 'test');
const sources = readdirSync(testDir)
  .filter((f) => f.endsWith('.ts') && f !== basename(import.meta.filename))
  .map((f) => readFileSync(join(testDir, f), 'utf8'))
  .join('\n');

describe('every option is passed by a test', () => {
  it.each(COMMANDS.map((c) => [c.join(' '), c]))('%s', (_n, cmd) => {
    const help = runCli([...cmd, '--help']);
    expect(help.code).toBe(0);
    const flags = [...new Set(help.stdout.match(/--[a-z][a-z0-9-]+/g) ?? [])].filter(
      (f) => !EXEMPT.has(f),
    );
    expect(flags.length).toBeGreaterThan(cmd[0] === 'targets' ? -1 : 0);
    const untested = flags.filter(
      (f) =>
        !sources.includes(`'${f}'`) && !sources.includes(`"${f}`) && !sources.includes(`'${f}=`),
    );
    expect(untested, `options of ${cmd.join(' ')} no test passes`).toEqual([]);
  });
});
