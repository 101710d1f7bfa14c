import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileAndRender, guardFirstRun, readPreviousReport } from '../../index.js';
import { openOutputDir, writeArtifactsAtomically } from '../../index.js';
import { diffReports, planMarkdown } from '../../index.js';
import { compileRequestFrom, runOptionsFrom } from './common.js';
import { optionKey, resolveTargets, type Target } from '../../index.js';
import { finish } from './fail.js';
import { terminalText } from '../../index.js';
import { text } from '../../index.js';

/**
 * The options a previous run recorded, as command-line values, for what was not given here: a
 * plan compares like with like unless told otherwise. Returns the merged options and the flags
 * taken from the report.
 */
export function withRecordedOptions(
  o: Record<string, unknown>,
  recorded: Record<string, unknown>,
  given: (key: string) => boolean,
): { options: Record<string, unknown>; used: string[] } {
  const out = { ...o };
  const used: string[] = [];
  const take = (key: string, flag: string, value: unknown, shown = value) => {
    if (given(key) || value === undefined) return;
    out[key] = value;
    const word = typeof shown === 'string' ? shown : JSON.stringify(shown);
    // as a shell would take it back
    used.push(
      shown === true
        ? flag
        : `${flag} ${/^[\w.,:/@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`}`,
    );
  };
  const r = recorded;
  const join = (v: unknown) => (Array.isArray(v) ? v.join(',') : undefined);
  take('target', '--target', join(r.targets));
  take('serviceAreas', '--service-areas', join(r.serviceAreas));
  take('categories', '--categories', join(r.categories));
  if (r.requiredOnly === true) take('requiredOnly', '--required-only', true);
  if (r.expressRouteOnly === true) take('expressRouteOnly', '--express-route-only', true);
  if (r.noIpv6 === true) take('ipv6', '--no-ipv6', false, true);
  if (r.noIpv4 === true) take('ipv4', '--no-ipv4', false, true);
  if (typeof r.tenant === 'string') take('tenant', '--tenant', r.tenant);
  if (typeof r.direction === 'string') take('direction', '--direction', r.direction);
  // an override (--allow-implausible) is never taken from a file: it is given, or the guard stands
  const ingress = r.ingress as { local?: unknown; presets?: unknown } | undefined;
  take('local', '--local', join(ingress?.local));
  if (Array.isArray(ingress?.presets))
    take('preset', '--preset', ingress.presets, join(ingress.presets));
  if (r.timestamp !== undefined) take('timestamp', '--timestamp', true);
  // the chosen targets' own options, by the key their flags have; a value equal to the default is
  // taken without a word
  let chosen: Target[] = [];
  try {
    chosen = resolveTargets(typeof out.target === 'string' ? out.target : 'nftables');
  } catch {
    /* a bad --target is said by runOptionsFrom, once */
  }
  for (const t of chosen)
    for (const spec of Object.values(t.options)) {
      const key = optionKey(spec);
      const value = r[key];
      if (given(key) || value === undefined || value === o[key]) continue;
      if (typeof value !== 'string' && typeof value !== 'boolean') continue;
      const flag = spec.flag.split(' ')[0];
      take(key, flag, value, typeof value === 'boolean' ? true : value);
    }
  return { options: out, used };
}

/** m365fw plan: exit 0 no change, 2 changes, 1 error or refused. Writes nothing but --plan-out. */
export function planCommand(
  o: Record<string, unknown>,
  given: (key: string) => boolean = () => true,
): void {
  const dir = String(o.previous);
  let previous;
  if (existsSync(dir)) {
    const lock = openOutputDir(dir, 'previous output directory', { readOnly: true });
    try {
      previous = readPreviousReport(dir);
    } finally {
      lock.release();
    }
  }
  // what the previous run was compiled with, unless given here: said on stderr
  if (previous) {
    const r = withRecordedOptions(o, previous.options, given);
    o = r.options;
    if (r.used.length)
      process.stderr.write(
        `plan: options recorded in ${terminalText(join(dir, 'report.json'))}: ${terminalText(r.used.join(' '))} (options given here win)\n`,
      );
    if (previous.options.allowImplausible !== undefined && !given('allowImplausible'))
      process.stderr.write(
        `plan: the previous run was given --allow-implausible; this plan is not (an override is never read from a file): give it to compare with that run\n`,
      );
    if (previous.input.policy && !o.policy)
      process.stderr.write(
        `plan: the previous run used the policy ${terminalText(previous.input.policy.file)}; this plan uses none (give --policy to compare with it)\n`,
      );
  }
  const runOptions = runOptionsFrom(o);
  const req = compileRequestFrom(o, false);
  guardFirstRun(dir, previous, runOptions);
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
