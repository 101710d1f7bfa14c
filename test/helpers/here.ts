/**
 * `m365fw compile …` in this process: the command line parsed by the CLI's own commander options
 * (src/cli/options.ts) and run by its compile command, stdout and the exit code caught. The
 * files are those the CLI writes, so the target tests' real-tool checks also judge the library's
 * code in this process (npm run mutate sees a mutant only in-process; a spawned CLI runs dist/).
 * The CLI as shipped (bin, bundle, exit codes, streams) stays tested by the tests that spawn it.
 */
import { Command } from 'commander';
import { compileCommand } from '../../src/cli/commands/compile.js';
import { addCompileCommandOptions } from '../../src/cli/options.js';
import { terminalText } from '../../src/index.js';

/** Like runCli(['compile', ...args]), in-process. */
export function compileHere(args: readonly string[]): {
  code: number;
  stdout: string;
  stderr: string;
} {
  let stdout = '',
    stderr = '';
  const cmd = addCompileCommandOptions(new Command('compile'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  const out = process.stdout;
  const write = Object.getOwnPropertyDescriptor(out, 'write');
  try {
    cmd.parse([...args], { from: 'user' });
    Object.defineProperty(out, 'write', {
      configurable: true,
      writable: true,
      value: (s: string | Uint8Array) => {
        stdout += String(s);
        return true;
      },
    });
    compileCommand(cmd.opts());
    return { code: 0, stdout, stderr };
  } catch (e) {
    // as the CLI's fail(): one escaped line
    const msg = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    return { code: 1, stdout, stderr: stderr || `error: ${terminalText(msg)}\n` };
  } finally {
    if (write) Object.defineProperty(out, 'write', write);
    else delete (out as { write?: unknown }).write;
  }
}
