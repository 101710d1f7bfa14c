/**
 * The writer's half of the target contract: a rendered body gets its provenance in the file's
 * comment style here, once, for built-in and plugin targets alike; its content hash is the hash
 * of the body (what plan compares), so provenance alone never looks like a change.
 */
import { createHash } from 'node:crypto';
import type { Artifact, CommentStyle } from '../model.js';
import { piecesArtifact } from './pieces.js';

/** Provenance lines are printable ASCII without comment delimiters; anything else is made so. */
const safe = (l: string) => l.replace(/[^\x20-\x7e]/g, '_').replace(/\*\/|-->|--/g, '__');

function sha256(body: string | readonly Uint8Array[]): string {
  const h = createHash('sha256');
  if (typeof body === 'string') h.update(body, 'utf8');
  else for (const p of body) h.update(p);
  return h.digest('hex');
}

function setPath(doc: unknown, path: readonly string[], value: unknown): void {
  let node = doc as Record<string, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (!next || typeof next !== 'object' || Array.isArray(next))
      throw new Error(`provenance path ${path.join('.')}: ${k} is not an object`);
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** The file as written: body plus provenance in its style; hashes and stable text for the report. */
export function withProvenance(
  file: {
    path: string;
    body: string | readonly Uint8Array[];
    comment: CommentStyle;
    stableBody?: string;
  },
  lines: readonly string[],
): Artifact {
  const header = lines.map(safe);
  const bodySha256 = sha256(file.stableBody ?? file.body);
  const c = file.comment;
  const text = (f: (b: string) => string, b: string | undefined) =>
    b === undefined ? undefined : f(b);
  let wrap: (b: string) => string;
  if ('none' in c) wrap = (b) => b;
  else if ('line' in c) {
    const block = header.map((l) => `${c.line} ${l}`.trimEnd()).join('\n') + '\n';
    wrap = (b) => {
      if (b.startsWith('#!')) {
        const nl = b.indexOf('\n') + 1;
        return b.slice(0, nl) + block + b.slice(nl);
      }
      return block + b;
    };
  } else if ('xml' in c) {
    const block = header.map((l) => `<!-- ${l} -->`).join('\n') + '\n';
    wrap = (b) => {
      const m = /^<\?xml[^>]*\?>\n/.exec(b);
      return m ? m[0] + block + b.slice(m[0].length) : block + b;
    };
  } else {
    wrap = (b) => {
      const doc: unknown = JSON.parse(b);
      setPath(doc, c.json, c.join === undefined ? header : header.join(c.join));
      return JSON.stringify(doc, null, 2) + '\n';
    };
  }
  const stableContent = text(wrap, file.stableBody);
  if (typeof file.body !== 'string') {
    // large bodies (pieces) take line comments only: the header is one more piece in front
    if ('json' in c || 'xml' in c)
      throw new Error(`${file.path}: a pieces body takes line comments`);
    const head = Buffer.from(
      'line' in c ? header.map((l) => `${c.line} ${l}`.trimEnd()).join('\n') + '\n' : '',
    );
    // the artifact's content is decoded lazily (a getter): set fields on it, never spread it
    const a = piecesArtifact(file.path, head.length ? [head, ...file.body] : [...file.body]);
    a.bodySha256 = bodySha256;
    if (stableContent !== undefined) a.stableContent = stableContent;
    return a;
  }
  return {
    path: file.path,
    content: wrap(file.body),
    bodySha256,
    ...(stableContent !== undefined ? { stableContent } : {}),
  };
}
