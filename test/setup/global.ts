/**
 * The suite gets a temporary directory of its own (TMPDIR, inherited by the workers and every CLI
 * they start). At the end it must be empty: a test that leaves anything behind fails the run.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'm365fw-suite-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    // Node's own compile cache (the CLI enables it) is not a test's leftover
    const left = readdirSync(dir).filter((e) => e !== 'node-compile-cache');
    rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (left.length) {
      throw new Error(
        `tests left ${left.length} temporary entries behind: ${left.slice(0, 10).join(', ')}${left.length > 10 ? ' …' : ''}`,
      );
    }
  };
}
