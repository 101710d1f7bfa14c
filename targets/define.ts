/**
 * The target contract: `defineTarget({name, capabilities, limits, options, render})`.
 *
 * A target declares typed options (flag, description, default, validation); the CLI registers
 * them with commander (help grouped per target) and the library takes the same keys. `render`
 * gets the rule model and validated, typed options, and returns files as `{path, body, comment}`
 * plus findings: the common passes add what every target needs (the provenance header in the
 * file's comment style, the content hash of the body, URL entries its capabilities cannot
 * enforce, the generic limits), so a plugin target gets the same guarantees as a built-in one.
 */
import type { CommentStyle, Enforcement, Finding, RuleModel } from '../src/model.js';

export type { Enforcement };

export type { CommentStyle };
import { showValue } from '../src/errors.js';
import { parseCount, ValueError } from '../src/values.js';
import type { Capabilities, Enforced } from './types.js';

/** One option of a target: how the CLI shows it and how a raw value becomes a typed one. */
export interface OptionSpec<T> {
  /** commander flag syntax: "--nft-table <name>", "--panos-ip-edl", "--no-ipset" */
  readonly flag: string;
  readonly description: string;
  /** the default as the CLI shows it (parse gets it when the option is not given) */
  readonly default?: string | boolean;
  readonly choices?: readonly string[];
  /** raw value (a CLI string, true/false, or a library caller's value) → typed; throws ValueError */
  readonly parse: (raw: unknown) => T;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec<unknown>>>;
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never;
};

