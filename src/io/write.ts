import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact } from '../model.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Write every artifact or none: all contents go to temporary files in the output directory
 * first, and are renamed into place only when all were written.
 */
export function writeArtifactsAtomically(outDir: string, artifacts: Artifact[]): string[] {
  for (const a of artifacts) {
    if (!SAFE_NAME.test(a.path)) throw new Error(`refusing artifact path ${JSON.stringify(a.path)}`);
    if (a.content.charCodeAt(0) === 0xfeff || a.content.includes('\r\n')) throw new Error(`artifact ${a.path} is not LF-only UTF-8 without BOM`);
  }
  const names = new Set(artifacts.map((a) => a.path));
  if (names.size !== artifacts.length) throw new Error('two artifacts share a path');
  mkdirSync(outDir, { recursive: true });
  const temps: [string, string][] = [];
  try {
    for (const a of artifacts) {
      const tmp = join(outDir, `.${a.path}.${process.pid}.tmp`);
      writeFileSync(tmp, a.bytes ?? a.content, { encoding: 'utf8', mode: 0o644 });
      temps.push([tmp, join(outDir, a.path)]);
    }
  } catch (e) {
    for (const [tmp] of temps) rmSync(tmp, { force: true });
    throw e;
  }
  for (const [tmp, final] of temps) renameSync(tmp, final);
  return temps.map(([, f]) => f);
}
