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
  editedArtifacts,
  guardFirstRun,
  ownedOutputName,
  recordedOptions,
  type CompiledRun,
  type RunOptions,
} from './run.js';
import type { CompileRequest } from './inputs.js';
import { openOutputDir, writeArtifactsAtomically } from '../io/write.js';
import { diffReports, planMarkdown, type Plan, type PlanChanges } from '../report/plan.js';
import { readPreviousReport } from '../report/previous.js';
import { REPORT_FILE, type Report } from '../report/report.js';
import { crossCheck } from '../report/changes.js';
import {
  changesFor,
  checkNotOlder,
  getFeed,
  latestVersion,
  openClient,
  recordFeed,
  type Client,
  type FetchLimits,
} from './fetch.js';
import { feedFileName, openStateDir, sha256, type Instance, type StateDir } from './state.js';
import { TOOL_VERSION } from '../version.js';

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

/** How long an "unchanged" marker in the state directory is believed without a download. */
export const UNCHANGED_TRUST_MS = 24 * 3600 * 1000;

/**
 * Microsoft's records for compiledFrom → latest, cross-checked against the plan. Kept records are
 * a cache: when they leave the diff unexplained they are asked for again. With no version to
 * start from (a report of compile) or the same version (--force on new content), nothing can
 * explain a change: every one is listed, and the plan says what it was compared against.
 */
async function explainChanges(
  client: Client,
  sd: StateDir,
  o: UpdateOptions,
  compiledFrom: string | undefined,
  latest: string,
  plan: Plan,
): Promise<PlanChanges> {
  if (!compiledFrom)
    return crossCheck(
      plan,
      '0000000000',
      latest,
      [],
      undefined,
      `no change records: ${o.outDir}/report.json names no version of the service (it was not written by update)`,
    );
  if (compiledFrom === latest)
    return crossCheck(
      plan,
      compiledFrom,
      latest,
      [],
      undefined,
      `no change records: the feed changed within version ${latest}`,
    );
  let ch = await changesFor(client, sd, o.stateDir, o.instance, compiledFrom, latest);
  let c = crossCheck(plan, compiledFrom, latest, ch.records, ch.unavailable);
  if (ch.cached && c.unexplained.length) {
    o.log?.('the kept change records do not explain the diff; asking for them again');
    ch = await changesFor(client, sd, o.stateDir, o.instance, compiledFrom, latest, true);
    c = crossCheck(plan, compiledFrom, latest, ch.records, ch.unavailable);
  }
  if (ch.unavailable) o.log?.(`change records not available: ${ch.unavailable}`);
  return c;
}

/** What update knows before it downloads: the previous output, and whether it can stop there. */
interface Before {
  prev: Report | undefined;
  compiledFrom: string | undefined;
  /** the same tool version, options and policy as the previous output's, and no file edited */
  same: boolean;
  reportSha: string | undefined;
}

function before(o: UpdateOptions, sd: StateDir, prev: Report | undefined, latest: string): Before {
  const compiledFrom = prev?.input.instance === o.instance ? prev.input.version : undefined;
  checkNotOlder(latest, compiledFrom, `that ${o.outDir} was compiled from`, o.force);
  checkNotOlder(
    latest,
    sd.state.instances[o.instance]?.version,
    'recorded in the state directory',
    o.force,
  );
  // an artifact edited by hand is not what report.json says: it is rewritten, never "current"
  const edited = prev ? editedArtifacts(o.outDir, prev) : [];
  for (const f of edited)
    o.log?.(`${join(o.outDir, f)} differs from the sha256 report.json records; rewriting it`);
  return {
    prev,
    compiledFrom,
    same: !!prev && sameRecipe(prev, o) && !edited.length,
    reportSha: prev ? sha256(readFileSync(join(o.outDir, REPORT_FILE))) : undefined,
  };
}