/** "--nft-table <name>" → "nftTable"; "--no-ipset" → "ipset": the key commander and the library use. */
export function optionKey(spec: Pick<OptionSpec<unknown>, 'flag'>): string {
  const long = spec.flag.split(/[ ,]/)[0].replace(/^--(no-)?/, '');
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
const flagName = (flag: string) => flag.split(/[ ,]/)[0];

/** Option builders: each validates strictly and names the flag and the value in its error. */
export const option = {
  /** Text with a default; `check` returns what is wrong with a value, or undefined. */
  text(
    flag: string,
    description: string,
    d: string,
    check?: (v: string) => string | undefined,
  ): OptionSpec<string> {
    return {
      flag,
      description,
      default: d,
      parse: (raw) => {
        const v = raw === undefined ? d : raw;
        if (typeof v !== 'string') throw new ValueError(`${flagName(flag)} ${showValue(v)}: text`);
        const why = check?.(v);
        if (why) throw new ValueError(`${flagName(flag)} ${showValue(v)}: ${why}`);
        return v;
      },
    };
  },
  /** Text without a default: undefined when not given. */
  optionalText(
    flag: string,
    description: string,
    check?: (v: string) => string | undefined,
  ): OptionSpec<string | undefined> {
    return {
      flag,
      description,
      parse: (raw) => {
        if (raw === undefined) return undefined;
        if (typeof raw !== 'string')
          throw new ValueError(`${flagName(flag)} ${showValue(raw)}: text`);
        const why = check?.(raw);
        if (why) throw new ValueError(`${flagName(flag)} ${showValue(raw)}: ${why}`);
        return raw;
      },
    };
  },
  /** A whole number in [min, max] (decimal digits only: no 1e3, 0x64 or ""). */
  integer(
    flag: string,
    description: string,
    d: number,
    min: number,
    max: number,
  ): OptionSpec<number> {
    return {
      flag,
      description,
      default: String(d),
      parse: (raw) => parseCount(flagName(flag), raw === undefined ? String(d) : raw, min, max),
    };
  },
  /** One of a closed set; with a default it always has a value. */
  choice<C extends string>(
    flag: string,
    description: string,
    choices: readonly C[],
    d: C,
  ): OptionSpec<C> {
    return {
      flag,
      description,
      default: d,
      choices,
      parse: (raw) => {
        const v = raw === undefined ? d : raw;
        if (!choices.includes(v as C))
          throw new ValueError(`${flagName(flag)} ${showValue(v)}: one of ${choices.join(', ')}`);
        return v as C;
      },
    };
  },
  optionalChoice<C extends string>(
    flag: string,
    description: string,
    choices: readonly C[],
  ): OptionSpec<C | undefined> {
    return {
      flag,
      description,
      choices,
      parse: (raw) => {
        if (raw === undefined) return undefined;
        if (!choices.includes(raw as C))
          throw new ValueError(`${flagName(flag)} ${showValue(raw)}: one of ${choices.join(', ')}`);
        return raw as C;
      },
    };
  },
  /** A switch: "--panos-ip-edl" (default false) or "--no-ipset" (default true). */
  flag(flag: string, description: string): OptionSpec<boolean> {
    const negated = flag.startsWith('--no-');
    return {
      flag,
      description,
      parse: (raw) => {
        if (raw === undefined) return negated;
        if (typeof raw !== 'boolean')
          throw new ValueError(`${flagName(flag)} ${showValue(raw)}: true or false`);
        return raw;
      },
    };
  },
};

/** A file a target renders: the body alone; the writer adds the provenance in `comment` style. */
export interface TargetFile {
  /** a plain relative name in --out: [A-Za-z0-9._-], no directories */
  readonly path: string;
  /** text, or UTF-8 pieces for large files */
  readonly body: string | readonly Uint8Array[];
  readonly comment: CommentStyle;
  /**
   * The body as it says this run alone, when it also holds steps from the previous run (PAN-OS
   * deletes): the content hash, and so plan, use this, so the same model is "no change".
   */
  readonly stableBody?: string;
}

export interface RenderResult {
  files: readonly TargetFile[];
  findings?: readonly Finding[];
  /** the names this run puts on the device, kept in the report for the next run's removals */
  inventory?: Record<string, unknown>;
  /**
   * What the output enforces after merging (model rule keys, URL entries "host proto/ports").
   * Absent: every rule, and the URL entries its capabilities say it enforces.
   */
  enforces?: Enforced;
  /** what the output enforces once loaded (its mode, one sentence, and whether it is inert) */
  enforcement?: Enforcement;
}

export interface RenderContext {
  /** the previous run's inventory of this target (report.json: untrusted, validate before use) */
  readonly previousInventory?: Record<string, unknown>;
  /** where previousInventory was read from ("out/report.json"), for the messages that refuse it */
  readonly previousReport?: string;
  /** the provenance lines (already safe in any comment), for formats that carry them as data */
  readonly provenance: readonly string[];
}

/** Generic limits the common fit pass checks before render; anything else is the target's own. */
export interface GenericLimits {
  /** most rules the target's output may hold */
  readonly rules?: number;
  /** most prefixes over all its rules */
  readonly prefixes?: number;
}

export interface TargetDefinition<O extends OptionSpecs> {
  readonly name: string;
  readonly summary: string;
  readonly capabilities: Capabilities;
  readonly limits: GenericLimits & Readonly<Record<string, number>>;
  readonly options: O;
  /** options it cannot render without: named explicitly it fails; under `--target all` it is skipped */
  readonly requires?: readonly (keyof O & string)[];
  /**
   * The names of the files it writes. Only such names of an earlier run are ever removed from
   * --out (what a report.json read back lists is untrusted). Default: NAME… or m365fw-NAME…
   */
  readonly files?: RegExp;
  render(model: RuleModel, options: OptionValues<O>, context: RenderContext): RenderResult;
}

/** A target as the compiler holds it: the definition with its option types erased. */
export interface Target {
  readonly name: string;
  readonly summary: string;
  readonly capabilities: Capabilities;
  readonly limits: GenericLimits & Readonly<Record<string, number>>;
  readonly options: OptionSpecs;
  readonly requires?: readonly string[];
  /** the names of the files it writes (render is held to them; stale files are removed only so) */
  readonly files: RegExp;
  /** Raw options (by optionKey) → typed, or a ValueError naming the flag. */
  parseOptions(raw: Readonly<Record<string, unknown>>): Record<string, unknown>;
  render(model: RuleModel, options: Record<string, unknown>, context: RenderContext): RenderResult;
}

const TARGET_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** A target's file names unless it declares its own: "pf-….txt", "m365fw-pf.conf". */
export const defaultFiles = (name: string): RegExp =>
  new RegExp(`^(?:m365fw-)?${name.replace(/-/g, '\\-')}[._-][A-Za-z0-9._-]*$`);

/** Check a definition and give it the erased shape the compiler, the CLI and plugins share. */
export function defineTarget<O extends OptionSpecs>(def: TargetDefinition<O>): Target {
  if (!TARGET_NAME.test(def.name))
    throw new Error(
      `target name ${showValue(def.name)}: lower-case letters, digits and "-", starting with a letter`,
    );
  for (const [k, spec] of Object.entries(def.options)) {
    if (!/^--[a-z][a-z0-9-]*( <[a-z-]+>)?$/.test(spec.flag))
      throw new Error(`target ${def.name}: option ${k} has the flag ${showValue(spec.flag)}`);
    if (typeof spec.parse !== 'function')
      throw new Error(`target ${def.name}: option ${k} has no parse function`);
  }
  if (def.files !== undefined && !(def.files instanceof RegExp))
    throw new Error(`target ${def.name}: files must be a RegExp of the file names it writes`);
  for (const r of def.requires ?? [])
    if (!(r in def.options)) throw new Error(`target ${def.name}: requires unknown option ${r}`);
  return {
    name: def.name,
    summary: def.summary,
    capabilities: def.capabilities,
    limits: def.limits,
    options: def.options,
    requires: def.requires,
    files: def.files ?? defaultFiles(def.name),
    parseOptions(raw) {
      const out: Record<string, unknown> = {};
      for (const [k, spec] of Object.entries(def.options))
        out[k] = spec.parse(raw[optionKey(spec)]);
      return out;
    },
    render: (model, options, context) => def.render(model, options as OptionValues<O>, context),
  };
}
