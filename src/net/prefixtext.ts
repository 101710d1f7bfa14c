/**
 * Large merged prefix lists kept as one block of text until someone asks for the array.
 *
 * A million-line input merges to a few hundred thousand prefixes. As a `string[]` that is one
 * heap string per prefix, split and joined again by every target and by the report. Here the
 * merge writes the canonical prefixes once, newline-separated, into a byte buffer; the owner's
 * `prefixes` property is an ordinary `string[]` made on first read, and renderers that only join
 * the list (`joinPrefixes`) work on the bytes instead. Once the array was handed out the bytes
 * are forgotten: whatever the caller does with the array is what every later join sees.
 */

/** Canonical prefixes ([0-9a-f.:/] only), separated by "\n", no trailing newline. */
export interface PrefixText { bytes: Buffer; count: number }

const TEXTS = new WeakMap<object, PrefixText>();

/** Give `owner` a `prefixes` property backed by `text`: the array is made when first read. */
export function definePrefixes<T extends object>(owner: T, text: PrefixText): T & { prefixes: string[] } {
  let list: string[] | undefined;
  TEXTS.set(owner, text);
  Object.defineProperty(owner, 'prefixes', {
    enumerable: true,
    configurable: true,
    get(): string[] {
      if (!list) {
        list = text.count ? text.bytes.toString('latin1').split('\n') : [];
        TEXTS.delete(owner);
      }
      return list;
    },
    set(v: string[]) {
      list = v;
      TEXTS.delete(owner);
    },
  });
  return owner as T & { prefixes: string[] };
}

/** `to.prefixes = from.prefixes`, keeping the text form when `from` still has it. */
export function copyPrefixes<T extends object>(from: { prefixes: string[] }, to: T): T & { prefixes: string[] } {
  const t = TEXTS.get(from);
  if (t) return definePrefixes(to, t);
  return Object.assign(to, { prefixes: from.prefixes });
}

/** How many prefixes, without making the array. */
export function prefixCount(o: { prefixes: readonly string[] }): number {
  return TEXTS.get(o)?.count ?? o.prefixes.length;
}

/** Same as `o.prefixes.join(sep)` (sep: ASCII), from the bytes while the array was never made. */
export function joinPrefixes(o: { prefixes: readonly string[] }, sep: string): string {
  const t = TEXTS.get(o);
  if (!t) return o.prefixes.join(sep);
  if (t.count === 0) return '';
  if (sep === '\n') return t.bytes.toString('latin1');
  const s = Buffer.from(sep, 'latin1');
  const src = t.bytes, n = src.length, m = s.length;
  const out = Buffer.allocUnsafe(n + (t.count - 1) * (m - 1));
  let p = 0;
  for (let i = 0; i < n; i++) {
    const c = src[i];
    if (c === 10) for (let k = 0; k < m; k++) out[p++] = s[k];
    else out[p++] = c;
  }
  return out.toString('latin1', 0, p);
}
