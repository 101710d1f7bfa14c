import type { Artifact, Finding, RuleModel } from '../src/model.js';

/** What a target can express; anything else is reported, never approximated silently. */
export interface Capabilities {
  /** exact host names as destinations */
  fqdn: boolean;
  /** *.domain wildcards as destinations */
  wildcard: boolean;
  /** one rule may hold IPv4 and IPv6 together */
  mixedFamilies: boolean;
  /** port ranges a-b */
  portRanges: boolean;
}

/** A CLI option a target contributes (the CLI registers them from the registry). */
export interface TargetOption {
  flags: string;
  description: string;
  defaultValue?: string | boolean;
  choices?: readonly string[];
  /** Strict check of a given value (throws with what is valid); the CLI binds it to the flag's argParser. */
  parse?: (value: string) => string;
}

export interface RenderContext {
  /** Provenance lines (tool version, input hash, instance, options), already safe for any comment. */
  header: string[];
  /** Parsed CLI options (camelCase keys as commander gives them). */
  options: Record<string, unknown>;
  /**
   * What this target recorded in the previous run's report (its `inventory`), to remove on the
   * device what this run no longer has. Untrusted: a target validates it before use.
   */
  previousInventory?: Record<string, unknown>;
}

export interface TargetOutput {
  artifacts: Artifact[];
  findings: Finding[];
  /** The names this run puts on the device, kept in the report for the next run's removals. */
  inventory?: Record<string, unknown>;
  /**
   * What the output enforces after merging: the model rules (by key) whose prefixes it matches and
   * the URL entries ("host proto/ports") it enforces. Absent: every rule, no URL entry. The guards
   * (empty, --max-removal) judge this, per target.
   */
  enforces?: Enforced;
}

export interface Enforced {
  rules: string[];
  names: string[];
}

/** One backend. Limits are named constants that tests refer to. */
export interface Target {
  readonly name: string;
  readonly summary: string;
  readonly capabilities: Capabilities;
  readonly limits: Readonly<Record<string, number>>;
  readonly options: readonly TargetOption[];
  /** Options without which the target cannot render (camelCase key and flag): named explicitly it
   * fails; under `--target all` it is skipped and the report says why. */
  readonly requires?: readonly { key: string; flag: string }[];
  /** Pure: model in, artifacts out. Throws TargetLimitError when the model cannot fit. */
  render(model: RuleModel, ctx: RenderContext): TargetOutput;
}

/** The model cannot be rendered within a target's limits: the run fails and writes nothing. */
export class TargetLimitError extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(`${target}: ${message}`);
  }
}
