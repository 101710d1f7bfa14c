import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileAndRender, guardFirstRun, readPreviousReport } from '../../index.js';
import { openOutputDir, writeArtifactsAtomically } from '../../index.js';
import { diffReports, planMarkdown } from '../../index.js';
import { compileRequestFrom, runOptionsFrom } from './common.js';
import { finish } from './fail.js';
import { terminalText } from '../../index.js';
import { text } from '../../index.js';

/** m365fw plan: exit 0 no change, 2 changes, 1 error or refused. Writes nothing but --plan-out. */
export function planCommand(o: Record<string, unknown>): void {
  const runOptions = runOptionsFrom(o);
  const req = compileRequestFrom(o, false);
  const dir = String(o.previous);
  let previous;
  if (existsSync(dir)) {
    const lock = openOutputDir(dir, 'previous output directory', { readOnly: true });
    try {
      previous = readPreviousReport(dir);
      guardFirstRun(dir, previous, runOptions);
    } finally {
      lock.release();
    }
  }
  const run = compileAndRender(req, {
    ...runOptions,
    previousReport: previous,
    previousReportFile: join(dir, 'report.json'),
  });
  // a refused change is exactly what a reviewer must see: the plan is written with the verdict
  const plan = diffReports(previous, run.report, run.refusal?.message);
  const json = JSON.stringify(plan, null, 2) + '\n';
  const markdown = planMarkdown(plan);
  if (o.planOut)
    writeArtifactsAtomically(text(o.planOut), [
      { path: 'plan.json', content: json },
      { path: 'plan.md', content: markdown },
    ]);
  process.stdout.write(o.json ? json : markdown);
  if (run.refusal) {
    process.stderr.write(`error: ${terminalText(run.refusal.message)}\n`);
    return finish(1);
  }
  finish(plan.changed ? 2 : 0);
}
