/**
 * Large merged prefix lists kept as intervals until someone asks for the array.
 *
 * A million-line input merges to a few hundred thousand prefixes. As a `string[]` that is one
 * heap string per prefix, split and joined again by every target and by the report. Here the
 * merge keeps the cover as typed-array intervals; the owner's `prefixes` property is an ordinary
 * `string[]` made on first read, and renderers that only join the list (`prefixBytes`) write
 * the text with their separator straight from the intervals. Once the array was handed out the
 * intervals are forgotten: whatever the caller does with the array is what every later join sees.
 */
import { v4CoverBytes, type V4Cover } from './merge.js';
import { v6CoverBytes, type V6Cover } from './v6bulk.js';

/** A merged cover of either family: its prefix count and its text for a separator. */
export interface PrefixCover {
  count: number;
  bytes(sep: string): Buffer;
}

export const v4PrefixCover = (c: V4Cover): PrefixCover => ({
  count: c.count,
  bytes: (sep) => v4CoverBytes(c, sep),
});
export const v6PrefixCover = (c: V6Cover): PrefixCover => ({
  count: c.count,
  bytes: (sep) => v6CoverBytes(c, sep),
});

const COVERS = new WeakMap<object, PrefixCover>();

/** Give `owner` a `prefixes` property backed by `cover`: the array is made when first read. */
export function definePrefixes<T extends object>(
  owner: T,
  cover: PrefixCover,
): T & { prefixes: string[] } {
  let list: string[] | undefined;
  COVERS.set(owner, cover);
  Object.defineProperty(owner, 'prefixes', {
    enumerable: true,
    configurable: true,
    get(): string[] {
      if (!list) {
        list = cover.count ? cover.bytes('\n').toString('latin1').split('\n') : [];
        COVERS.delete(owner);
      }
      return list;
    },
    set(v: string[]) {
      list = v;
      COVERS.delete(owner);
    },
  });
  return owner as T & { prefixes: string[] };
}

/** `to.prefixes = from.prefixes`, keeping the interval form when `from` still has it. */
export function copyPrefixes<T extends object>(
  from: { prefixes: string[] },
  to: T,
): T & { prefixes: string[] } {
  const c = COVERS.get(from);
  if (c) return definePrefixes(to, c);
  return Object.assign(to, { prefixes: from.prefixes });
}

/** How many prefixes, without making the array. */
export function prefixCount(o: { prefixes: readonly string[] }): number {
  return COVERS.get(o)?.count ?? o.prefixes.length;
}

/** Same bytes as `o.prefixes.join(sep)` (sep: ASCII), written from the cover while the array was never made. */
export function prefixBytes(o: { prefixes: readonly string[] }, sep: string): Buffer {
  const c = COVERS.get(o);
  return c ? c.bytes(sep) : Buffer.from(o.prefixes.join(sep), 'utf8');
}
