/** A progress line on stderr when it is a terminal; nothing at all when piped. */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
): ((phase: string, done?: number, total?: number) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  return (phase, done, total) => {
    const now = Date.now();
    // at most ten frames a second, but every phase's first and last frame
    if (done !== undefined && total && done > 0 && done < total && now - last < 100) return;
    last = now;
    const width = 30;
    // a phase announced without figures has not measured anything yet: 0 % (except "done")
    const frac = total ? Math.min(1, (done ?? 0) / total) : phase === 'done' ? 1 : 0;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    stream.write(`\r${phase.padEnd(6)} [${bar}] ${Math.round(frac * 100)}%`);
    if (phase === 'done') stream.write('\r\x1b[K');
  };
}
