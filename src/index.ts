/**
 * m365fw as a library: every step on in-memory values (no path is read or written but by
 * writeArtifacts). The CLI is a client of these functions.
 *
 *   const feed = readFeed(json, { name: 'worldwide.json', instance: 'Worldwide' });
 *   const model = compile(feed, { serviceAreas: ['Exchange'] });
 *   const run = render(model, { targets: ['nftables'] });
 *   run.artifacts[0].content   // the nft -f file, provenance included
 */
import { InputError } from './errors.js';
import { strict as assert } from 'node:assert';
import type { CompileOptions, FindingKind, InputInfo, RuleModel, EndpointSet } from './model.js';
import { parseO365Feed } from './sources/o365json.js';
import { parsePolicy, type Policy } from './sources/policy.js';
import { inputFromBytes } from './sources/read.js';
import { initialState, runPasses } from './compile/index.js';
import { renderModel, type CompiledRun } from './run/run.js';
import { diffReports, type Plan } from './report/plan.js';
import { checkReport } from './report/previous.js';
import { REPORT_FILE, type Report } from './report/report.js';
import { writeArtifactsAtomically } from './io/write.js';
import { ownedOutputName } from './run/run.js';
import { resolveTargets, TARGETS } from '../targets/index.js';
import { optionKey, type Target } from '../targets/define.js';

export * from './model.js';
export { defineTarget, option, optionKey };
import { defineTarget, option } from '../targets/define.js';
export type {
  CommentStyle,
  GenericLimits,
  OptionSpec,
  OptionSpecs,
  OptionValues,
  RenderContext,
  RenderResult,
  Target,
  TargetDefinition,
  TargetFile,
} from '../targets/define.js';
export type { Capabilities, Enforced } from '../targets/types.js';
export { TargetLimitError } from '../targets/types.js';
export { InputError } from './errors.js';
export { GuardError } from './errors.js';
export { ValueError } from './values.js';
export type { Plan } from './report/plan.js';
export type { Report } from './report/report.js';
export type { Policy } from './sources/policy.js';
export type { CompiledRun, RunOptions } from './run/run.js';
export { planMarkdown } from './report/plan.js';
export { TOOL_VERSION } from './version.js';

/** The built-in targets, in registry order. */
export const targets: readonly Target[] = [...TARGETS.values()];

/** A feed read and validated: its endpoint sets and what is known of it. */
export interface Feed {
  name: string;
  input: InputInfo;
  sets: EndpointSet[];
}

const bytesOf = (source: unknown): Buffer =>
  typeof source === 'string'
    ? Buffer.from(source, 'utf8')
    : source instanceof Uint8Array
      ? Buffer.from(source)
      : Buffer.from(JSON.stringify(source), 'utf8');

/**
 * Validate a feed in the web service's /endpoints format: JSON text, bytes, or the parsed value
 * (an array of endpoint sets, or an object with `endpoints`). Errors name the set, field and value.
 */
export function readFeed(source: unknown, o: { name?: string; instance?: string } = {}): Feed {
  const file = inputFromBytes(o.name ?? 'feed.json', bytesOf(source));
  const feed = parseO365Feed(file);
  const input: InputInfo = { file: file.name, sha256: file.sha256, format: 'o365-json' };
  const instance = o.instance ?? feed.meta.instance;
  if (instance) input.instance = instance;
  if (feed.meta.version) input.version = feed.meta.version;
  return { name: file.name, input, sets: feed.sets };
}

/** Validate a policy (YAML text or bytes): your own endpoint sets and excludes. */
export function readPolicy(source: string | Uint8Array, o: { name?: string } = {}): Policy {
  return parsePolicy(inputFromBytes(o.name ?? 'policy.yaml', bytesOf(source)));
}

/** Run every compile pass: the rule model the targets render from. */
export function compile(feed: Feed, options: CompileOptions & { policy?: Policy } = {}): RuleModel {
  const { policy, ...opts } = options;
  return runPasses(
    initialState(
      { name: feed.name, input: feed.input, sets: feed.sets, ...(policy ? { policy } : {}) },
      opts,
    ),
  );
}

