import { existsSync } from 'node:fs';
import { InputError, showValue } from '../errors.js';
import { parseState, STATE_FILE } from '../sources/state.js';
import { compareIds } from '../sources/o365json.js';
import { dirname, join } from 'node:path';
import type { CompileOptions, EndpointSet, Finding, InputInfo, RuleModel } from '../model.js';
import type { PortRange } from '../net/ports.js';
import { parseO365Feed } from '../sources/o365json.js';
import { readPrefixListFile } from '../sources/prefixlist.js';
import { readInput } from '../sources/read.js';
import { applyPolicy, loadPolicy } from '../sources/policy.js';
import { buildRules } from './build.js';
import { filterSets } from './filter.js';
import { guardImplausible, guardPublicSuffix } from './guards.js';

export interface CompileRequest {
  input: string;
  format?: 'o365' | 'prefixes';
  policy?: string;
  options: CompileOptions;
  tcpPorts?: PortRange[];
  udpPorts?: PortRange[];
  instance?: string;
  onProgress?: (phase: string, done?: number, total?: number) => void;
}

/** Instance and version recorded by `m365fw fetch` next to a feed it saved, if this is that feed. */
function fetchedMeta(path: string, sha256: string): { instance?: string; version?: string } {
  const state = join(dirname(path), STATE_FILE);
  if (!existsSync(state)) return {};
  // validated like every read of the state: its strings reach headers, the report and the plan
  const s = parseState(state);
  for (const [instance, v] of Object.entries(s.instances))
    if (v?.sha256 === sha256) return { instance, version: v.version };
  return {};
}

/** Read, validate, filter and bucket: everything up to the rule model. Pure but for the reads. */
export function compileModel(req: CompileRequest): RuleModel {
  let input: InputInfo;
  let sets: EndpointSet[];
  let name: string;
  if (req.format === 'prefixes') {
    req.onProgress?.('read', 0, 1);
    const list = readPrefixListFile(req.input, {
      tcpPorts: req.tcpPorts ?? [],
      udpPorts: req.udpPorts ?? [],
      onProgress: (d, t) => req.onProgress?.('read', d, t),
    });
    name = list.name;
    input = { file: list.name, sha256: list.sha256, format: 'prefixes' };
    sets = [list.set];
  } else {
    const file = readInput(req.input);
    name = file.name;
    input = { file: file.name, sha256: file.sha256, format: 'o365-json' };
    const feed = parseO365Feed(file);
    sets = feed.sets;
    const fetched = fetchedMeta(req.input, file.sha256);
    const instance = req.instance ?? feed.meta.instance ?? fetched.instance;
    const version = feed.meta.version ?? fetched.version;
    if (instance) input.instance = instance;
    if (version) input.version = version;
  }
  const findings: Finding[] = [];
  if (req.policy) {
    const policy = loadPolicy(req.policy);
    input.policy = { file: policy.file, sha256: policy.sha256 };
    const applied = applyPolicy(sets, policy);
    sets = applied.sets;
    findings.push(...applied.findings);
  }
  // after the policy's excludes (which carry a reason); only the feed's own sets are judged
  if (req.format !== 'prefixes') {
    guardImplausible(name, sets, req.options.allowImplausible);
    guardPublicSuffix(name, sets, req.options.allowImplausible);
  }
  // a filter value that matches nothing is a typo until shown otherwise: name what the input has
  const has = (vals: string[], what: string, flag: string, want: string[] | undefined) => {
    for (const w of want ?? []) {
      if (!vals.some((v) => v.toLowerCase() === w.toLowerCase())) {
        throw new InputError(
          name,
          `${flag} ${showValue(w)} matches no endpoint set; the ${what} in the input: ${[...new Set(vals)].sort().join(', ') || 'none'}`,
        );
      }
    }
  };
  has(
    sets.map((s) => s.serviceArea),
    'service areas',
    '--service-areas',
    req.options.serviceAreas,
  );
  has(
    sets.map((s) => s.category),
    'categories',
    '--categories',
    req.options.categories,
  );
  // the model's order is the ids', never the input's
  sets = [...sets].sort((a, b) => compareIds(a.id, b.id));
  const setsIn = sets.length;
  const kept = filterSets(sets, req.options);
  const built = buildRules(kept, req.onProgress);
  findings.push(...built.findings);
  return {
    input,
    options: req.options,
    sets: kept,
    rules: built.rules,
    urlRules: built.urlRules,
    findings,
    stats: {
      setsIn,
      setsKept: kept.length,
      prefixesIn: {
        v4: kept.reduce((n, s) => n + s.prefixes.v4.given, 0),
        v6: kept.reduce((n, s) => n + s.prefixes.v6.given, 0),
      },
      prefixesMerged: {
        v4: built.rules.filter((r) => r.family === 4).reduce((n, r) => n + r.prefixes.count, 0),
        v6: built.rules.filter((r) => r.family === 6).reduce((n, r) => n + r.prefixes.count, 0),
      },
    },
  };
}
