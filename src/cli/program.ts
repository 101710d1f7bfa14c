import { Command, Help, Option } from 'commander';
import { pathToFileURL } from 'node:url';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { registerPlugin, TARGETS, terminalText, TOOL_VERSION } from '../index.js';
import { fail, tolerateClosedPipes } from './commands/fail.js';
import {
  addCompileCommandOptions,
  addCompileOptions,
  addTargetOptions,
  addPlanCommandOptions,
  instanceArg,
  maxRemovalArg,
  maxRemovalHelp,
  firstRunHelp,
  allowWeakerHelp,
  mibArg,
  optionsError,
  secondsArg,
} from './options.js';

tolerateClosedPipes();

/**
 * --target-module FILE (repeatable): plugin targets, loaded before the options are parsed so that
 * their flags exist. A module exports one target (default export) or a list of them.
 */
/** The commands that render targets: the only ones a plugin module is loaded for. */
const RENDERING = new Set(['compile', 'plan', 'update']);

async function loadPlugins(argv: readonly string[]): Promise<void> {
  // the command is the first word after the script: any other command never runs a plugin's code
  // (commander then refuses --target-module as an option it does not have)
  if (!RENDERING.has(argv[2] ?? '')) return;
  const files: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--target-module' && argv[i + 1] !== undefined) files.push(argv[i + 1]);
    else if (a.startsWith('--target-module=')) files.push(a.slice('--target-module='.length));
  });
  for (const file of files) {
    const shown = terminalText(file, 200);
    let mod: { default?: unknown };
    // a FIFO or a device would block or stream forever: a module is a regular file
    let st;
    try {
      st = statSync(resolve(file));
    } catch (e) {
      throw new Error(
        `--target-module ${shown}: cannot read it (${terminalText((e as NodeJS.ErrnoException).code ?? String(e), 60)})`,
        { cause: e },
      );
    }
    if (!st.isFile()) throw new Error(`--target-module ${shown}: not a regular file`);
    try {
      mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
    } catch (e) {
      throw new Error(
        `--target-module ${shown}: cannot load it (${terminalText(String((e as Error)?.message ?? e), 300)})`,
        { cause: e },
      );
    }
    const exported = Array.isArray(mod.default) ? (mod.default as unknown[]) : [mod.default];
    for (const t of exported) registerPlugin(t, `--target-module ${shown}`);
  }
}
let pluginsLoaded = true;
try {
  await loadPlugins(process.argv);
} catch (e) {
  // exit 1 with the one line, stdout and stderr drained (never process.exit)
  fail(e);
  pluginsLoaded = false;
}

const program = new Command();
// commander quotes the bad value in its usage errors: escaped like every other line we print
program.configureOutput({
  outputError: (str, write) => write(`${terminalText(str.trim().replace(/\s*\n\s*/g, ' '))}\n`),
});
program
  .name('m365fw')
  .description('Compile the Microsoft 365 endpoint feed into firewall rules')
  .version(TOOL_VERSION);
/** Thrown by commander instead of exiting, so that help and usage errors drain like any output. */
class CommanderExit extends Error {
  constructor(readonly code: number) {
    super('commander exit');
  }
}
program.exitOverride((err) => {
  const ok =
    err.code === 'commander.helpDisplayed' ||
    err.code === 'commander.version' ||
    err.code === 'commander.help';
  // `m365fw` alone shows the help as an error (exit 1); --help and --version exit 0
  throw new CommanderExit(ok ? err.exitCode : 1);
});
// required options say so in every command's help
program.configureHelp({
  optionDescription: (o) => `${o.mandatory ? '(required) ' : ''}${new Help().optionDescription(o)}`,
});

/** --base-url, or M365FW_BASE_URL (a mirror, a test's stand-in) when the flag is not given. */
function baseUrlOption(): Option {
  return new Option('--base-url <url>', 'web service base URL')
    .env('M365FW_BASE_URL')
    .default('https://endpoints.office.com');
}

const compile = program
  .command('compile')
  .description('compile a feed into rules for one or more targets (exit 0 written, 1 error)');
addCompileCommandOptions(compile);
compile.action((o: Record<string, unknown>) =>
  import('./commands/compile.js').then((m) => m.compileCommand(o)).catch(fail),
);

const plan = program
  .command('plan')
  .description(
    'what a compile would change against a previous output directory (exit 0 none, 2 changes, 1 error)',
  );
addPlanCommandOptions(plan);
plan.action((o: Record<string, unknown>) =>
  import('./commands/plan.js')
    .then((m) => m.planCommand(o, (key) => plan.getOptionValueSource(key) === 'cli'))
    .catch(fail),
);

program
  .command('fetch')
  .description(
    'download the feed from the web service when its version changed (exit 0 unchanged, 2 new data, 1 error)',
  )
  .requiredOption('--instance <name>', 'Worldwide, China, USGovDoD or USGovGCCHigh', instanceArg)
  .requiredOption(
    '--state <dir>',
    'state directory: feed, version and client request id (created if missing)',
  )
  .addOption(baseUrlOption())
  .option(
    '--force',
    'download the endpoints even when the version is unchanged (also accepts an older version)',
  )
  .option('--service-areas <list>', 'ServiceAreas passed to the service')
  .option('--tenant <name>', 'TenantName passed to the service')
  .option('--no-ipv6', 'NoIPv6=true passed to the service')
  .option('--allow-implausible [classes]', 'accept implausible entries in the downloaded feed')
  .option('--timeout <seconds>', 'per-request timeout', secondsArg, '8')
  .option('--max-body <MiB>', 'largest response body accepted, after decompression', mibArg, '64')
  .action((o: Record<string, unknown>) =>
    import('./commands/fetch.js').then((m) => m.fetchCommand(o)).catch(fail),
  );

