import {
  applyOutput,
  APPLY_TARGETS,
  confirmNow,
  terminalText,
  type ApplyTarget,
} from '../../index.js';
import { UsageError } from './common.js';
import { text } from '../../index.js';
import { finish } from './fail.js';

/** m365fw apply: exit 0 applied, 1 rolled back (or an error), 2 nothing to apply. */
export async function applyCommand(o: Record<string, unknown>): Promise<void> {
  const out = String(o.out);
  const confirmDir = o.confirmDir as string | undefined;
  if (o.confirmNow) {
    confirmNow(out, confirmDir);
    process.stdout.write(`confirmed the apply waiting on ${terminalText(out)}\n`);
    return finish(0);
  }
  const target = o.target as string | undefined;
  if (!target || !(APPLY_TARGETS as readonly string[]).includes(target))
    throw new UsageError(
      `--target ${JSON.stringify(target ?? '')}: one of ${APPLY_TARGETS.join(', ')}`,
    );
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new UsageError('apply loads rules into the kernel: run it as root, on the host');
  let checkConnect: { host: string; port: number } | undefined;
  if (o.checkConnect !== undefined) {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text(o.checkConnect));
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535)
      throw new UsageError(
        `--check-connect ${JSON.stringify(o.checkConnect)}: HOST:PORT ([IPv6]:PORT)`,
      );
    checkConnect = { host: m[1].replace(/^\[|\]$/g, ''), port };
  }
  const seconds = (flag: string, v: unknown, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^[0-9]+$/.test(text(v)) || n < 1 || n > max)
      throw new UsageError(`${flag} ${JSON.stringify(v)}: whole seconds from 1 to ${max}`);
    return n;
  };
  const timeout = seconds('--check-timeout', o.checkTimeout, 600) ?? 5;
  const log = (l: string) => process.stderr.write(`m365fw apply: ${terminalText(l)}\n`);
  const r = await applyOutput({
    target: target as ApplyTarget,
    outDir: out,
    ...(o.checkCmd !== undefined ? { checkCmd: text(o.checkCmd) } : {}),
    ...(checkConnect ? { checkConnect } : {}),
    checkTimeoutMs: timeout * 1000,
    ...(o.confirm !== undefined ? { confirmSeconds: seconds('--confirm', o.confirm, 3600) } : {}),
    ...(confirmDir ? { confirmDir } : {}),
    log,
  });
  switch (r.status) {
    case 'applied':
      process.stdout.write(`${terminalText(r.detail)}\n`);
      return finish(0);
    case 'nothing':
      process.stdout.write(`${terminalText(r.reason)}\n`);
      return finish(2);
    case 'rolled-back':
      process.stdout.write(`rolled back to the ruleset before: ${terminalText(r.reason)}\n`);
      process.stderr.write(`error: rolled back: ${terminalText(r.reason)}\n`);
      return finish(1);
  }
}
