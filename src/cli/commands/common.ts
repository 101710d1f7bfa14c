import type { CompileRequest, RunOptions } from '../../index.js';
import {
  CATEGORIES,
  DIRECTIONS,
  parseCidr,
  presetNames,
  type Category,
  type CompileOptions,
  type DirectionChoice,
} from '../../index.js';
import { isDnsLabel } from '../../index.js';
import { parsePortString } from '../../index.js';
import { SERVICE_AREA } from '../../index.js';
import { IMPLAUSIBLE_CLASSES, parseMaxRemoval } from '../../index.js';
import { resolveTargets } from '../../index.js';
import { optionKey, type Target } from '../../index.js';
import { createProgress } from './progress.js';
import { INSTANCES, type Instance } from '../../index.js';
import type { FetchLimits } from '../../index.js';
import { showValue } from '../../index.js';
import { text } from '../../index.js';

/** A usage error: exit 1 with one line on stderr. */
export class UsageError extends Error {}

const list = (s: string | undefined) =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

/** The filters of a compile (service areas, categories, flags, tenant), validated. */
function filterOptions(o: Record<string, unknown>): CompileOptions {
  const areas = list(o.serviceAreas as string | undefined);
  for (const a of areas ?? [])
    if (!SERVICE_AREA.test(a))
      throw new UsageError(`--service-areas: invalid name ${JSON.stringify(a)}`);
  const cats = list(o.categories as string | undefined);
  for (const c of cats ?? [])
    if (!CATEGORIES.includes(c as Category))
      throw new UsageError(`--categories: ${JSON.stringify(c)} is not Optimize, Allow or Default`);
  const tenant = o.tenant as string | undefined;
  if (tenant !== undefined && !isDnsLabel(tenant))
    throw new UsageError(
      `--tenant: ${JSON.stringify(tenant)} is not a DNS label (letters, digits, hyphens; at most 63)`,
    );
  const allow = allowImplausibleFrom(o.allowImplausible);
  const options: CompileOptions = {};
  if (areas) options.serviceAreas = areas;
  if (cats) options.categories = cats as Category[];
  if (o.requiredOnly) options.requiredOnly = true;
  if (o.expressRouteOnly) options.expressRouteOnly = true;
  if (o.ipv6 === false) options.noIpv6 = true;
  if (o.ipv4 === false) options.noIpv4 = true;
  if (tenant) options.tenant = tenant.toLowerCase();
  if (allow) options.allowImplausible = allow;
  return options;
}

