/**
 * The per-target passes, the same for built-in and plugin targets: options (raw → typed, strict),
 * fit (the generic limits), render, files (names checked), provenance (the writer's header in each
 * file's comment style) and unenforced (URL entries the target's capabilities cannot enforce).
 */
import type { CommentStyle, Enforcement, Finding, FindingKind, RuleModel } from '../model.js';
import { withProvenance } from '../io/provenance.js';
import type { TargetRun } from '../report/report.js';
import { REPORT_FILE } from '../report/report.js';
import { portsText } from '../net/ports.js';
import { ValueError } from '../values.js';
import { showValue } from '../errors.js';
import type { Target, TargetFile } from '../../targets/define.js';
import { TargetLimitError } from '../../targets/types.js';

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
 * The IP rules a target's output leaves out of what it enforces, and did not report itself: each
 * one is an unenforced finding (a plugin that renders only IPv4, say, is never silent about IPv6).
 */
export function unenforcedRules(
  t: Target,
  model: RuleModel,
  enforced: readonly string[],
  own: readonly Finding[],
): Finding[] {
  const done = new Set(enforced);
  const reported = new Set(
    own.filter((f) => f.kind === 'unenforced' || f.kind === 'dropped').map((f) => f.entry),
  );
  return model.rules
    .filter((r) => !done.has(r.key) && !reported.has(r.key))
    .map((r) => ({
      kind: 'unenforced' as const,
      target: t.name,
      setIds: r.provenance.setIds,
      entry: r.key,
      detail: `${t.name} does not enforce this rule (its output leaves it out)`,
    }));
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

const FINDING_KINDS: ReadonlySet<string> = new Set<FindingKind>([
  'dropped',
  'widened',
  'unenforced',
  'excluded',
  'override',
  'unmatched-exclude',
  'split',
  'inert',
]);
const SHORT = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

function isCommentStyle(c: unknown): c is CommentStyle {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return false;
  const o = c as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  return (
    (keys === 'line' && (o.line === '#' || o.line === '//')) ||
    (keys === 'xml' && o.xml === true) ||
    (keys === 'none' && o.none === true) ||
    ((keys === 'json' || keys === 'join,json') &&
      Array.isArray(o.json) &&
      o.json.every((k) => SHORT(k, 64) && /^[\x20-\x7e]+$/.test(k)) &&
      (o.join === undefined || SHORT(o.join, 8)))
  );
}

/** A target's own findings, checked like untrusted input: they go into report.json. */
function checkFindings(t: Target, raw: unknown, fail: (m: string) => never): Finding[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return fail(`findings ${showValue(raw)} is not a list`);
  return raw.map((f: unknown, i) => {
    const at = `findings[${i}]`;
    if (!f || typeof f !== 'object' || Array.isArray(f))
      return fail(`${at} ${showValue(f)} is not an object`);
    const x = f as Record<string, unknown>;
    if (typeof x.kind !== 'string' || !FINDING_KINDS.has(x.kind))
      fail(`${at}.kind ${showValue(x.kind)} is not one of ${[...FINDING_KINDS].join(', ')}`);
    if (!SHORT(x.detail, 2000) || x.detail === '')
      fail(`${at}.detail ${showValue(x.detail)} is not a text of 1 to 2000 characters`);
    if (x.target !== undefined && x.target !== t.name)
      fail(`${at}.target ${showValue(x.target)} is not ${t.name}`);
    if (x.entry !== undefined && !SHORT(x.entry, 1000))
      fail(`${at}.entry ${showValue(x.entry)} is not a text of at most 1000 characters`);
    if (
      x.setIds !== undefined &&
      !(Array.isArray(x.setIds) && x.setIds.every((id) => SHORT(id, 64)))
    )
      fail(`${at}.setIds ${showValue(x.setIds)} is not a list of set ids`);
    return {
      kind: x.kind as FindingKind,
      ...(x.target !== undefined ? { target: t.name } : {}),
      ...(x.setIds !== undefined ? { setIds: [...x.setIds] } : {}),
      ...(x.entry !== undefined ? { entry: x.entry } : {}),
      detail: x.detail,
    };
  });
}

const MODES: ReadonlySet<string> = new Set<Enforcement['mode']>([
  'default-deny',
  'service',
  'allow-only',
  'integration',
  'routing',
  'unstated',
]);

/** The target's statement of what its output enforces; a plugin that makes none is "unstated". */
function checkEnforcement(t: Target, raw: unknown, fail: (m: string) => never): Enforcement {
  if (raw === undefined)
    return {
      mode: 'unstated',
      text: `${t.name} does not state what its output enforces; check its documentation`,
      inert: false,
    };
  if (!raw || typeof raw !== 'object')
    return fail(`enforcement ${showValue(raw)}: mode is not one of ${[...MODES].join(', ')}`);
  const { mode, text, inert } = raw as Record<string, unknown>;
  if (typeof mode !== 'string' || !MODES.has(mode))
    return fail(`enforcement ${showValue(raw)}: mode is not one of ${[...MODES].join(', ')}`);
  // one line: no C0 control (a line break would forge a summary line)
  if (!SHORT(text, 1000) || text === '' || [...text].some((c) => c.charCodeAt(0) < 0x20))
    return fail(`enforcement.text ${showValue(text)} is not one line of 1 to 1000 characters`);
  if (typeof inert !== 'boolean')
    return fail(`enforcement.inert ${showValue(inert)} is not true or false`);
  return { mode: mode as Enforcement['mode'], text, inert };
}

/** What a target says it enforces may only narrow the model: rule keys it has, URL entries as text. */
function checkEnforces(
  model: RuleModel,
  raw: unknown,
  fail: (m: string) => never,
): { rules: string[]; names: string[] } {
  if (raw === undefined) return { rules: model.rules.map((r) => r.key), names: [] };
  const bad = () =>
    fail(`enforces ${showValue(raw)} is not { rules: [rule keys], names: [URL entries] }`);
  if (!raw || typeof raw !== 'object') return bad();
  const { rules, names } = raw as Record<string, unknown>;
  if (!Array.isArray(rules) || !Array.isArray(names)) return bad();
  const keys = new Set(model.rules.map((r) => r.key));
  rules.forEach((k: unknown, i: number) => {
    if (typeof k !== 'string' || !keys.has(k))
      fail(`enforces.rules[${i}] ${showValue(k)} is not a rule of the model`);
  });
  names.forEach((n: unknown, i: number) => {
    if (!SHORT(n, 600)) fail(`enforces.names[${i}] ${showValue(n)} is not a URL entry`);
  });
  return { rules: [...(rules as string[])], names: [...(names as string[])] };
}

/** An inventory goes into report.json as JSON: plain data, bounded, read back by the next run. */
function checkInventoryShape(raw: unknown, fail: (m: string) => never): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return fail(`inventory ${showValue(raw)} is not an object`);
  let text: string;
  try {
    text = JSON.stringify(raw);
  } catch (e) {
    return fail(`inventory is not JSON data (${showValue((e as Error).message)})`);
  }
  if (text.length > 64 << 20) fail(`inventory is larger than ${64 << 20} bytes as JSON`);
  const copy = JSON.parse(text) as Record<string, unknown>;
  // what JSON.stringify drops silently (functions, undefined, symbols) would not read back the same
  const deep = (a: unknown, b: unknown, path: string, depth: number): void => {
    if (depth > 64) fail(`inventory nests deeper than 64 levels`);
    if (a === null || typeof a === 'string' || typeof a === 'boolean') return;
    if (typeof a === 'number') {
      if (!Number.isFinite(a))
        fail(`inventory${path} ${showValue(String(a))} is not a JSON number`);
      return;
    }
    if (typeof a !== 'object' || b === undefined)
      fail(`inventory${path} is not JSON data (${typeof a})`);
    for (const k of Object.keys(a))
      deep(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
        depth + 1,
      );
  };
  deep(raw, copy, '', 0);
  return copy;
}