export interface RenderRequest {
  /** built-in target names, `"all"`, or targets made with defineTarget */
  targets: readonly (string | Target)[] | 'all';
  /** target options by key (optionKey of the flag: "nftTable", "nsgDeny", "ipset") */
  options?: Record<string, unknown>;
  /** the report of the output this run replaces: removals (deletes, guards) are computed from it */
  previous?: Report;
  allowEmpty?: boolean;
  /** "10%" or a count: refuse to remove more than that of what a target enforced */
  maxRemoval?: string;
  /** put this time into every header (off by default: output is byte-identical) */
  timestamp?: string;
}

/** Render the model for targets: files (report.json last), findings, and a guard's refusal if any. */
export function render(model: RuleModel, req: RenderRequest): CompiledRun {
  const list: Target[] =
    req.targets === 'all'
      ? [...TARGETS.values()]
      : req.targets.flatMap((t) => (typeof t === 'string' ? resolveTargets(t) : [t]));
  const plugins = new Set(list.filter((t) => TARGETS.get(t.name) !== t).map((t) => t.name));
  const options = req.options ?? {};
  return renderModel(model, {
    targets: list,
    targetOptions: Object.fromEntries(
      list.flatMap((t) =>
        Object.values(t.options).map((spec) => [
          optionKey(spec),
          options[optionKey(spec)] ?? spec.default,
        ]),
      ),
    ),
    plugins,
    ...(req.allowEmpty ? { allowEmpty: true } : {}),
    ...(req.maxRemoval ? { maxRemoval: req.maxRemoval } : {}),
    ...(req.previous ? { previousReport: req.previous } : {}),
    ...(req.timestamp ? { timestamp: req.timestamp } : {}),
  });
}

/** One row of a TargetTester table: a feed and options in, what the target must give out. */
export interface TargetCase {
  name: string;
  /** the feed, as readFeed takes it: /endpoints JSON text or the parsed array */
  feed: unknown;
  /** compile options (filters, ingress) */
  compile?: CompileOptions;
  /** the target's options by key ("nftTable", "pacProxy"), raw values as the CLI would pass them */
  options?: Record<string, unknown>;
  /** per file the target writes: its exact text (provenance header included), or a check that throws */
  files?: Record<string, string | ((text: string) => void)>;
  /** findings the target must report (each one present; kind, and entry when given) */
  findings?: { kind: FindingKind; entry?: string }[];
  /** what the output enforces: the rule keys and URL names, exactly (order does not matter) */
  enforces?: { rules?: string[]; names?: string[] };
  /** the run must be refused (a guard, a target limit, a bad option) with a message matching this */
  refusal?: RegExp;
}

type TestHooks = {
  describe?: (n: string, f: () => void) => void;
  it?: (n: string, f: () => void) => void;
};

/**
 * Tests for a target, the way typescript-eslint's RuleTester tests a lint rule: a table of cases,
 * each run through readFeed → compile → render as the CLI runs them. `check` runs one case and
 * throws an AssertionError naming the case; `run` registers one test per case with the describe
 * and it it is given (or the test framework's globals).
 */
export class TargetTester {
  constructor(
    readonly target: Target,
    readonly hooks: TestHooks = {},
  ) {}

  /** Run one case; its run, or undefined when it was refused as expected. */
  check(c: TargetCase): CompiledRun | undefined {
    let r: CompiledRun;
    try {
      r = render(compile(readFeed(c.feed), c.compile ?? {}), {
        targets: [this.target],
        options: c.options ?? {},
      });
    } catch (e) {
      if (!c.refusal) throw e;
      assert.match((e as Error).message, c.refusal, `${c.name}: refused otherwise`);
      return undefined;
    }
    if (r.refusal && !c.refusal) assert.fail(`${c.name}: refused: ${r.refusal.message}`);
    if (c.refusal && !r.refusal) assert.fail(`${c.name}: not refused, though the case expects it`);
    if (r.refusal && c.refusal) {
      assert.match(r.refusal.message, c.refusal, `${c.name}: the refusal`);
      return undefined;
    }
    for (const [path, want] of Object.entries(c.files ?? {})) {
      const a = r.artifacts.find((x) => x.path === path);
      assert.ok(
        a,
        `${c.name}: no file ${path} (it wrote ${r.artifacts.map((x) => x.path).join(', ')})`,
      );
      const text = a.pieces ? Buffer.concat(a.pieces).toString('utf8') : a.content;
      if (typeof want === 'string') assert.equal(text, want, `${c.name}: ${path}`);
      else want(text);
    }
    const run = r.runs.find((x) => x.name === this.target.name)!;
    for (const w of c.findings ?? [])
      assert.ok(
        run.findings.some(
          (f) => f.kind === w.kind && (w.entry === undefined || f.entry === w.entry),
        ),
        `${c.name}: no ${w.kind} finding${w.entry ? ` for ${w.entry}` : ''} (it reported ${run.findings.map((f) => `${f.kind} ${f.entry ?? ''}`).join('; ') || 'none'})`,
      );
    const sorted = (xs: readonly string[]) => [...xs].sort();
    if (c.enforces?.rules)
      assert.deepEqual(
        sorted(run.enforces.rules),
        sorted(c.enforces.rules),
        `${c.name}: enforced rules`,
      );
    if (c.enforces?.names)
      assert.deepEqual(
        sorted(run.enforces.names),
        sorted(c.enforces.names),
        `${c.name}: enforced names`,
      );
    return r;
  }

