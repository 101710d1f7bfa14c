/**
 * update: version check → download when needed → plan → guards → write, as one step, for
 * pipelines that run unattended. The version of record is the one the output directory was
 * compiled from (its report.json), not the last one downloaded: a refused or failed update is
 * tried again on the next run, never forgotten.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compileAndRender,
  guardFirstRun,
  ownedOutputName,
  recordedOptions,
  type CompiledRun,
  type RunOptions,
} from './app.js';
import type { CompileRequest } from './compile/index.js';
import { openOutputDir, writeArtifactsAtomically } from './io/write.js';
import { diffReports, planMarkdown, type Plan } from './report/plan.js';
import { readPreviousReport } from './report/previous.js';
import { REPORT_FILE, type Report } from './report/report.js';
import { crossCheck } from './report/changes.js';
import {
  changesFor,
  checkNotOlder,
  downloadFeed,
  latestVersion,
  openClient,
  type FetchLimits,
} from './sources/fetch.js';
import { openStateDir, sha256, type Instance } from './sources/state.js';
import { TOOL_VERSION } from './version.js';

export interface UpdateOptions {
  instance: Instance;
  stateDir: string;
  outDir: string;
  planOut?: string;
  baseUrl?: string;
  force?: boolean;
  limits?: Partial<FetchLimits>;
  allowImplausible?: string[];
  /** the compile request without its input (the downloaded feed is the input) */
  request: Omit<CompileRequest, 'input' | 'format'>;
  run: RunOptions;
  /** refuse (exit 1, nothing written) when Microsoft's change records do not explain the diff */
  requireExplainedChanges?: boolean;
  log?: (line: string) => void;
}

export type UpdateOutcome =
  | { status: 'current'; version: string; reason: string }
  | { status: 'unchanged'; version: string; previousVersion?: string; plan: Plan }
  | {
      status: 'written';
      version: string;
      previousVersion?: string;
      plan: Plan;
      run: CompiledRun;
      written: string[];
    }
  | { status: 'refused'; version: string; previousVersion?: string; plan: Plan; reason: string };

/** JSON with sorted keys: option bags compared by content. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

/** Whether `prev` was made by this tool version with the same options and policy as this run would be. */
function sameRecipe(prev: Report, o: UpdateOptions): boolean {
  const policy = o.request.policy ? sha256(readFileSync(o.request.policy)) : undefined;
  return (
    prev.tool.version === TOOL_VERSION &&
    prev.input.instance === o.instance &&
    canonical(prev.options) === canonical(recordedOptions({ options: o.request.options }, o.run)) &&
    prev.input.policy?.sha256 === policy
  );
}

function writePlan(o: UpdateOptions, plan: Plan): void {
  if (!o.planOut) return;
  writeArtifactsAtomically(o.planOut, [
    { path: 'plan.json', content: JSON.stringify(plan, null, 2) + '\n' },
    { path: 'plan.md', content: planMarkdown(plan) },
  ]);
}

export async function runUpdate(o: UpdateOptions): Promise<UpdateOutcome> {
  const outLock = openOutputDir(o.outDir, 'output directory', { owns: ownedOutputName });
  try {
    const sd = openStateDir(o.stateDir);
    try {
      const prev = readPreviousReport(o.outDir);
      guardFirstRun(o.outDir, prev, o.run);
      const client = openClient(sd, o.baseUrl, o.limits, o.log);
      const latest = await latestVersion(client, o.instance);
      const compiledFrom = prev?.input.instance === o.instance ? prev.input.version : undefined;
      checkNotOlder(latest, compiledFrom, `that ${o.outDir} was compiled from`, o.force);
      const rec = sd.state.instances[o.instance];
      checkNotOlder(latest, rec?.version, 'recorded in the state directory', o.force);
      const recipe = !!prev && sameRecipe(prev, o);
      const reportSha = prev ? sha256(readFileSync(join(o.outDir, REPORT_FILE))) : undefined;
      if (!o.force && prev && recipe) {
        if (compiledFrom === latest)
          return {
            status: 'current',
            version: latest,
            reason: `${o.outDir} was compiled from version ${latest}`,
          };
        if (rec?.unchanged?.version === latest && rec.unchanged.report === reportSha) {
          return {
            status: 'current',
            version: latest,
            reason: `version ${latest} compiles to what ${o.outDir} already holds (checked before)`,
          };
        }
      }
      let feed =
        rec && rec.version === latest && rec.query === '' ? sd.savedFeed(o.instance) : undefined;
      if (!feed || o.force) {
        await downloadFeed(client, sd, o.instance, latest, '', o.allowImplausible);
        feed = sd.savedFeed(o.instance);
        if (!feed) throw new Error('the saved feed does not match what was downloaded');
      } else {
        o.log?.(
          `version ${latest} is already downloaded in ${o.stateDir}; not downloading it again`,
        );
      }
      const run = compileAndRender(
        { ...o.request, input: feed.path, format: 'o365', instance: o.instance },
        { ...o.run, previousReport: prev, previousReportFile: join(o.outDir, REPORT_FILE) },
      );
      const plan = diffReports(prev, run.report, run.refusal?.message);
      const base = { version: latest, ...(compiledFrom ? { previousVersion: compiledFrom } : {}) };
      // Microsoft's own account of the change, cross-checked against the diff
      let unexplained: string | undefined;
      if (compiledFrom && compiledFrom !== latest && plan.changed) {
        const ch = await changesFor(client, sd, o.stateDir, o.instance, compiledFrom, latest);
        if (ch.unavailable) o.log?.(`change records not available: ${ch.unavailable}`);
        const c = crossCheck(plan, compiledFrom, latest, ch.records, ch.unavailable);
        plan.microsoftChanges = c;
        if (o.requireExplainedChanges && (c.unavailable || c.unexplained.length))
          unexplained = c.unavailable
            ? `--require-explained-changes: the change records are not available, so the diff cannot be cross-checked (${c.unavailable})`
            : `--require-explained-changes: ${c.unexplained.length} added or removed entries are explained by no change record (first: set ${c.unexplained[0].setId} ${c.unexplained[0].change} ${c.unexplained[0].entry})`;
      }
      if (unexplained && !run.refusal) {
        plan.refused = unexplained;
        writePlan(o, plan);
        return { status: 'refused', ...base, plan, reason: unexplained };
      }
      if (run.refusal) {
        writePlan(o, plan);
        return { status: 'refused', ...base, plan, reason: run.refusal.message };
      }
      if (!plan.changed && recipe && !o.force) {
        // nothing to deploy: out/ stays byte-identical; remember the check so the next run is one request
        sd.state.instances[o.instance] = {
          ...sd.state.instances[o.instance]!,
          unchanged: { version: latest, report: reportSha! },
        };
        sd.save();
        writePlan(o, plan);
        return { status: 'unchanged', ...base, plan };
      }
      const written = writeArtifactsAtomically(o.outDir, run.artifacts, {
        remove: run.stale,
        locked: true,
        marker: REPORT_FILE,
        owns: ownedOutputName,
      });
      const { unchanged: _drop, ...kept } = sd.state.instances[o.instance]!;
      sd.state.instances[o.instance] = kept;
      sd.save();
      writePlan(o, plan);
      return { status: 'written', ...base, plan, run, written };
    } finally {
      sd.release();
    }
  } finally {
    outLock.release();
  }
}