/** A target's files as it returned them, checked like untrusted input before anything is written. */
function checkFiles(t: Target, result: unknown, fail: (m: string) => never): TargetFile[] {
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
    for (const [field, body] of [
      ['body', f.body],
      ['stableBody', f.stableBody],
    ] as const) {
      if (field === 'stableBody' && body === undefined) continue;
      if (
        typeof body !== 'string' &&
        !(Array.isArray(body) && body.every((p) => p instanceof Uint8Array))
      )
        fail(`${f.path}: ${field} is not text (a string, or a list of Uint8Array pieces)`);
    }
    if (!isCommentStyle(f.comment))
      fail(
        `${f.path}: comment ${showValue(f.comment)} is not a comment style ({line: "#"|"//"}, {xml: true}, {json: [keys]}, {none: true})`,
      );
  }
  return files as TargetFile[];
}

/** The target's own render, its errors as one target's refusal (a plugin's failure said as such). */
function callRender(
  t: Target,
  model: RuleModel,
  options: Record<string, unknown>,
  input: RenderInput,
  fail: (m: string) => never,
): ReturnType<Target['render']> {
  try {
    return t.render(model, options, {
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
  const result = callRender(t, model, options, input, fail);
  // a plugin's result is checked like untrusted input before anything is written
  const artifacts = checkFiles(t, result, fail).map((f) => withProvenance(f, input.provenance));
  const own = checkFindings(t, result.findings, fail);
  const enforcement = checkEnforcement(t, result.enforcement, fail);
  const enforces = checkEnforces(model, result.enforces, fail);
  const findings = [
    ...withheld,
    ...own,
    ...unenforcedPass(t, model, own),
    ...unenforcedRules(t, model, enforces.rules, own),
    // an output that enforces nothing by itself is said once, in the report and the summary
    ...(enforcement.inert
      ? [{ kind: 'inert' as const, target: t.name, detail: enforcement.text }]
      : []),
  ];
  return {
    name: t.name,
    artifacts,
    findings,
    enforces,
    enforcement,
    ...(result.inventory !== undefined
      ? { inventory: checkInventoryShape(result.inventory, fail) }
      : {}),
  };
}
