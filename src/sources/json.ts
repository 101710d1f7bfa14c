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
  evaluate(node: Node): unknown;
};
let momoa: Momoa | undefined;

/**
 * One pass over the text before any recursive parser sees it (momoa's and JSON.parse's recurse):
 * the nesting is bounded, and the keys are counted. In JSON that parses, a string followed by a
 * colon is a key and every key is one, so fewer keys in the parsed value than in the text means
 * two were equal. A key spelled with an escape is flagged: V8's JSON.parse in Node 24.21 returns
 * some such keys undecoded after it has seen others ({"\u0041":1} read as {"\\":1}; test/json.test.ts).
 */
function scanJson(
  name: string,
  text: string,
  maxDepth: number,
): { keys: number; escapedKey: boolean } {
  let depth = 0,
    inString = false,
    escaped = false,
    hadEscape = false,
    afterString = false,
    escapedKey = false,
    keys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92) escaped = hadEscape = true;
      else if (c === 34) {
        inString = false;
        afterString = true;
      }
      continue;
    }
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    if (c === 58 && afterString) {
      keys++;
      if (hadEscape) escapedKey = true;
    }
    afterString = false;
    if (c === 34) {
      inString = true;
      hadEscape = false;
    } else if (c === 91 || c === 123) {
      if (++depth > maxDepth)
        throw new InputError(name, `JSON nested deeper than ${maxDepth} levels; refusing it`);
    } else if (c === 93 || c === 125) depth--;
  }
  return { keys, escapedKey };
}

/** A duplicate key anywhere in momoa's tree is an error naming its path, line and column. */
function refuseDuplicateKeys(name: string, n: Node, path: string): void {
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
      refuseDuplicateKeys(name, m.value, `${path}.${m.name.value}`);
    }
  } else if (n.type === 'Array')
    (n.elements ?? []).forEach((e, i) => refuseDuplicateKeys(name, e.value, `${path}[${i}]`));
}

/** Parse JSON text strictly: duplicate keys and nesting deeper than the limit are errors. */
export function parseExactJson(
  name: string,
  text: string,
  maxDepth: number = INPUT_LIMITS.maxDepth,
): unknown {
  const { keys, escapedKey } = scanJson(name, text, maxDepth);
  let value: unknown, malformed: Error | undefined;
  try {
    value = JSON.parse(text);
  } catch (e) {
    malformed = e as Error; // momoa names the place, below
  }
  // only a document that may hold a duplicate (or an escaped key) pays for momoa's parse
  if (!malformed && !escapedKey && countKeys(value) === keys) return value;
  momoa ??= createRequire(import.meta.url)('@humanwhocodes/momoa') as Momoa;
  let doc: { body: Node };
  try {
    doc = momoa.parse(text, { mode: 'json', ranges: false, tokens: false });
  } catch (e) {
    throw new InputError(
      name,
      `malformed JSON (${(e as Error).message.split('\n')[0]})${prefixListHint(text)}`,
    );
  }
  refuseDuplicateKeys(name, doc.body, '');
  if (malformed)
    throw new InputError(
      name,
      `malformed JSON (${malformed.message.split('\n')[0]})${prefixListHint(text)}`,
    );
  // no two keys are equal: the value as momoa read it (JSON.parse's was wrong or is not trusted)
  return momoa.evaluate(doc.body);
}

/** A text whose first line is an address or prefix is a prefix list given as a feed: say so. */
function prefixListHint(text: string): string {
  const first = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  return first && /^[0-9A-Fa-f:.]+(\/[0-9]{1,3})?$/.test(first) && /[.:]/.test(first)
    ? '; it looks like a prefix list: pass --input-format prefixes (with --tcp-ports or --udp-ports)'
    : '';
}

/** Own keys of every object in a parsed JSON value. */
function countKeys(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) for (const e of v) n += countKeys(e);
  else
    for (const k in v) {
      n++;
      n += countKeys((v as Record<string, unknown>)[k]);
    }
  return n;
}