const update = program
  .command('update')
  .description(
    'version check, download, plan, guards and write as one step (exit 0 current, 2 rewritten, 1 error or refused)',
  );
update
  .requiredOption('--instance <name>', 'Worldwide, China, USGovDoD or USGovGCCHigh', instanceArg)
  .requiredOption(
    '--state <dir>',
    'state directory: downloaded feed and client request id (created if missing)',
  )
  .requiredOption('--out <dir>', 'output directory; its report.json is the version of record')
  .option(
    '--plan-out <dir>',
    'write plan.json and plan.md here (on changes, and with the verdict when refused)',
  )
  .option('--max-removal <limit>', maxRemovalHelp, maxRemovalArg)
  .option('--first-run', firstRunHelp)
  .option('--allow-weaker-enforcement', allowWeakerHelp)
  .addOption(baseUrlOption())
  .option(
    '--force',
    'download and recompile even when out/ is current (also accepts an older version)',
  )
  .option('--timeout <seconds>', 'per-request timeout', secondsArg, '8')
  .option('--max-body <MiB>', 'largest response body accepted, after decompression', mibArg, '64')
  .option(
    '--require-explained-changes',
    "refuse (exit 1, nothing written) when a change that affects enforcement (addresses, URLs, ports, category, required, expressRoute, service area) is explained by none of Microsoft's /changes records, or the records cannot be fetched",
  );
// the options an hourly run needs come first in its help; the filters and targets after them
addCompileOptions(update, false);
update.action((o: Record<string, unknown>) =>
  import('./commands/update.js').then((m) => m.updateCommand(o)).catch(fail),
);
addTargetOptions(update, [...TARGETS.values()]);

const dns = program
  .command('dns')
  .description('DNS records a custom domain needs for Microsoft 365, per cloud instance');
const dnsCommon = (c: Command) =>
  c
    .option('--instance <name>', 'Worldwide, China, USGovGCCHigh or USGovDoD', 'Worldwide')
    .option(
      '--services <list>',
      'verification, mail, auth, sfb, teams-federation, mdm, dkim, dmarc (default: what the instance requires)',
    )
    .option('--mx-token <label>', 'your MX token from the admin center (else a placeholder)')
    .option(
      '--verification <value>',
      'your domain verification value, MS=ms######## (else a placeholder)',
    )
    .option(
      '--dkim-selector1 <name>',
      'your Selector1CNAME (Get-DkimSigningConfig; else a placeholder)',
    )
    .option('--dkim-selector2 <name>', 'your Selector2CNAME')
    .option(
      '--dmarc-policy <p>',
      'none, quarantine or reject (records: default none; check: the live p= must be this one, else any of the three)',
    )
    .option('--json', 'JSON output');
dnsCommon(
  dns
    .command('records <domain>')
    .description('print the records, as BIND zone lines (--format bind), JSON or octoDNS YAML'),
)
  .option('--format <format>', 'bind, json or octodns', 'bind')
  .action((d: string, o: Record<string, unknown>) =>
    import('./commands/dns.js').then((m) => m.dnsRecordsCommand(d, o)).catch(fail),
  );
dnsCommon(
  dns
    .command('check <domain>')
    .description(
      'resolve every record and judge it ok/missing/wrong/unexpected (exit 0 all ok, 2 not, 1 error)',
    ),
)
  .option('--resolver <host:port>', "DNS server to ask (default: the system's)")
  .action((d: string, o: Record<string, unknown>) =>
    import('./commands/dns.js').then((m) => m.dnsCheckCommand(d, o)).catch(fail),
  );

program
  .command('apply')
  .description(
    'load an output on this host (root) with a health check and a confirmation window; anything short of both restores the ruleset before (exit 0 applied, 1 rolled back, 2 nothing to apply)',
  )
  .requiredOption('--out <dir>', 'the output directory (its report.json and files)')
  .option('--target <name>', 'nftables or iptables')
  .option('--check-cmd <command>', 'a shell command that exits 0 when the host still works')
  .option('--check-connect <host:port>', 'a TCP connection that must succeed after loading')
  .option('--check-timeout <seconds>', 'how long the check may take', '5')
  .option(
    '--confirm <seconds>',
    'after the check, wait this long for `m365fw apply --confirm-now`; no confirmation rolls back',
  )
  .option('--confirm-now', 'confirm the apply waiting on --out (from a second session)')
  .option('--confirm-dir <dir>', 'where apply and --confirm-now meet', '/run/m365fw')
  .action((o: Record<string, unknown>) =>
    import('./commands/apply.js').then((m) => m.applyCommand(o)).catch(fail),
  );

program
  .command('targets')
  .description('list the targets and their capabilities')
  .action(() => {
    for (const t of TARGETS.values()) {
      const caps =
        Object.entries(t.capabilities)
          .filter(([, v]) => v)
          .map(([k]) => k)
          .join(', ') || 'IP only';
      process.stdout.write(
        `${t.name.padEnd(20)} ${t.summary}\n                     capabilities: ${caps}\n`,
      );
    }
  });

program
  .command('presets')
  .description(
    'list the ingress presets: the endpoint sets (per instance) and ports each one takes from the feed, and where Microsoft documents it',
  )
  .option('--json', 'as JSON')
  .action((o: { json?: boolean }) =>
    import('./commands/presets.js').then((m) => m.presetsCommand(o)).catch(fail),
  );

const startupError = optionsError();
if (startupError) fail(startupError);
else if (pluginsLoaded)
  program.parseAsync(process.argv).catch((e: unknown) => {
    if (e instanceof CommanderExit) process.exitCode = e.code;
    else fail(e);
  });