  /** Register one test per case (describe/it from the constructor, or the globals). */
  run(cases: readonly TargetCase[]): void {
    const g = globalThis as TestHooks;
    const describe = this.hooks.describe ?? g.describe;
    const it = this.hooks.it ?? g.it;
    if (!describe || !it)
      throw new Error('TargetTester.run: no describe and it (pass them, or call check yourself)');
    describe(this.target.name, () => {
      for (const c of cases) it(c.name, () => void this.check(c));
    });
  }
}

/** What a run changes against the previous report (JSON-ready; planMarkdown for people). */
export function plan(previous: Report | undefined, run: CompiledRun): Plan {
  return diffReports(previous, run.report, run.refusal?.message);
}

/** A report.json read back (untrusted: checked against its schema). */
export function parseReport(text: string, where = REPORT_FILE): Report {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(where, `not JSON: ${(e as Error).message}`);
  }
  return checkReport(doc, where);
}

/**
 * Write a run into a directory as one transaction (its files and report.json together or not at
 * all; files of the previous run this one does not write are removed). A refused run writes nothing.
 */
export function writeArtifacts(dir: string, run: CompiledRun): string[] {
  if (run.refusal) throw run.refusal;
  return writeArtifactsAtomically(dir, run.artifacts, {
    remove: run.stale,
    marker: REPORT_FILE,
    owns: ownedOutputName,
  });
}

// ---- what front ends (the CLI, scripts) use: path-based steps, parsers, escapers ----
export { TARGETS, registerPlugin, pluginTargets } from '../targets/index.js';
export {
  compileAndRender,
  editedArtifacts,
  guardFirstRun,
  ownedOutputName,
  readPreviousReport,
  renderModel,
} from './run/run.js';
export { IMPLAUSIBLE_CLASSES } from './compile/guards.js';
export { parseMaxRemoval } from './run/guards.js';
export type { CompileRequest } from './run/inputs.js';
export { resolveTargets } from '../targets/index.js';
export { asciiLower, checkDomain, type DnsLookups } from './dns/check.js';
export {
  DNS_INSTANCES,
  INSTANCE_TABLES,
  SERVICES,
  octodnsZone,
  recordsFor,
  zoneLines,
} from './dns/records.js';
export type { DnsInstance, Service, TenantValues } from './dns/records.js';
export { showValue } from './errors.js';
export { terminalText } from './escape.js';
export { openOutputDir, removeIfEmpty, writeArtifactsAtomically } from './io/write.js';
export {
  applyOutput,
  APPLY_TARGETS,
  confirmNow,
  type ApplyOptions,
  type ApplyOutcome,
  type ApplyTarget,
} from './run/apply.js';
export { isDnsLabel, isDomainName } from './net/hostname.js';
export { parsePortString } from './net/ports.js';
export { diffReports } from './report/plan.js';
export { REPORT_FILE } from './report/report.js';
export { formatSummary } from './run/summary.js';
export { fetchFeed } from './run/fetch.js';
export type { FetchLimits } from './run/fetch.js';
export { SERVICE_AREA } from './sources/o365json.js';
export { INSTANCES } from './run/state.js';
export type { Instance } from './run/state.js';
export { runUpdate } from './run/update.js';
export { parseChoice, parseDecimal, text } from './values.js';
export { presets, presetNames, type Preset } from './compile/presets.js';
export { parseCidr } from './values.js';
export { portsText } from './net/ports.js';