/** Why out/ is current without a download, or undefined: it holds the version, or a fresh marker says so. */
function currentReason(
  o: UpdateOptions,
  sd: StateDir,
  b: Before,
  latest: string,
): string | undefined {
  if (o.force || !b.same) return undefined;
  if (b.compiledFrom === latest) return `${o.outDir} was compiled from version ${latest}`;
  // the state is a cache: a marker is believed for the report and version it was made for, for a day
  const u = sd.state.instances[o.instance]?.unchanged;
  const now = Date.now();
  const fresh = u?.at !== undefined && u.at <= now && now - u.at < UNCHANGED_TRUST_MS;
  if (u?.version === latest && u.report === b.reportSha && fresh)
    return `version ${latest} compiles to what ${o.outDir} already holds (checked before)`;
  return undefined;
}

/** The refusal --require-explained-changes makes of the cross-check, if any. */
function unexplainedRefusal(c: PlanChanges): string | undefined {
  if (c.unavailable)
    return `--require-explained-changes: the change records are not available, so the diff cannot be cross-checked (${c.unavailable})`;
  if (!c.unexplained.length) return undefined;
  const first = c.unexplained[0];
  return `--require-explained-changes: ${c.unexplained.length} changes are explained by no change record (first: set ${first.setId} ${first.change} ${first.entry})${c.basis ? `; compared against ${c.basis}` : ''}`;
}

/** Nothing to deploy: out/ stays byte-identical; the check is remembered so the next run is one request. */
function rememberUnchanged(
  o: UpdateOptions,
  sd: StateDir,
  b: Before,
  latest: string,
  content: string,
): void {
  sd.state.instances[o.instance] = {
    version: latest,
    sha256: sha256(content),
    query: '',
    unchanged: { version: latest, report: b.reportSha!, at: Date.now() },
  };
  sd.save([{ path: feedFileName(o.instance), content }]);
}

/** Download, compile, plan, cross-check, judge and write: what runUpdate does once out/ is not current. */
async function updateFrom(
  o: UpdateOptions,
  sd: StateDir,
  client: Client,
  b: Before,
  latest: string,
): Promise<UpdateOutcome> {
  // compiled from what was downloaded now: a feed in the state directory is never an input
  const got = await getFeed(client, o.instance, latest, '', o.allowImplausible);
  const run = compileAndRender(
    {
      ...o.request,
      input: feedFileName(o.instance),
      inputBytes: Buffer.from(got.content),
      version: latest,
      format: 'o365',
      instance: o.instance,
    },
    { ...o.run, previousReport: b.prev, previousReportFile: join(o.outDir, REPORT_FILE) },
  );
  const plan = diffReports(b.prev, run.report, run.refusal?.message);
  const base = { version: latest, ...(b.compiledFrom ? { previousVersion: b.compiledFrom } : {}) };
  // Microsoft's own account of the change, cross-checked against the diff
  let unexplained: string | undefined;
  if (b.prev && plan.changed) {
    plan.microsoftChanges = await explainChanges(client, sd, o, b.compiledFrom, latest, plan);
    if (o.requireExplainedChanges) unexplained = unexplainedRefusal(plan.microsoftChanges);
  }
  const refusal = run.refusal?.message ?? unexplained;
  if (refusal) {
    if (!run.refusal) plan.refused = refusal;
    writePlan(o, plan);
    return { status: 'refused', ...base, plan, reason: refusal };
  }
  // the plan first: a plan that cannot be written leaves out/ as it was
  writePlan(o, plan);
  if (!plan.changed && b.same) {
    rememberUnchanged(o, sd, b, latest, got.content);
    return { status: 'unchanged', ...base, plan };
  }
  const written = writeArtifactsAtomically(o.outDir, run.artifacts, {
    remove: run.stale,
    locked: true,
    marker: REPORT_FILE,
    owns: ownedOutputName,
  });
  // recorded only once out/ holds it: a refused or failed version is never the state's version
  recordFeed(sd, o.instance, latest, '', got.content);
  return { status: 'written', ...base, plan, run, written };
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
      const b = before(o, sd, prev, latest);
      const reason = currentReason(o, sd, b, latest);
      if (reason) return { status: 'current', version: latest, reason };
      return await updateFrom(o, sd, client, b, latest);
    } finally {
      sd.release();
    }
  } finally {
    outLock.release();
  }
}
