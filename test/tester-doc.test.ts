/**
 * The TargetTester example of docs/library.md, run as written against the example plugin (which
 * imports the built package: the system lane).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TargetTester, type Target, type TargetCase } from '../src/index.js';
import { ROOT } from './helpers/env.js';

describe('docs/library.md: the TargetTester example runs as written against the example plugin', () => {
  it('both of its cases pass', async () => {
    const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    const code = /## Testing a target[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)![1];
    const cases = /\.run\((\[[\s\S]*\])\);\s*$/.exec(code)![1];
    const pf = (
      (await import(join(ROOT, 'examples/plugin-target/pf-table.mjs'))) as { default: Target }
    ).default;
    // the table as the page writes it (plain data and arrow functions)
    const table = (
      (await import(`data:text/javascript,${encodeURIComponent(`export default ${cases};`)}`)) as {
        default: TargetCase[];
      }
    ).default;
    expect(table).toHaveLength(2);
    const tester = new TargetTester(pf);
    for (const c of table) tester.check(c);
  });
});
