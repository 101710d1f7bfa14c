/**
 * The compile options as commander options (compile, plan and update share them), every target's
 * own options in a help group per target, and the value checkers: no side effects, so that a
 * test can parse a compile command line in-process exactly as the CLI does.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  IMPLAUSIBLE_CLASSES,
  INSTANCES,
  parseChoice,
  parseDecimal,
  parseMaxRemoval,
  TARGETS,
  type OptionSpec,
  type Target,
} from '../index.js';

/** A value checker as commander's argParser: a bad value is its usage error, naming what is valid. */
function strictly(f: (v: string) => unknown): (v: string) => string {
  return (v) => {
    try {
      f(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    return v;
  };
}
export const maxRemovalArg = strictly((v) => parseMaxRemoval(v));
export const instanceArg = strictly((v) => parseChoice('--instance', v, INSTANCES));
export const secondsArg = strictly((v) => parseDecimal('--timeout', v, 0.1, 60));
export const mibArg = strictly((v) => parseDecimal('--max-body', v, 1, 4096));

/** A target option whose flag another option already has (reported once parsing would start). */
let takenError: Error | undefined;
export const optionsError = (): Error | undefined => takenError;

export const allowWeakerHelp =
  'let a target whose previous output was a default deny (--nft-policy drop, --ipt-final, --nsg-deny) now enforce less';
export const firstRunHelp =
  'with --max-removal: the output directory holds m365fw files but no report.json, and that is expected (a first run into it)';
export const maxRemovalHelp =
  'refuse when, for a target, more than this share (10%) or count of what it enforced before would disappear';

/** `m365fw plan`'s options: the shared ones, --previous, --max-removal, --json and --plan-out. */
export function addPlanCommandOptions(cmd: Command): Command {
  addCompileOptions(cmd);
  cmd.requiredOption('--previous <dir>', 'directory of the previous run (its report.json)');
  cmd.option('--max-removal <limit>', maxRemovalHelp, maxRemovalArg);
  cmd.option('--first-run', firstRunHelp);
  cmd.option('--allow-weaker-enforcement', allowWeakerHelp);
  cmd.option('--json', 'print the JSON plan instead of Markdown');
  cmd.option('--plan-out <dir>', 'also write plan.json and plan.md here');
  addTargetOptions(cmd, [...TARGETS.values()]);
  return cmd;
}

/** `m365fw compile`'s options: the shared ones, --out and --max-removal. */
export function addCompileCommandOptions(cmd: Command): Command {
  addCompileOptions(cmd);
  cmd.requiredOption('--out <dir>', 'output directory (created if missing)');
  cmd.option('--max-removal <limit>', maxRemovalHelp, maxRemovalArg);
  cmd.option('--first-run', firstRunHelp);
  cmd.option('--allow-weaker-enforcement', allowWeakerHelp);
  addTargetOptions(cmd, [...TARGETS.values()]);
  return cmd;
}

/** Options shared by compile and plan: input, filters, guards and every target's own options. */
export function addCompileOptions(cmd: Command, input = true): Command {
  if (input) {
    cmd
      .requiredOption(
        '--input <file>',
        'feed in the web service /endpoints format (or a prefix list, see --input-format)',
      )
      .addOption(
        new Option('--input-format <format>', 'input format')
          .choices(['o365', 'prefixes'])
          .default('o365'),
      )
      .option(
        '--instance <name>',
        'instance the feed came from, for provenance (Worldwide, China, USGovDoD, USGovGCCHigh)',
        instanceArg,
      )
      .option('--tcp-ports <ports>', 'prefix lists: TCP ports to allow ("80,443")')
      .option('--udp-ports <ports>', 'prefix lists: UDP ports to allow');
  }
  cmd
    .option('--policy <file>', 'YAML policy: your own endpoint sets and excludes')
    .option(
      '--target <names>',
      `target(s), comma-separated, or all (${[...TARGETS.keys()].join(', ')})`,
      'nftables',
    )
    .option(
      '--service-areas <list>',
      'keep only these service areas (comma-separated, case-insensitive)',
    )
    .option('--categories <list>', 'keep only these categories (Optimize,Allow,Default)')
    .option('--required-only', 'keep only required endpoint sets')
    .option('--express-route-only', 'keep only endpoint sets routed over ExpressRoute')
    .option('--no-ipv6', 'drop IPv6 prefixes')
    .option('--no-ipv4', 'drop IPv4 prefixes')
    .option(
      '--direction <dir>',
      'egress (to Microsoft 365; the default), ingress (from its prefixes to your side) or both',
    )
    .option(
      '--preset <names>',
      'ingress presets (m365fw presets): their endpoint sets and ports make the ingress rules; repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--local <prefixes>',
      'ingress: the local destinations (comma-separated CIDRs); default any local address',
    )
    .option(
      '--tenant <name>',
      'substitute the tenant placeholder in URLs (autodiscover.*.onmicrosoft.com)',
    )
    .option(
      '--allow-implausible [classes]',
      `let implausible feed entries through (all, or a list of: ${IMPLAUSIBLE_CLASSES.join(', ')})`,
    )
    .option('--allow-empty', 'write even when a target would enforce nothing')
    .option(
      '--timestamp',
      'add the generation time to every artifact header (breaks byte-identical output)',
    )
    .option('--no-progress', 'no progress bar on stderr')
    .option(
      '--target-module <file>',
      'load plugin targets from this ES module (made with defineTarget from the m365fw package); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    );
  // the targets' options come last (addTargetOptions), once the command's own flags are known
  return cmd;
}

/**
 * Every target's options as commander options, in a help group per target. An option several
 * targets share (azure-nsg and terraform-azure-nsg) is registered once; a plugin's flag that
 * clashes with another one is an error.
 */
export function addTargetOptions(cmd: Command, targets: readonly Target[]): void {
  const owners = new Map<OptionSpec<unknown>, string[]>();
  // every flag of the command, and commander's own: a target option must not shadow any of them
  const core = new Set([...cmd.options.map((o) => o.long), '--help', '--version']);
  const byFlag = new Map<string, OptionSpec<unknown>>();
  for (const t of targets)
    for (const o of Object.values(t.options)) {
      const long = o.flag.split(' ')[0];
      const known = byFlag.get(long);
      if (core.has(long) || (known && known !== o)) {
        // reported once parsing would start: one line, exit 1 (a throw here would be a stack trace)
        takenError ??= new Error(`target ${t.name}: option ${long} is already taken`);
        continue;
      }
      byFlag.set(long, o);
      owners.set(o, [...(owners.get(o) ?? []), t.name]);
    }
  for (const [o, names] of owners) {
    const opt = new Option(o.flag, o.description).helpGroup(`Options of ${names.join(', ')}:`);
    if (o.choices) opt.choices(o.choices);
    if (o.default !== undefined) opt.default(o.default);
    // checked as given (one clear line on a bad value); the target gets the typed value
    if (o.flag.includes('<')) opt.argParser(strictly((v) => o.parse(v)));
    cmd.addOption(opt);
  }
}
