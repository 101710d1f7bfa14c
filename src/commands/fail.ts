/** Print "error: …" (one line) and exit 1. */
export function fail(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`error: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
  if (process.env.M365FW_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
