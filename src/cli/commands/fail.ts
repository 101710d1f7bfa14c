import { terminalText } from '../../index.js';

/** Print "error: …" (one escaped line) and set exit code 1; the process ends once output drained. */
export function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`error: ${terminalText(msg.replace(/\s*\n\s*/g, ' '))}\n`);
  if (process.env.M365FW_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
}

/** End the command with `code` once stdout and stderr drained (never process.exit: it cuts pipes). */
export function finish(code: number): void {
  process.exitCode = code;
}

/** A reader that went away (`| head`, `| true`) ends output quietly; the exit code stays earned. */
export function tolerateClosedPipes(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}
