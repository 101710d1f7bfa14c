import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh temporary directory, removed when the test file ends (test/setup/cleanup.ts). */
export function tmpDir(prefix = 'tmp'): string {
  const d = mkdtempSync(join(tmpdir(), `m365fw-${prefix}-`));
  made.push(d);
  return d;
}

/** Remove every directory tmp() made so far. */
export function removeTmp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
