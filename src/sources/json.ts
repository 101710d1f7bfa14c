/**
 * Exact JSON for untrusted inputs: JSON.parse lets the last of two equal keys win silently and
 * recurses without bound. Inputs are first read by momoa (a JSON parser that keeps the document's
 * structure) to refuse duplicate keys and deep nesting with an error naming the place.
 */
import { createRequire } from 'node:module';
import { InputError } from '../errors.js';
import { INPUT_LIMITS } from './read.js';

interface Node {
  type: string;
  loc?: { start: { line: number; column: number } };
  members?: { name: { value: string; loc?: Node['loc'] }; value: Node }[];
  elements?: { value: Node }[];
}
type Momoa = {
  parse(text: string, o?: { mode?: string; ranges?: boolean; tokens?: boolean }): { body: Node };
};
let momoa: Momoa | undefined;

/** Parse JSON text strictly: duplicate keys and nesting deeper than the limit are errors. */
export function parseExactJson(
  name: string,
  text: string,
  maxDepth: number = INPUT_LIMITS.maxDepth,
): unknown {
  momoa ??= createRequire(import.meta.url)('@humanwhocodes/momoa') as Momoa;
  // the nesting is bounded before any recursive parser sees it (momoa's and JSON.parse's recurse)
  let depth = 0,
    inString = false,
    escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92) escaped = true;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > maxDepth)
        throw new InputError(name, `JSON nested deeper than ${maxDepth} levels; refusing it`);
    } else if (c === 93 || c === 125) depth--;
  }
  let doc: { body: Node };
  try {
    doc = momoa.parse(text, { mode: 'json', ranges: false, tokens: false });
  } catch (e) {
    throw new InputError(name, `malformed JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const walk = (n: Node, path: string) => {
    if (n.type === 'Object') {
      const seen = new Set<string>();
      for (const m of n.members ?? []) {
        if (seen.has(m.name.value)) {
          const at = m.name.loc
            ? ` at line ${m.name.loc.start.line} column ${m.name.loc.start.column}`
            : '';
          throw new InputError(
            name,
            `duplicate key ${JSON.stringify(m.name.value)} in ${path || 'the top-level object'}${at} (JSON keeps only one; refusing to guess which)`,
          );
        }
        seen.add(m.name.value);
        walk(m.value, `${path}.${m.name.value}`);
      }
    } else if (n.type === 'Array')
      (n.elements ?? []).forEach((e, i) => walk(e.value, `${path}[${i}]`));
  };
  walk(doc.body, '');
  return JSON.parse(text) as unknown;
}