/** --direction, --preset and --local, validated, into the options. */
function addIngressOptions(o: Record<string, unknown>, options: CompileOptions): void {
  if (o.direction !== undefined) {
    if (!DIRECTIONS.includes(o.direction as DirectionChoice))
      throw new UsageError(
        `--direction ${showValue(o.direction)}: one of ${DIRECTIONS.join(', ')}`,
      );
    options.direction = o.direction as DirectionChoice;
  }
  const presets = (o.preset as string[] | undefined)?.flatMap((p) => list(p) ?? []);
  for (const p of presets ?? [])
    if (!presetNames().includes(p))
      throw new UsageError(
        `--preset ${showValue(p)}: one of ${presetNames().join(', ')} (m365fw presets)`,
      );
  // an empty item is not "any local address": --local "" or "a,,b" is a mistake, not a widening
  if (
    o.local !== undefined &&
    text(o.local)
      .split(',')
      .some((x) => x.trim() === '')
  )
    throw new UsageError(
      `--local ${showValue(o.local)}: an empty item; give CIDRs separated by commas (leave --local out for any local address)`,
    );
  const local = list(o.local as string | undefined)?.map((p) => {
    try {
      return parseCidr('--local', p).text;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  if (presets?.length || local?.length)
    options.ingress = {
      ...(local?.length ? { local: [...new Set(local)].sort() } : {}),
      ...(presets?.length ? { presets: [...new Set(presets)].sort() } : {}),
    };
}

/** CLI options → compile request, validated. */
export function compileRequestFrom(o: Record<string, unknown>, progress: boolean): CompileRequest {
  const options = filterOptions(o);
  const instance = o.instance === undefined ? undefined : instanceFrom(o.instance);
  if (o.maxRemoval !== undefined) {
    try {
      parseMaxRemoval(text(o.maxRemoval));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const ports = (flag: string, v: unknown) => {
    if (v === undefined) return [];
    try {
      return parsePortString(text(v));
    } catch (e) {
      throw new UsageError(`${flag}: ${(e as Error).message}`);
    }
  };
  addIngressOptions(o, options);
  const format = o.inputFormat === 'prefixes' ? 'prefixes' : 'o365';
  if (format !== 'prefixes' && (o.tcpPorts !== undefined || o.udpPorts !== undefined))
    throw new UsageError('--tcp-ports and --udp-ports apply to --input-format prefixes only');
  const req: CompileRequest = {
    input: String(o.input),
    format,
    options,
    tcpPorts: ports('--tcp-ports', o.tcpPorts),
    udpPorts: ports('--udp-ports', o.udpPorts),
  };
  if (o.policy) req.policy = text(o.policy);
  if (instance) req.instance = instance;
  if (progress) req.onProgress = createProgress();
  return req;
}

/** The target options given (each target's own flags), by camelCase key. */
export function targetOptionsFrom(
  o: Record<string, unknown>,
  targets: Target[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of targets) {
    for (const opt of Object.values(t.options)) {
      const key = optionKey(opt);
      out[key] = o[key];
    }
  }
  return out;
}

/** The targets to render; under "all", those missing a required option are skipped (and reported). */
export function targetsFrom(o: Record<string, unknown>): {
  targets: Target[];
  skipped: { target: string; reason: string }[];
} {
  const spec = text(o.target ?? 'nftables');
  let targets: Target[];
  try {
    targets = resolveTargets(spec);
  } catch (e) {
    throw new UsageError(`--target: ${(e as Error).message}`);
  }
  const skipped: { target: string; reason: string }[] = [];
  const missingOf = (t: Target) =>
    (t.requires ?? [])
      .map((r) => t.options[r])
      .filter((spec) => o[optionKey(spec)] === undefined)
      .map((spec) => spec.flag.split(' ')[0]);
  if (spec === 'all') {
    for (const t of targets) {
      const m = missingOf(t);
      if (m.length)
        skipped.push({ target: t.name, reason: `not generated: ${m.join(', ')} not given` });
    }
    targets = targets.filter((t) => missingOf(t).length === 0);
  } else {
    for (const t of targets) {
      const m = missingOf(t);
      if (m.length) throw new UsageError(`--target ${t.name} needs ${m.join(', ')}`);
    }
  }
  return { targets, skipped };
}

/** --instance for the web service: one of its four instance names (any case). */
export function instanceFrom(v: unknown): Instance {
  const instance = INSTANCES.find((i) => i.toLowerCase() === String(v).toLowerCase());
  if (!instance) throw new UsageError(`--instance ${showValue(v)}: one of ${INSTANCES.join(', ')}`);
  return instance;
}

/** A strict decimal number within [min, max] (no 1e3, 0x64 or empty string). */
export function decimalFrom(flag: string, v: unknown, min: number, max: number): number {
  const s = String(v);
  if (!/^(0|[1-9][0-9]{0,8})(\.[0-9]{1,3})?$/.test(s))
    throw new UsageError(`${flag} ${showValue(v)}: a decimal number from ${min} to ${max}`);
  const n = Number(s);
  if (n < min || n > max)
    throw new UsageError(`${flag} ${showValue(v)}: a decimal number from ${min} to ${max}`);
  return n;
}

/** --timeout and --max-body as the client's limits. */
export function fetchLimitsFrom(o: Record<string, unknown>): Partial<FetchLimits> {
  const timeout = decimalFrom('--timeout', o.timeout ?? 8, 0.1, 60);
  const mib = decimalFrom('--max-body', o.maxBody ?? 64, 1, 4096);
  return { requestTimeoutMs: timeout * 1000, maxBodyBytes: Math.round(mib * 1024 * 1024) };
}

/** --allow-implausible: true (every class) or a list of known classes. */
export function allowImplausibleFrom(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === true) return ['all'];
  const allow = list(text(v)) ?? [];
  for (const c of allow)
    if (c !== 'all' && !(IMPLAUSIBLE_CLASSES as readonly string[]).includes(c))
      throw new UsageError(
        `--allow-implausible: unknown class ${showValue(c)} (${IMPLAUSIBLE_CLASSES.join(', ')}, all)`,
      );
  return allow;
}

/** What compile, plan and update share of a run: the targets, their options and the guards. */
export function runOptionsFrom(
  o: Record<string, unknown>,
): Pick<
  RunOptions,
  'targets' | 'skipped' | 'targetOptions' | 'allowEmpty' | 'maxRemoval' | 'firstRun' | 'allowWeaker'
> {
  const { targets, skipped } = targetsFrom(o);
  return {
    targets,
    skipped,
    targetOptions: targetOptionsFrom(o, targets),
    allowEmpty: !!o.allowEmpty,
    maxRemoval: o.maxRemoval as string | undefined,
    firstRun: !!o.firstRun,
    allowWeaker: !!o.allowWeakerEnforcement,
  };
}
