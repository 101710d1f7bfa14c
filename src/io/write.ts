import { closeSync, mkdirSync, openSync, renameSync, rmSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact } from '../model.js';
import { artifactPieces, hasBomOrCrlf } from './pieces.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Write every artifact or none: all contents go to temporary files in the output directory
 * first, and are renamed into place only when all were written.
 */
export function writeArtifactsAtomically(outDir: string, artifacts: Artifact[]): string[] {
  for (const a of artifacts) {
    if (!SAFE_NAME.test(a.path)) throw new Error(`refusing artifact path ${JSON.stringify(a.path)}`);
    if (hasBomOrCrlf(artifactPieces(a))) throw new Error(`artifact ${a.path} is not LF-only UTF-8 without BOM`);
  }
  const names = new Set(artifacts.map((a) => a.path));
  if (names.size !== artifacts.length) throw new Error('two artifacts share a path');
  mkdirSync(outDir, { recursive: true });
  const temps: [string, string][] = [];
  try {
    for (const a of artifacts) {
      const tmp = join(outDir, `.${a.path}.${process.pid}.tmp`);
      temps.push([tmp, join(outDir, a.path)]);
      writePieces(tmp, artifactPieces(a));
    }
  } catch (e) {
    for (const [tmp] of temps) rmSync(tmp, { force: true });
    throw e;
  }
  for (const [tmp, final] of temps) renameSync(tmp, final);
  return temps.map(([, f]) => f);
}

/** Write pieces to a new file with writev (no copy into one buffer), however the kernel splits it. */
function writePieces(path: string, pieces: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    let rest = pieces.filter((p) => p.length > 0);
    while (rest.length) {
      let n = writevSync(fd, rest.slice(0, 1024));
      // drop what was written: whole pieces, then the written head of the next one
      let i = 0;
      while (i < rest.length && n >= rest[i].length) n -= rest[i++].length;
      rest = rest.slice(i);
      if (n > 0) rest[0] = rest[0].subarray(n);
    }
  } finally {
    closeSync(fd);
  }
}
