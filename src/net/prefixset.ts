/**
 * One immutable type for a list of prefixes of one family, whatever its size.
 *
 * A feed's set holds a handful of prefixes as strings. A million-line prefix list is parsed into
 * typed-array intervals (an accumulator) and merged once, on first use; its list is then written
 * as text with any separator straight from the intervals (`bytes`), and becomes an array of
 * strings only when someone asks (`toArray`, iteration). Consumers never see which form a set has.
 */
import { mergePrefixes, v4CoverBytes, V4Accumulator, type V4Cover } from './merge.js';
import type { Family } from './prefix.js';
import { v6CoverBytes, V6Accumulator, type V6Cover } from './v6bulk.js';

type Accumulator = V4Accumulator | V6Accumulator;

export class PrefixSet implements Iterable<string> {
  /** the list, once made (frozen) */
  #list?: readonly string[];
  /** a large list: intervals, merged on first use (the merge is kept by the accumulator) */
  readonly #acc?: Accumulator;

  private constructor(
    readonly family: Family,
    /** how many prefixes were given to make the set (input lines: duplicates and overlaps count) */
    readonly given: number,
    list?: readonly string[],
    acc?: Accumulator,
  ) {
    if (list) this.#list = Object.freeze([...list]);
    this.#acc = acc;
  }

  static readonly EMPTY4 = new PrefixSet(4, 0, []);
  static readonly EMPTY6 = new PrefixSet(6, 0, []);
  static empty(family: Family): PrefixSet {
    return family === 4 ? PrefixSet.EMPTY4 : PrefixSet.EMPTY6;
  }

  /** Canonical prefixes, as they are (not merged). */
  static of(family: Family, prefixes: readonly string[]): PrefixSet {
    return prefixes.length
      ? new PrefixSet(family, prefixes.length, prefixes)
      : PrefixSet.empty(family);
  }

  /** A large list parsed into an accumulator (which the set now owns: add nothing more to it). */
  static ofAccumulator(family: Family, acc: Accumulator): PrefixSet {
    if ((family === 4) !== acc instanceof V4Accumulator)
      throw new Error(`PrefixSet: an IPv${family === 4 ? 6 : 4} accumulator for IPv${family}`);
    return new PrefixSet(family, acc.count, undefined, acc);
  }

  /**
   * The minimal cover of the union of sets of one family. Sets of strings merge as strings; any
   * large set makes it an interval merge. One large set alone is its own cover (merged once, so a
   * list in a TCP and a UDP rule is merged once).
   */
  static union(family: Family, sets: readonly PrefixSet[]): PrefixSet {
    const parts = sets.filter((s) => s.given > 0);
    for (const s of parts)
      if (s.family !== family) throw new Error(`PrefixSet.union: IPv${s.family} in IPv${family}`);
    if (!parts.length) return PrefixSet.empty(family);
    const large = parts.filter((s) => s.#acc);
    if (!large.length) {
      const merged = mergePrefixes(
        family,
        parts.flatMap((s) => s.#list!),
      );
      return new PrefixSet(family, merged.length, merged);
    }
    if (parts.length === 1) return parts[0];
    const acc = family === 4 ? new V4Accumulator() : new V6Accumulator();
    for (const s of parts) {
      if (s.#acc) (acc as V4Accumulator).addAll(s.#acc as V4Accumulator);
      else for (const p of s.#list!) acc.addText(p);
    }
    return new PrefixSet(family, acc.count, undefined, acc);
  }

  /** How many prefixes the list has (for a large set: after merging). */
  get count(): number {
    if (this.#list) return this.#list.length;
    return this.cover().count;
  }

  get isEmpty(): boolean {
    return this.given === 0;
  }

  /** The same bytes as `toArray().join(sep)` (sep: ASCII), written from the intervals when it can. */
  bytes(sep: string): Buffer {
    if (this.#list) return Buffer.from(this.#list.join(sep), 'latin1');
    return this.family === 4
      ? v4CoverBytes(this.cover() as V4Cover, sep)
      : v6CoverBytes(this.cover() as V6Cover, sep);
  }

  /** The prefixes as a frozen array, made once. */
  toArray(): readonly string[] {
    if (!this.#list) {
      const c = this.cover();
      this.#list = Object.freeze(c.count ? this.bytes('\n').toString('latin1').split('\n') : []);
    }
    return this.#list;
  }

  /** JSON.stringify writes the list. */
  toJSON(): readonly string[] {
    return this.toArray();
  }

  [Symbol.iterator](): Iterator<string> {
    return this.toArray()[Symbol.iterator]();
  }

  private cover(): V4Cover | V6Cover {
    return this.#acc!.mergedCover();
  }
}
