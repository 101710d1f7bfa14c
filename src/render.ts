/**
 * The per-target passes, the same for built-in and plugin targets: options (raw → typed, strict),
 * fit (the generic limits), render, files (names checked), provenance (the writer's header in each
 * file's comment style) and unenforced (URL entries the target's capabilities cannot enforce).
 */
import type { Finding, RuleModel } from './model.js';
import { withProvenance } from './io/provenance.js';
import type { TargetRun } from './report/report.js';
import { REPORT_FILE } from './report/report.js';
import { portsText } from './net/ports.js';
import { ValueError } from './values.js';
import { showValue } from './errors.js';
import type { Target, TargetFile } from '../targets/define.js';
import { TargetLimitError } from '../targets/types.js';

/** A file name a target may write in --out: plain, no directory, none of the writer's own. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface RenderInput {
  /** options by key (optionKey: "nftTable", "ipset"), as the CLI or a library caller gives them */
  options: Readonly<Record<string, unknown>>;
  provenance: readonly string[];
  previousInventory?: Record<string, unknown>;
  /** the file previousInventory came from, for refusals */
  previousReport?: string;
  /** a plugin's errors become one clear line; a built-in target's bugs keep their stack */
  plugin?: boolean;
}

/** The generic limits a target declares (rules, prefixes), checked on the merged model. */
export function fitPass(t: Target, model: RuleModel): void {
  const { rules, prefixes } = t.limits;
  if (rules !== undefined && model.rules.length > rules)
    throw new TargetLimitError(
      t.name,
      `${model.rules.length} rules exceed the ${rules} it holds by ${model.rules.length - rules}; narrow the input`,
    );
  const n = model.rules.reduce((k, r) => k + r.prefixes.count, 0);
  if (prefixes !== undefined && n > prefixes)
    throw new TargetLimitError(
      t.name,
      `${n} prefixes (already merged) exceed the ${prefixes} it holds by ${n - prefixes}; narrow the input`,
    );
}

/** URL entries of a kind the target cannot express: reported once per entry, unless it did so itself. */
export function unenforcedPass(t: Target, model: RuleModel, own: readonly Finding[]): Finding[] {
  const { fqdn, wildcard } = t.capabilities;
  if (fqdn && wildcard) return [];
  const reported = new Set(
    own.filter((f) => f.kind === 'unenforced' || f.kind === 'dropped').map((f) => f.entry),
  );
  const out: Finding[] = [];
  for (const u of model.urlRules)
    for (const e of u.entries) {
      const entry = `${e.host} ${u.bucket.protocol}/${portsText(u.bucket.ports)}`;
      if ((e.kind === 'fqdn' ? fqdn : wildcard) || reported.has(entry)) continue;
      out.push({
        kind: 'unenforced',
        target: t.name,
        setIds: e.setIds,
        entry,
        detail:
          !fqdn && !wildcard
            ? `${t.name} matches IP prefixes only; URL entries are not enforced`
            : `${t.name} cannot match ${e.kind === 'fqdn' ? 'exact host names' : 'wildcard host names'}; not enforced`,
      });
    }
  return out;
}

/**
 * The model as a target sees it: without ingress rules unless its capabilities say it renders
 * them (each withheld rule reported as unenforced, never rendered as egress).
 */
export function directionPass(
  t: Target,
  model: RuleModel,
): { model: RuleModel; findings: Finding[] } {
  if (t.capabilities.ingress || !model.rules.some((r) => r.direction === 'ingress'))
    return { model, findings: [] };
  const findings: Finding[] = model.rules
    .filter((r) => r.direction === 'ingress')
    .map((r) => ({
      kind: 'unenforced',
      target: t.name,
      setIds: r.provenance.setIds,
      entry: r.key,
      detail: `${t.name} renders egress only; the ingress rule (${r.prefixes.count} source prefixes, ${r.bucket.protocol}/${portsText(r.bucket.ports) || 'any'}) is not rendered`,
    }));
  return {
    model: { ...model, rules: model.rules.filter((r) => r.direction !== 'ingress') },
    findings,
  };
}

/** Every pass for one target: what it writes, what it found, what it enforces. */
export function renderTarget(t: Target, full: RuleModel, input: RenderInput): TargetRun {
  const { model, findings: withheld } = directionPass(t, full);
  const fail = (m: string): never => {
    throw new TargetLimitError(t.name, m);
  };
  let options: Record<string, unknown>;
  try {
    options = t.parseOptions(input.options);
  } catch (e) {
    if (e instanceof ValueError) return fail(e.message);
    throw e;
  }
  fitPass(t, model);
  let result: ReturnType<Target['render']>;
  try {
    result = t.render(model, options, {
      provenance: input.provenance,
      ...(input.previousInventory ? { previousInventory: input.previousInventory } : {}),
      ...(input.previousReport ? { previousReport: input.previousReport } : {}),
    });
  } catch (e) {
    if (e instanceof TargetLimitError) throw e;
    if (e instanceof ValueError) return fail(e.message);
    if (input.plugin)
      return fail(`the plugin target failed: ${showValue((e as Error)?.message ?? e)}`);
    throw e;
  }
  // a plugin's result is checked like untrusted input before anything is written
  const listed: unknown = (result as { files?: unknown } | undefined)?.files;
  if (!Array.isArray(listed))
    return fail('render returned no files list ({ files: [{ path, body, comment }] })');
  const files = listed as (TargetFile | undefined)[];
  const seen = new Set<string>();
  for (const f of files) {
    if (!f || typeof f.path !== 'string' || !FILE_NAME.test(f.path) || f.path === REPORT_FILE)
      return fail(
        `file name ${showValue(f?.path)}: a plain name inside --out ([A-Za-z0-9._-], no directory, not ${REPORT_FILE})`,
      );
    if (!t.files.test(f.path))
      fail(
        `file name ${showValue(f.path)} is not one of the names it declares (files: ${String(t.files)})`,
      );
    if (seen.has(f.path)) fail(`two files named ${f.path}`);
    seen.add(f.path);
    if (typeof f.body !== 'string' && !Array.isArray(f.body)) fail(`${f.path}: body is not text`);
    if (!f.comment || typeof f.comment !== 'object') fail(`${f.path}: no comment style`);
  }
  const artifacts = (files as TargetFile[]).map((f) => withProvenance(f, input.provenance));
  const own = [...(result.findings ?? [])];
  const findings = [...withheld, ...own, ...unenforcedPass(t, model, own)];
  return {
    name: t.name,
    artifacts,
    findings,
    enforces: result.enforces ?? { rules: model.rules.map((r) => r.key), names: [] },
    ...(result.inventory ? { inventory: result.inventory } : {}),
  };
}
