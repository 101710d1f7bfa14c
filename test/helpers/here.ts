/**
 * `m365fw compile …` and `m365fw plan …` in this process: the command line parsed by the CLI's
 * own commander options (src/cli/options.ts) and run by its command, stdout, stderr and the exit
 * code caught. The files and output are those of the CLI, so the tests' real-tool checks also
 * judge the library's code in this process (npm run mutate sees a mutant only in-process; a
 * spawned CLI runs dist/). The CLI as shipped (bin, bundle, streams) stays tested by the tests
 * that spawn it; test/here.test.ts shows the two write the same.
 */
import { Command } from 'commander';
import { compileCommand } from '../../src/cli/commands/compile.js';
import { planCommand } from '../../src/cli/commands/plan.js';
import { addCompileCommandOptions, addPlanCommandOptions } from '../../src/cli/options.js';
import { fail } from '../../src/cli/commands/fail.js';

type Result = { code: number; stdout: string; stderr: string };

/** Replace a stream's write for the duration of f (the prototype's comes back after). */
function capture(stream: NodeJS.WriteStream, sink: (s: string) => void): () => void {
  const own = Object.getOwnPropertyDescriptor(stream, 'write');
  Object.defineProperty(stream, 'write', {
    configurable: true,
    writable: true,
    value: (s: string | Uint8Array) => {
      sink(String(s));
      return true;
    },
  });
  return () => {
    if (own) Object.defineProperty(stream, 'write', own);
    else delete (stream as { write?: unknown }).write;
  };
}

/** Like runCli([command, ...]) for compile and plan, in-process. */
export function runHere(args: readonly string[]): Result {
  const [name, ...rest] = args;
  if (name !== 'compile' && name !== 'plan') throw new Error(`runHere: not for ${name}`);
  let stdout = '',
    stderr = '';
  const cmd = (name === 'compile' ? addCompileCommandOptions : addPlanCommandOptions)(
    new Command(name),
  )
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  const code = process.exitCode;
  const restore = [
    capture(process.stdout, (s) => (stdout += s)),
    capture(process.stderr, (s) => (stderr += s)),
  ];
  try {
    process.exitCode = undefined;
    cmd.parse(rest, { from: 'user' });
    if (name === 'compile') compileCommand(cmd.opts());
    else planCommand(cmd.opts(), (key) => cmd.getOptionValueSource(key) === 'cli');
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } catch (e) {
    // a usage error commander has already printed; anything else as the CLI prints it (fail())
    if ((e as { code?: string }).code?.startsWith('commander.')) return { code: 1, stdout, stderr };
    fail(e);
    return { code: Number(process.exitCode), stdout, stderr };
  } finally {
    for (const r of restore) r();
    process.exitCode = code;
  }
}

/** Like runCli(['compile', ...args]), in-process. */
export const compileHere = (args: readonly string[]): Result => runHere(['compile', ...args]);
