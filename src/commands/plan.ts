import { compileAndRender, readPreviousReport } from '../app.js';
import { writeArtifactsAtomically } from '../io/write.js';
import { diffReports, planMarkdown } from '../report/plan.js';
import { compileRequestFrom, targetOptionsFrom, targetsFrom } from './common.js';

/** m365fw plan: exit 0 no change, 2 changes, 1 error. Writes nothing but --plan-out. */
export async function planCommand(o: Record<string, unknown>): Promise<void> {
  const { targets, skipped } = targetsFrom(o);
  const req = compileRequestFrom(o, false);
  const previous = readPreviousReport(String(o.previous));
  const run = compileAndRender(req, {
    targets, skipped, targetOptions: targetOptionsFrom(o, targets), allowEmpty: !!o.allowEmpty,
    maxRemoval: o.maxRemoval as string | undefined, previousReport: previous,
  });
  const plan = diffReports(previous, run.report);
  const json = JSON.stringify(plan, null, 2) + '\n';
  const markdown = planMarkdown(plan);
  if (o.planOut) writeArtifactsAtomically(String(o.planOut), [{ path: 'plan.json', content: json }, { path: 'plan.md', content: markdown }]);
  process.stdout.write(o.json ? json : markdown);
  process.exit(plan.changed ? 2 : 0);
}
