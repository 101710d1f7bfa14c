/**
 * npm run mutate: the suite Stryker runs. Only test files that load m365fw's modules in-process
 * (directly, or through helpers/here.ts, the compile command run in-process) can kill a mutant
 * (the others start the built CLI, which is not mutated), so only they run;
 * M365FW_MUTATE makes the property tests take a tenth of their cases (test/helpers/env.ts runs()).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { SHARED_TEST_OPTIONS } from './vitest.config.js';

const inProcess = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts'))
  // (here.test.ts compares the in-process compile with the CLI: a difference, not a bug, would kill)
  .filter((f) => f !== 'here.test.ts')
  .filter((f) =>
    /from '(\.\.\/(src|targets)\/|\.\/helpers\/here\.js')/.test(readFileSync(`test/${f}`, 'utf8')),
  )
  .map((f) => `test/${f}`);

export default defineConfig({ test: { ...SHARED_TEST_OPTIONS, include: inProcess } });
