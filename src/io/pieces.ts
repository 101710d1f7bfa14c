/**
 * Large outputs as UTF-8 pieces. A million-prefix run writes two files of several MB each; kept
 * as pieces they are encoded once, hashed piece by piece and written with one writev, instead of
 * being copied into one big string, flattened and encoded again. Fresh memory is not free: every
 * page first touched costs a page fault, and those were a good part of such a run's time.
 */
import type { Artifact } from '../model.js';

/** Builds a text from strings and ready-made byte runs; adjacent strings are encoded together. */
export class Pieces {
  private readonly parts: Uint8Array[] = [];
  private pending: string[] = [];

  add(x: string | Uint8Array): this {
    if (typeof x === 'string') {
      if (x) this.pending.push(x);
      return this;
    }
    this.flush();
    if (x.length) this.parts.push(x);
    return this;
  }

  done(): Uint8Array[] {
    this.flush();
    return this.parts;
  }

  private flush(): void {
    if (this.pending.length) this.parts.push(Buffer.from(this.pending.join(''), 'utf8'));
    this.pending = [];
  }
}

/** An artifact whose bytes are `pieces`; its `content` string is decoded only if someone reads it. */
export function piecesArtifact(path: string, pieces: Uint8Array[]): Artifact {
  let text: string | undefined;
  return {
    path,
    pieces,
    get content(): string {
      return (text ??= Buffer.concat(pieces).toString('utf8'));
    },
  };
}

/** An artifact's UTF-8 pieces: its own, or its content encoded once (and kept). */
export function artifactPieces(a: Artifact): readonly Uint8Array[] {
  return (a.pieces ??= [Buffer.from(a.content, 'utf8')]);
}

/** A Buffer view of a piece (no copy), for Buffer's search methods. */
const view = (p: Uint8Array): Buffer => Buffer.from(p.buffer, p.byteOffset, p.length);

/** Total byte length of pieces. */
export const piecesLength = (pieces: readonly Uint8Array[]): number =>
  pieces.reduce((n, p) => n + p.length, 0);

/** Whether the pieces start with a UTF-8 BOM or hold a CR LF pair anywhere (also across pieces). */
export function hasBomOrCrlf(pieces: readonly Uint8Array[]): boolean {
  const head: number[] = [];
  for (const p of pieces) {
    for (let i = 0; i < p.length && head.length < 3; i++) head.push(p[i]);
    if (head.length === 3) break;
  }
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return true;
  let lastWasCr = false;
  for (const p of pieces) {
    if (!p.length) continue;
    if (lastWasCr && p[0] === 10) return true;
    const b = view(p);
    for (let at = b.indexOf(13); at >= 0; at = b.indexOf(13, at + 1))
      if (b[at + 1] === 10) return true;
    lastWasCr = p[p.length - 1] === 13;
  }
  return false;
}

/** Where `line` (latin1) first appears in the pieces taken as one text (also across pieces), or -1. */
export function indexOfInPieces(pieces: readonly Uint8Array[], line: string): number {
  const needle = Buffer.from(line, 'latin1'),
    L = needle.length;
  let base = 0;
  for (let i = 0; i < pieces.length; i++) {
    const p = view(pieces[i]);
    // a match wholly inside this piece comes before any that starts here and runs on
    const inside = p.indexOf(needle);
    if (inside >= 0) return base + inside;
    const from = Math.max(0, p.length - L + 1);
    const window: Uint8Array[] = [p.subarray(from)];
    for (let j = i + 1, need = L - 1; j < pieces.length && need > 0; j++) {
      const q = pieces[j].subarray(0, need);
      window.push(q);
      need -= q.length;
    }
    const at = Buffer.concat(window).indexOf(needle);
    if (at >= 0) return base + from + at;
    base += p.length;
  }
  return -1;
}
