/**
 * npm run mutate: the suite Stryker runs. Only test files that load m365fw's modules in-process
 * can kill a mutant (the others start the built CLI, which is not mutated), so only they run;
 * M365FW_MUTATE makes the property tests take a tenth of their cases (test/helpers/env.ts runs()).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const inProcess = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => /from '\.\.\/(src|targets)\//.test(readFileSync(`test/${f}`, 'utf8')))
  .map((f) => `test/${f}`);

export default mergeConfig(base, defineConfig({ test: { include: inProcess } }));
